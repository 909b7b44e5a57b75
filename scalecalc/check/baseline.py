"""Model costs as a regression test: the baseline file, drift between it and a run, exit codes.

A baseline is one JSON document (keys sorted, indent 2, trailing newline):

    {"format": "scalecalc-baseline", "version": 1, "convention": "paper", "tool_version": "0.1.0",
     "entries": {"resnet50/base": {"acts": 11114984, "flops": 4089184256,
                                   "params": 25557032, "unsupported_ops": {}}, ...}}

Counts are raw integers; `unsupported_ops` maps an op the counter did not know to its calls.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from scalecalc.costs import CONVENTIONS, MEASURES, Costs
from scalecalc.errors import BaselineError, ConfigError, shown
from scalecalc.inputs import is_finite_number
from scalecalc.jsonfile import load_json
from scalecalc.schema import Invalid, KeyPath, choice, dotted, integer, obj, text
from scalecalc.units import MAX_MODEL_COUNT

FORMAT = "scalecalc-baseline"
VERSION = 1
TOP_KEYS = ("convention", "entries", "format", "tool_version", "version")
ENTRY_KEYS = (*MEASURES, "unsupported_ops")
KINDS = ("changed", "missing", "new", "unsupported")
# Counts of a model, and calls of an op the counter did not know.
COUNT = integer(0, MAX_MODEL_COUNT)
CALLS = integer(1, MAX_MODEL_COUNT)
# Far above any real baseline (about 150 bytes an entry), low enough to refuse a wrong file fast.
MAX_BASELINE_BYTES = 64 << 20


@dataclass(frozen=True)
class BaselineEntry:
    """The costs of one entry as a baseline keeps them: raw counts and unsupported op calls."""

    flops: int
    params: int
    acts: int
    unsupported_ops: tuple[tuple[str, int], ...] = ()

    def measure(self, name: str) -> int:
        """One of flops, params, acts."""
        return getattr(self, name)


@dataclass(frozen=True)
class Baseline:
    """A validated baseline file: the convention it was counted with and an entry per key."""

    path: str
    convention: str
    tool_version: str
    entries: dict[str, BaselineEntry]


class Counted(Protocol):
    """Anything with a stable key and costs, such as compare.CompareRow."""

    @property
    def key(self) -> str: ...

    @property
    def costs(self) -> Costs: ...


@dataclass(frozen=True)
class Drift:
    """One difference between baseline and run; measure is flops, params, acts, an op or 'entry'."""

    key: str
    measure: str
    kind: str
    baseline: int | None = None
    current: int | None = None

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind

    @property
    def change_percent(self) -> float | None:
        """100·(current − baseline)/baseline; None when either is absent or the baseline is 0."""
        if self.baseline is None or self.current is None or self.baseline == 0:
            return None
        return 100 * (self.current - self.baseline) / self.baseline


@dataclass(frozen=True)
class Outcome:
    """What a check found, for the renderers: drifts and the context to explain them."""

    drifts: tuple[Drift, ...]
    entries: int
    convention: str
    rtol: float
    baseline: str
    updated: bool = False
    baseline_tool_version: str | None = None
    tool_version: str | None = None


def entry_of(costs: Costs) -> BaselineEntry:
    """The baseline entry of a model's costs."""
    ops = tuple(sorted(dict(costs.unsupported).items()))
    return BaselineEntry(costs.flops, costs.params, costs.acts, ops)


def entries_of(rows: Sequence[Counted]) -> dict[str, BaselineEntry]:
    """Baseline entries by key, in row order; a key twice is a bug of the caller."""
    result = {row.key: entry_of(row.costs) for row in rows}
    assert len(result) == len(rows), "rows with duplicate keys"
    return result


def check_rtol(rtol: float) -> float:
    """`rtol` if it is a finite number >= 0, else a ConfigError naming the option."""
    if not is_finite_number(rtol) or rtol < 0:
        raise ConfigError(f"--rtol: must be a finite number >= 0, got {shown(rtol)}")
    return float(rtol)


