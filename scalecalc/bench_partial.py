"""A bench run's finished measurements, streamed to a JSON-lines file beside `--output` as they
complete, so that an interrupted or killed run can be resumed instead of measured again."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from scalecalc.errors import ConfigError
from scalecalc.measurement import Measurement

if TYPE_CHECKING:
    from scalecalc.compare import CompareRow

FORMAT = "scalecalc bench partial"
SUFFIX = ".partial.jsonl"
NOTE = (
    "PARTIAL: measurements of an unfinished `scalecalc bench` run, one per line after this "
    "header; rerun the same command with --resume to measure only the rest"
)
Previous = dict[tuple[str, int], Measurement]


def partial_path(output: Path) -> Path:
    """Where the measurements of a run writing `output` go while it runs: OUTPUT.partial.jsonl."""
    return output.with_name(output.name + SUFFIX)


def _plain(value: Any) -> Any:
    """`value` as it reads back from JSON (tuples become lists), for comparing with a file."""
    return json.loads(json.dumps(value))


def _differing(recorded: Mapping[str, Any], setup: Mapping[str, Any]) -> str | None:
    for key in sorted({*recorded, *setup}):
        if recorded.get(key) != setup.get(key):
            return f"{key} {recorded.get(key)!r}, this run has {setup.get(key)!r}"
    return None


def read_partial(path: Path, setup: Mapping[str, Any], resume: bool) -> list[dict[str, Any]]:
    """The measurement records of `path` (none if it does not exist). ConfigError if it exists
    without `resume`, is not a partial file, or was measured with another setup."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the partial bench file ({error})") from None
    if not resume:
        raise ConfigError(
            f"{path} holds {max(0, len(lines) - 1)} measurements of an interrupted run; "
            "pass --resume to continue it, or delete it"
        )
    records = []
    for number, line in enumerate(lines):
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines) - 1 and number > 0:
                break  # the last line, cut short when the run was killed while writing it
            raise ConfigError(f"--resume: {path}: line {number + 1} is not JSON") from None
        records.append(record)
    header = records[0] if records else None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ConfigError(f"--resume: {path}: not a partial file of `scalecalc bench`")
    difference = _differing(header.get("setup", {}), _plain(dict(setup)))
    if difference is not None:
        raise ConfigError(
            f"--resume: {path} was measured with {difference}; rerun with the same settings "
            "or delete it"
        )
    return records[1:]


def _measurement(record: Mapping[str, Any]) -> Measurement:
    return Measurement(
        tuple(float(t) for t in record["times_s"]),
        int(record["batch_size"]),
        None if record["peak_memory_bytes"] is None else int(record["peak_memory_bytes"]),
        int(record["estimate_bytes"]),
    )


def reusable(
    records: Sequence[Mapping[str, Any]], rows: Sequence[CompareRow], rounds: int
) -> tuple[Previous, list[dict[str, Any]]]:
    """The recorded measurements of this run's models, by (key, round), and their records.
    A record counts only if its key is the first of its spec in `rows`, as in bench.run, and
    it recorded the same spec; any other record is dropped."""
    first: dict[Any, str] = {}
    for row in rows:
        first.setdefault(row.spec, row.key)
    wanted = {key: _plain(spec.to_dict()) for spec, key in first.items()}
    previous: Previous = {}
    kept: dict[tuple[str, int], dict[str, Any]] = {}
    for record in records:
        try:
            key, round_index = record["key"], int(record["round"])
            if wanted.get(key) != record["spec"] or not 0 <= round_index < rounds:
                continue
            previous[key, round_index] = _measurement(record)
        except (KeyError, TypeError, ValueError):
            continue  # a damaged record: that model is measured again
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


def _replace(path: Path, text: str) -> None:
    """Write `text` to `path` through a synced temporary file, so that a kill keeps either the
    old file or the new one; the mode is what the umask gives a new file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class PartialWriter:
    """The partial file of one run: a header naming the setup, then one measurement per line,
    each flushed and synced to disk before the next model starts."""

    def __init__(self, path: Path, setup: Mapping[str, Any], kept: Sequence[Mapping[str, Any]]):
        self.path = path
        self.count = len(kept)
        header = {"format": FORMAT, "partial": True, "note": NOTE, "setup": dict(setup)}
        _replace(path, "".join(_line(r) for r in [header, *kept]))
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
