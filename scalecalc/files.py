"""Reading users' files with one-line errors; writing files so a failure leaves the old one."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from scalecalc.errors import ConfigError, ScalecalcError


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ConfigError(f"{path}: directory {directory} does not exist")
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if isinstance(data, str):
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
        else:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_text(
    path: Path,
    limit: int,
    error: type[ScalecalcError],
    expected: str,
    missing_hint: str = "",
) -> str:
    """The UTF-8 text of a user's file of at most `limit` bytes (`-`: standard input); any
    failure is one `error` line."""
    if str(path) == "-":
        return _read_stdin(limit, error, expected)
    try:
        size = path.stat().st_size
        if size > limit:
            raise error(f"{path}: file is {size} bytes; the limit is {limit}")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: no such file{missing_hint}") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, expected {expected}") from None
    except UnicodeDecodeError:
        raise error(f"{path}: not UTF-8 text; expected {expected}") from None
    except OSError as failure:
        raise error(f"{path}: cannot read ({failure.strerror})") from None


def _read_stdin(limit: int, error: type[ScalecalcError], expected: str) -> str:
    """Standard input as text, reading at most one byte past `limit` whatever feeds it."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise error(f"-: standard input is closed; expected {expected}")
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise error(f"-: standard input is over the limit of {limit} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"-: standard input is not UTF-8 text; expected {expected}") from None