def within(baseline: int, current: int, rtol: float) -> bool:
    """Whether `current` is within relative tolerance `rtol` of `baseline` (exact when 0)."""
    return abs(current - baseline) <= rtol * abs(baseline)


def diff(baseline: Baseline, rows: Sequence[Counted], rtol: float = 0.0) -> list[Drift]:
    """Every drift beyond tolerance (params always exact), sorted by key then measure."""
    check_rtol(rtol)
    current = entries_of(rows)
    drifts = []
    for key in baseline.entries.keys() - current.keys():
        drifts.append(Drift(key, "entry", "missing"))
    for key, now in current.items():
        before = baseline.entries.get(key)
        if before is None:
            drifts.append(Drift(key, "entry", "new"))
            continue
        for measure in MEASURES:
            old, new = before.measure(measure), now.measure(measure)
            tolerance = 0.0 if measure == "params" else rtol
            if not within(old, new, tolerance):
                drifts.append(Drift(key, measure, "changed", old, new))
        old_ops, new_ops = dict(before.unsupported_ops), dict(now.unsupported_ops)
        for op in sorted(old_ops.keys() | new_ops.keys()):
            if old_ops.get(op, 0) != new_ops.get(op, 0):
                drifts.append(Drift(key, op, "unsupported", old_ops.get(op, 0), new_ops.get(op, 0)))
    order = {name: index for index, name in enumerate(("entry", *MEASURES))}
    return sorted(drifts, key=lambda d: (d.key, order.get(d.measure, len(order)), d.measure))


def exit_code(drifts: Sequence[Drift], update: bool = False) -> int:
    """0 when nothing drifted or the baseline was just rewritten; 1 on any drift."""
    return 0 if update or not drifts else 1


def require_convention(baseline: Baseline, convention: str) -> None:
    """A BaselineError unless the run counts with the baseline's convention."""
    if baseline.convention != convention:
        raise BaselineError(
            f"{baseline.path}: convention: the baseline was counted with the "
            f"{baseline.convention!r} convention, this run uses {convention!r}; pass "
            f"--convention {baseline.convention} (or rewrite the baseline with --update)"
        )


@dataclass(frozen=True)
class CheckRun:
    """A finished check: what to report, the new baseline text (with --update), notes."""

    outcome: Outcome
    new_baseline: str | None
    notes: tuple[str, ...]

    @property
    def exit_code(self) -> int:
        """0 when everything held (or the baseline was rewritten), 1 on drift."""
        return exit_code(self.outcome.drifts, self.outcome.updated)


def open_baseline(path: Path, convention: str, update: bool) -> Baseline | None:
    """The baseline to compare with, checked against the run's convention before any counting;
    None when --update creates it."""
    old = read_old_baseline(path, update)
    if old is not None and not update:
        require_convention(old, convention)
    return old


def run_check(
    rows: Sequence[Counted],
    convention: str,
    baseline_path: Path,
    old: Baseline | None,
    rtol: float,
    update: bool,
    tool_version: str,
) -> CheckRun:
    """Compare `rows`, counted with `convention`, against `old` (the baseline at
    `baseline_path`); with `update`, also render the baseline that replaces it."""
    rtol = check_rtol(rtol)
    notes = []
    old_version = None if old is None else old.tool_version
    if old is not None and update and old.convention != convention:
        notes.append(
            f"check: the baseline changes from the {old.convention} to the {convention} convention"
        )
    if old_version is not None and old_version != tool_version and not update:
        notes.append(
            f"check: note: the baseline was written by scalecalc {old_version}, "
            f"this is {tool_version}"
        )
    empty = Baseline(str(baseline_path), convention, tool_version, {})
    outcome = Outcome(
        drifts=tuple(diff(old or empty, rows, 0.0 if update else rtol)),
        entries=len(rows),
        convention=convention,
        rtol=rtol,
        baseline=str(baseline_path),
        updated=update,
        baseline_tool_version=old_version,
        tool_version=tool_version,
    )
    text = format_baseline(entries_of(rows), convention, tool_version) if update else None
    return CheckRun(outcome, text, tuple(notes))


