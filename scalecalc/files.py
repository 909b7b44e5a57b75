"""Reading users' files with one-line errors, at most a bounded number of bytes whatever they are."""

from __future__ import annotations

import json
import os
import select
import stat
import sys
from pathlib import Path
from typing import Any

from scalecalc.errors import ScalecalcError, safe_text, shown
from scalecalc.inputs import is_text

STDIN = "-"
# A FIFO, pipe or terminal that sends nothing for this long is refused rather than waited on.
QUIET_SECONDS = 10.0
_CHUNK = 1 << 16
# Nesting no file of scalecalc's comes near (a bench row's spec lists sit 5 deep).
MAX_JSON_DEPTH = 32


def read_text(
    path: Path | str,
    limit: int,
    error: type[ScalecalcError],
    expected: str,
    missing_hint: str = "",
) -> str:
    """The UTF-8 text of a user's file of at most `limit` bytes; any failure is one `error` line.

    Reads at most `limit` + 1 bytes, so that devices (/dev/zero), FIFOs and pipes are bounded
    too; "-" reads stdin."""
    shown = "stdin" if str(path) == STDIN else safe_text(path)
    try:
        data = _read_bounded(str(path), limit)
    except FileNotFoundError:
        raise error(f"{shown}: no such file{missing_hint}") from None
    except IsADirectoryError:
        raise error(f"{shown}: is a directory, expected {expected}") from None
    except TimeoutError:
        raise error(f"{shown}: sent nothing for {QUIET_SECONDS:g} s; expected {expected}") from None
    except OSError as failure:
        raise error(f"{shown}: cannot read ({failure.strerror or failure})") from None
    if len(data) > limit:
        raise error(f"{shown}: file is over {limit} bytes; the limit is {limit}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{shown}: not UTF-8 text; expected {expected}") from None


def _read_bounded(path: str, limit: int) -> bytes:
    """At most `limit` + 1 bytes of `path` (stdin for "-"); never blocks on a silent FIFO."""
    if path == STDIN:
        if sys.stdin is None:
            raise OSError(0, "stdin is closed")
        try:
            handle = sys.stdin.fileno()
        except (OSError, ValueError):  # a stream with no file descriptor, as in tests
            return sys.stdin.buffer.read(limit + 1)
        return _read_stream(handle, limit)
    # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one.
    handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        status = os.fstat(handle)
        if stat.S_ISDIR(status.st_mode):
            raise IsADirectoryError(21, "is a directory")
        if stat.S_ISREG(status.st_mode):
            os.set_blocking(handle, True)
            return _read_all(handle, limit)
        return _read_stream(handle, limit)
    finally:
        os.close(handle)


def _read_all(handle: int, limit: int) -> bytes:
    chunks, size = [], 0
    while size <= limit:
        chunk = os.read(handle, min(_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _read_stream(handle: int, limit: int) -> bytes:
    """Read a pipe, FIFO or device until end of file or `limit` + 1 bytes, waiting at most
    QUIET_SECONDS for each chunk; a FIFO that no one writes to reads as empty."""
    chunks, size = [], 0
    while size <= limit:
        if os.get_blocking(handle):
            _wait(handle)
        try:
            chunk = os.read(handle, min(_CHUNK, limit + 1 - size))
        except BlockingIOError:
            _wait(handle)
            continue
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _wait(handle: int) -> None:
    """Return once `handle` has data or reached its end; TimeoutError after QUIET_SECONDS."""
    ready, _, _ = select.select([handle], [], [], QUIET_SECONDS)
    if not ready:
        raise TimeoutError


class _Refused(ValueError):
    """JSON that parses but that no scalecalc writer produces."""


def parse_json(text: str, origin: str, error: type[ScalecalcError], expected: str) -> Any:
    """The JSON document in `text`, refusing what Python's parser lets through: duplicate keys,
    NaN and Infinity, keys with a lone surrogate, integers past Python's digit limit and
    nesting deeper than MAX_JSON_DEPTH; any problem is one `error` line naming `origin`.
    Values are the caller's to check (a string value with a lone surrogate among them)."""
    where = safe_text(origin)
    too_deep = error(f"{where}: not a usable JSON document (nested deeper than {MAX_JSON_DEPTH})")
    try:
        document = json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_no_constant)
    except json.JSONDecodeError as failure:
        raise error(
            f"{where}: not valid JSON at line {failure.lineno}, column {failure.colno}: "
            f"{failure.msg}; expected {expected}"
        ) from None
    except _Refused as failure:
        raise error(f"{where}: {failure}; expected {expected}") from None
    except RecursionError:  # deeper than the parser's own stack
        raise too_deep from None
    except ValueError as failure:  # an integer longer than Python's digit limit
        raise error(f"{where}: not a usable JSON document ({str(failure)[:80]})") from None
    if _depth_over(document, MAX_JSON_DEPTH):
        raise too_deep
    return document


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if not is_text(key):
            raise _Refused(
                f"key {shown(key)} has a lone surrogate escape, which no output can write"
            )
        if key in result:
            raise _Refused(f"duplicate key {shown(key)} in a JSON object")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a valid number")


def _depth_over(document: Any, most: int) -> bool:
    """Whether lists and objects nest deeper than `most` in `document` (no recursion)."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > most:
                return True
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
    return False
