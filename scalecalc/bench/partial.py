"""A bench run's finished measurements, streamed to a JSON-lines file beside `--output` as they
complete, so that an interrupted or killed run can be resumed instead of measured again."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from scalecalc.bench.results import PARTIAL_FORMAT, PartialFile, partial_exists, read_partial
from scalecalc.bench.results import OPTIONAL_SETUP
from scalecalc.atomic import replace_file
from scalecalc.errors import ConfigError
from scalecalc.bench.measurement import Measurement

if TYPE_CHECKING:
    from scalecalc.compare.run import CompareRow
    from scalecalc.cli.outputs import Destination

SUFFIX = ".partial.jsonl"
NOTE = (
    "PARTIAL: measurements of an unfinished `scalecalc bench` run, one per line after this "
    "header; rerun the same command with --resume to measure only the rest"
)
Previous = dict[tuple[str, int], Measurement]


def partial_path(output: Destination) -> Path:
    """Where the measurements of a run writing `output` go while it runs: OUTPUT.partial.jsonl
    beside the file written, named as the user named --output (relative stays relative)."""
    assert output.target is not None, "stdout has no partial file"
    given = Path(output.given)
    # A symlinked --output is written at its target: the partial file goes beside that.
    place = output.target if given.is_symlink() else given
    return place.with_name(place.name + SUFFIX)


def check_partial_name(output: Destination) -> None:
    """ConfigError if the partial file's name is longer than the folder allows: the output's
    name plus SUFFIX must fit too."""
    path = partial_path(output)
    try:
        most = os.pathconf(path.parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        most = 255
    size = len(os.fsencode(path.name))
    if size > most:
        raise ConfigError(
            f"--output: a name of {size - len(SUFFIX)} bytes; bench keeps its measurements "
            f"beside it in NAME{SUFFIX} while it runs, and a name here has at most {most} "
            f"bytes: use a name of at most {most - len(SUFFIX)} bytes"
        )


def _plain(value: Any) -> Any:
    """`value` as it reads back from JSON (tuples become lists), for comparing with a file."""
    return json.loads(json.dumps(value))


def _differing(recorded: Mapping[str, Any], setup: Mapping[str, Any]) -> str | None:
    for key in sorted({*recorded, *setup}):
        if recorded.get(key) != setup.get(key):
            return f"{key} {recorded.get(key)!r}, this run has {setup.get(key)!r}"
    return None


def open_partial(output: Destination, resume: bool) -> PartialFile | None:
    """The partial file beside `output`, validated; None if there is none, or the output is
    stdout, a FIFO or a device (no partial file then). ConfigError if `resume` has no output
    file, the partial file's name is too long, something other than a regular file is in its
    place, or one is there without `resume`. Needs no torch: run before anything is imported."""
    if output.target is None or output.in_place:
        if resume:
            raise ConfigError("--resume: needs --output FILE (the partial file sits beside it)")
        return None
    check_partial_name(output)
    path = partial_path(output)
    if not partial_exists(path):
        return None
    partial = read_partial(path)
    if not resume:
        raise ConfigError(
            f"{path} holds {len(partial.records)} measurements of an interrupted run; "
            "pass --resume to continue it, or delete it"
        )
    return partial


def check_setup(partial: PartialFile, setup: Mapping[str, Any]) -> None:
    """ConfigError unless the partial file was measured with this run's setup."""
    difference = _differing(partial.setup, {**OPTIONAL_SETUP, **_plain(dict(setup))})
    if difference is not None:
        raise ConfigError(
            f"--resume: {partial.path} was measured with {difference}; rerun with the same "
            "settings or delete it"
        )


def _measurement(record: Mapping[str, Any]) -> Measurement:
    return Measurement(
        tuple(float(t) for t in record["times_s"]),
        record["batch_size"],
        record["peak_memory_bytes"],
        record["estimate_bytes"],
    )


def reusable(
    records: Sequence[Mapping[str, Any]], rows: Sequence[CompareRow], rounds: int
) -> tuple[Previous, list[dict[str, Any]]]:
    """The recorded measurements of this run's models, by (key, round), and their records
    (validated by bench.results.read_partial). A record counts only if its key is the first of
    its spec in `rows`, as in nn.bench.run, it recorded the same spec and its round is one this
    run has; any other is dropped (a model of another sweep)."""
    first: dict[Any, str] = {}
    for row in rows:
        first.setdefault(row.spec, row.key)
    wanted = {key: _plain(spec.to_dict()) for spec, key in first.items()}
    previous: Previous = {}
    kept: dict[tuple[str, int], dict[str, Any]] = {}
    for record in records:
        key, round_index = record["key"], record["round"]
        if wanted.get(key) != record["spec"] or not 0 <= round_index < rounds:
            continue
        previous[key, round_index] = _measurement(record)
        kept[key, round_index] = dict(record)
    return previous, list(kept.values())


def _record(row: CompareRow, round_index: int, measured: Measurement) -> dict[str, Any]:
    return {
        "key": row.key,
        "round": round_index,
        "spec": row.spec.to_dict(),
        "times_s": list(measured.times),
        "batch_size": measured.batch_size,
        "peak_memory_bytes": measured.peak_memory,
        "estimate_bytes": measured.estimate,
    }


def _line(record: Mapping[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"


class PartialWriter:
    """The partial file of one run: a header naming the setup, then one measurement per line,
    each flushed and synced to disk before the next model starts."""

    def __init__(self, path: Path, setup: Mapping[str, Any], kept: Sequence[Mapping[str, Any]]):
        self.path = path
        self.count = len(kept)
        header = {"format": PARTIAL_FORMAT, "partial": True, "note": NOTE, "setup": dict(setup)}
        # Replaced whole, so that a kill keeps either the old file or the new one.
        replace_file(path, "".join(_line(r) for r in [header, *kept]).encode("utf-8"))
        self._file: IO[str] | None = path.open("a", encoding="utf-8")

    def add(self, round_index: int, row: CompareRow, measured: Measurement) -> None:
        """Append one finished measurement and sync it to disk."""
        assert self._file is not None, "add after close"
        self._file.write(_line(_record(row, round_index, measured)))
        self._file.flush()
        os.fsync(self._file.fileno())
        self.count += 1

    def close(self) -> None:
        """Close the file, keeping it."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def remove(self) -> None:
        """Close and delete the file: the run finished, or it had measured nothing."""
        self.close()
        self.path.unlink(missing_ok=True)
