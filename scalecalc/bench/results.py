"""The one reader of `scalecalc bench` results: its JSON output (for `compare --bench` and
`profile fit`) and the partial file of an unfinished run (for `bench --resume`).

Both are read bounded (scalecalc.files), parsed strictly and validated field by field, so
that every number a report, a join or a fit uses is there, of its type and in its range; any
problem is one line naming the file, the key and what is allowed.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scalecalc.costs import CONVENTIONS
from scalecalc.errors import ConfigError, ScalecalcError, safe_text, shown
from scalecalc.files import read_text
from scalecalc.jsonfile import parse_json
from scalecalc.profile.model import MODES
from scalecalc.schema import (
    Check,
    Invalid,
    KeyPath,
    array,
    choice,
    fields,
    integer,
    nullable,
    number,
    obj,
    positive,
    text,
)
from scalecalc.step_options import DEVICE_KINDS, DTYPE_NAMES
from scalecalc.units import MAX_COUNT

# One limit for every bench file: the default sweep's JSON is 20 kB, its partial file 5 kB.
MAX_BENCH_BYTES = 16 << 20
EXPECTED = "the JSON output of `scalecalc bench --format json`"
PARTIAL_FORMAT = "scalecalc bench partial"
# How to go on from a partial file that cannot be used.
PARTIAL_FIX = "delete it to measure everything again"
MAX_SETTING = 10**9
# Seconds per timed iteration: from a nanosecond to about 11 days.
TIME_RANGE = (1e-9, 1e6)
MAX_MEMORY_BYTES = 2**60

SETTING = integer(1, MAX_SETTING)
COUNT = integer(1, MAX_COUNT)
SECONDS = number(*TIME_RANGE, what="seconds")
TIMES = array(SECONDS, "seconds", non_empty=True)
MEMORY = integer(0, MAX_MEMORY_BYTES)
# What bench writes in `setup`; OPTIONAL_SETUP's keys may be absent (older files), with these
# values then.
SETUP: dict[str, Check] = {
    "device": text,
    "torch": text,
    "mode": choice(MODES),
    "batch_size": SETTING,
    "dtype": choice(DTYPE_NAMES),
    "warmup": integer(0, MAX_SETTING),
    "iters": SETTING,
    "convention": choice(CONVENTIONS),
    "rounds": SETTING,
    "threads": SETTING,
    "device_kind": choice(DEVICE_KINDS),
}
OPTIONAL_SETUP: dict[str, Any] = {"rounds": 1, "threads": None, "device_kind": None}
# The fields of a bench row that readers use; its other fields are compare's row, compared as
# they are.
ROW: dict[str, Check] = {
    "key": text,
    "family": text,
    "spec": obj,
    "flops": COUNT,
    "params": COUNT,
    "acts": COUNT,
    "runtime": obj,
}
RUNTIME: dict[str, Check] = {
    "median_s": SECONDS,
    "throughput": positive,
    "batch_size": SETTING,
    "times_s": TIMES,
    "peak_memory_bytes": nullable(MEMORY),
    "estimate_bytes": MEMORY,
}
OPTIONAL_ROW = ("spec",)
OPTIONAL_RUNTIME = ("times_s", "peak_memory_bytes", "estimate_bytes")
# What tells models apart in rows without a spec.
MODEL_FIELDS = ("family", "resolution", "depths", "widths", "flops", "params", "acts")
# One measurement of a partial file, as bench_partial writes it.
RECORD: dict[str, Check] = {
    "key": text,
    "round": integer(0, MAX_SETTING),
    "spec": obj,
    "times_s": TIMES,
    "batch_size": SETTING,
    "peak_memory_bytes": nullable(MEMORY),
    "estimate_bytes": MEMORY,
}


def check_setup(value: Any) -> dict[str, Any]:
    """A bench setup, each field of SETUP typed and in range, absent optional ones filled in."""
    return {**OPTIONAL_SETUP, **fields(value, ("setup",), SETUP, OPTIONAL_SETUP)}


def model_key(row: Mapping[str, Any]) -> str:
    """One text per model, equal for rows of the same model: its spec, or in files written
    before rows carried one, its family, shape and counts."""
    model = row["spec"] if "spec" in row else {field: row.get(field) for field in MODEL_FIELDS}
    return json.dumps(model, sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class BenchFile:
    """A validated bench JSON file: its setup and its rows, each as bench wrote it."""

    path: str
    setup: dict[str, Any]
    rows: list[dict[str, Any]]

    def by_key(self) -> dict[str, dict[str, Any]]:
        """The rows by key (keys are unique)."""
        return {row["key"]: row for row in self.rows}

    def distinct(self) -> list[dict[str, Any]]:
        """One row per model (model_key): bench times a spec the sweep lists under two keys
        once, so only its first row counts; different models all count, whatever their
        counts."""
        first: dict[str, dict[str, Any]] = {}
        for row in self.rows:
            first.setdefault(model_key(row), row)
        return list(first.values())


def _check_row(row: Any, where: KeyPath, batch_size: int) -> dict[str, Any]:
    fields(row, where, ROW, OPTIONAL_ROW)
    runtime = fields(row["runtime"], (*where, "runtime"), RUNTIME, OPTIONAL_RUNTIME)
    if runtime["batch_size"] != batch_size:
        raise Invalid(
            (*where, "runtime", "batch_size"),
            f"{runtime['batch_size']} is not the setup's batch_size {batch_size}",
        )
    return dict(row)


def read_bench(path: str | Path, error: type[ScalecalcError] = ConfigError) -> BenchFile:
    """A `scalecalc bench --format json` file, validated: the setup, and per row its key
    (unique), family, spec, counts and runtime at the setup's batch size."""
    return parse_bench(read_text(path, MAX_BENCH_BYTES, error, EXPECTED), path, error)


