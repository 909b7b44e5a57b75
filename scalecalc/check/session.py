"""A run of `scalecalc check`: the models of the sweeps and configs given, recounted and
compared with the baseline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from scalecalc.config import load, preset_names
from scalecalc.errors import ConfigError, shown
from scalecalc.registry import list_presets
from scalecalc.sweep import DEFAULT_SWEEP, Entry, expand
from scalecalc.sweep_file import read_sweep, valid_convention

if TYPE_CHECKING:
    from scalecalc.check.baseline import CheckRun


@dataclass(frozen=True)
class CheckOptions:
    """What `scalecalc check` is asked: sources (sweep files, configs, presets; none: the
    default sweep), the baseline, the drift allowed, and whether to rewrite the baseline."""

    baseline: Path
    sources: tuple[str, ...] = ()
    rtol: float = 0.0
    presets: bool = False
    update: bool = False
    convention: str | None = None


def check_sources(options: CheckOptions) -> CheckRun:
    """Recount every entry and compare with the baseline (read and checked before counting)."""
    import scalecalc
    from scalecalc.check import baseline as check
    from scalecalc.compare import run as compare

    rtol = check.check_rtol(options.rtol)
    sources = list(options.sources)
    entries, convention = check_entries(sources, options.presets, options.convention)
    old = check.open_baseline(options.baseline, convention, options.update)
    rows = compare.run(entries, convention)
    version = scalecalc.__version__
    update = options.update
    return check.run_check(rows, convention, options.baseline, old, rtol, update, version)


def check_entries(
    sources: list[str], presets: bool, convention: str | None
) -> tuple[list[Entry], str]:
    """What `scalecalc check` recounts: the entries of the sweeps and models named (the default
    sweep when none are), and every preset with `presets`, in order and without repeats; and
    the convention to count with (given, else the sweeps' own)."""
    if convention is not None:
        valid_convention(convention, "--convention")
    entries: list[tuple[Entry, str]] = []
    conventions: dict[str, str] = {}
    if not sources:
        entries += [(e, "the default sweep") for e in expand(DEFAULT_SWEEP)]
        conventions["the default sweep"] = DEFAULT_SWEEP.convention
    for source in sources:
        if _is_sweep_file(source):
            sweep = read_sweep(source)
            entries += [(e, source) for e in expand(sweep, source)]
            conventions[source] = sweep.convention
        else:
            model = load(source)
            entries.append((Entry(f"{model.name}/base", model), source))
    if presets:
        entries += [(Entry(f"{name}/base", load(name)), "--presets") for name in list_presets()]
    if convention is None:
        found = set(conventions.values())
        if len(found) > 1:
            listed = ", ".join(f"{where}: {name}" for where, name in conventions.items())
            raise ConfigError(f"the sweeps use different conventions ({listed}); pass --convention")
        convention = found.pop() if found else "paper"
    return _unique(entries), convention


def _is_sweep_file(source: str) -> bool:
    """Whether `source` is a sweep file: a YAML mapping with a `bases` or `strategies` key."""
    if source in preset_names() or Path(source).suffix not in (".yaml", ".yml"):
        return False
    from scalecalc.yamlfile import read_yaml

    data = read_yaml(Path(source))
    return isinstance(data, dict) and ("bases" in data or "strategies" in data)


def _unique(entries: list[tuple[Entry, str]]) -> list[Entry]:
    """Entries with repeats dropped; one key for two different models is an error."""
    seen: dict[str, tuple[Entry, str]] = {}
    for entry, where in entries:
        if entry.key in seen:
            first, first_where = seen[entry.key]
            if first != entry:
                raise ConfigError(
                    f"{where}: entry {shown(entry.key)} is also defined, differently, by "
                    f"{first_where}; "
                    "give one model another 'name:'"
                )
            continue
        seen[entry.key] = (entry, where)
    return [entry for entry, _ in seen.values()]