def read_old_baseline(path: Path, update: bool) -> Baseline | None:
    """The baseline to compare with; None when --update creates it."""
    if update and not path.exists():
        return None
    try:
        return read_baseline(path)
    except BaselineError as error:
        # Refusing to overwrite guards against --baseline naming some other file by mistake.
        hint = "; delete it to write a new one" if update and path.is_file() else ""
        raise BaselineError(f"{error}{hint}") from None


# --- the file ---


def format_baseline(
    entries: Mapping[str, BaselineEntry], convention: str, tool_version: str
) -> str:
    """The baseline document: sorted keys, indent 2, a trailing newline."""
    assert convention in CONVENTIONS, convention
    document = {
        "format": FORMAT,
        "version": VERSION,
        "convention": convention,
        "tool_version": tool_version,
        "entries": {
            key: {
                "flops": entry.flops,
                "params": entry.params,
                "acts": entry.acts,
                "unsupported_ops": dict(entry.unsupported_ops),
            }
            for key, entry in entries.items()
        },
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def read_baseline(path: str | Path) -> Baseline:
    """A validated baseline; any problem is a one-line BaselineError naming the file and key."""
    path = Path(path)
    data = load_json(
        path, "a baseline JSON file", BaselineError, MAX_BASELINE_BYTES, "; create it with --update"
    )
    try:
        return _parse(data, path)
    except Invalid as invalid:
        raise BaselineError(f"{path}: {_where(invalid.path)}: {invalid.problem}") from None


def _parse(data: Any, path: Path) -> Baseline:
    def bad(message: str) -> BaselineError:
        return BaselineError(f"{path}: {message}")

    obj(data, ())
    if data.get("format") != FORMAT:
        got = f"format {shown(data['format'])}" if "format" in data else "no 'format' key"
        raise bad(f"format: not a scalecalc baseline ({got}, expected {FORMAT!r})")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise bad(f"version: must be the integer {VERSION}, got {shown(version)}")
    if version != VERSION:
        newer = "; it was written by a newer scalecalc" if version > VERSION else ""
        raise bad(f"version: {version} is not supported, this scalecalc reads {VERSION}{newer}")
    obj(data, (), TOP_KEYS, optional=())
    convention = choice(CONVENTIONS)(data["convention"], ("convention",))
    tool_version = text(data["tool_version"], ("tool_version",))
    entries = obj(data["entries"], ("entries",))
    blank = next((key for key in entries if not key.strip()), None)
    if blank is not None:
        raise bad(f"entries: {shown(blank)} is not a valid entry key")
    parsed = {key: _entry(value, ("entries", key)) for key, value in entries.items()}
    return Baseline(str(path), convention, tool_version, parsed)


def _where(path: KeyPath) -> str:
    """A key path as baseline errors name it, e.g. entry 'resnet50/base': unsupported_ops: 'op'."""
    if len(path) < 2 or path[0] != "entries":
        return dotted(path)
    inside = [str(key) for key in path[2:3]] + [shown(key) for key in path[3:]]
    return ": ".join([f"entry {shown(path[1])}", *inside])


def _entry(value: Any, path: KeyPath) -> BaselineEntry:
    obj(value, path, ENTRY_KEYS, optional=())
    counts = {m: COUNT(value[m], (*path, m)) for m in MEASURES}
    ops = obj(value["unsupported_ops"], (*path, "unsupported_ops"))
    calls = tuple(
        (op, CALLS(calls, (*path, "unsupported_ops", op))) for op, calls in sorted(ops.items())
    )
    return BaselineEntry(counts["flops"], counts["params"], counts["acts"], calls)