def parse_bench(
    content: str, path: str | Path, error: type[ScalecalcError] = ConfigError
) -> BenchFile:
    """read_bench of text already read (bounded) from `path`."""
    document = parse_json(content, str(path), error, EXPECTED)
    try:
        fields(document, (), {"setup": obj, "rows": array()})
        setup = check_setup(document["setup"])
        rows: list[dict[str, Any]] = []
        keys: set[str] = set()
        for index, row in enumerate(document["rows"]):
            rows.append(_check_row(row, ("rows", index), setup["batch_size"]))
            if rows[-1]["key"] in keys:
                raise Invalid(("rows", index, "key"), f"{shown(rows[-1]['key'])} appears twice")
            keys.add(rows[-1]["key"])
    except Invalid as invalid:
        raise error(f"{safe_text(path)}: {invalid}") from None
    return BenchFile(str(path), setup, rows)


@dataclass(frozen=True)
class PartialFile:
    """The partial file of an unfinished run: the setup in its header, its measurements."""

    path: Path
    setup: dict[str, Any]
    records: list[dict[str, Any]]


def partial_exists(path: Path) -> bool:
    """Whether a partial file is at `path`; ConfigError if something else is there (a link,
    FIFO, device or folder), which bench neither reads nor replaces."""
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as failure:
        raise ConfigError(f"{safe_text(path)}: cannot use ({failure.strerror})") from None
    if stat.S_ISREG(status.st_mode):
        return True
    if stat.S_ISLNK(status.st_mode):
        kind = "a symbolic link"
    else:
        kind = "a folder" if stat.S_ISDIR(status.st_mode) else "a FIFO, device or socket"
    raise ConfigError(
        f"{safe_text(path)} is {kind}, where bench keeps the partial file of --output; "
        "remove it or choose another --output"
    )


def _parses(line: str) -> bool:
    try:
        json.loads(line)
    except (ValueError, RecursionError):
        return False
    return True


def read_partial(path: Path) -> PartialFile:
    """A partial file's setup and records, validated line by line (ConfigError naming the file,
    the line and the key); a last line cut short by a kill while it was written is dropped."""
    try:
        content = read_text(path, MAX_BENCH_BYTES, ConfigError, "a partial bench file")
    except ConfigError as error:
        raise ConfigError(f"{error}; {PARTIAL_FIX}") from None
    lines = content.splitlines()
    if len(lines) > 1 and not content.endswith("\n") and not _parses(lines[-1]):
        lines.pop()
    shown_path = safe_text(path)
    setup: dict[str, Any] = {}
    records = []
    for line_number, line in enumerate(lines, 1):
        where = f"{path}: line {line_number}"
        try:
            record = parse_json(line, where, ConfigError, "one JSON object per line")
            if line_number == 1:
                if not isinstance(record, dict) or record.get("format") != PARTIAL_FORMAT:
                    raise ConfigError(f"{shown_path}: not a partial file of `scalecalc bench`")
                setup = check_setup(record.get("setup"))
                continue
            fields(record, (), RECORD)
            if record["batch_size"] != setup["batch_size"]:
                raise Invalid(
                    ("batch_size",),
                    f"{record['batch_size']} is not the run's batch_size {setup['batch_size']}",
                )
        except ConfigError as error:
            raise ConfigError(f"{error}; {PARTIAL_FIX}") from None
        except Invalid as invalid:
            raise ConfigError(f"{safe_text(where)}: {invalid}; {PARTIAL_FIX}") from None
        records.append(record)
    if not lines:
        raise ConfigError(f"{shown_path}: empty, not a partial file; {PARTIAL_FIX}")
    return PartialFile(path, setup, records)
