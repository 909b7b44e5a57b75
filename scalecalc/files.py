"""Reading users' files with one-line errors, at most a bounded number of bytes whatever they are."""

from __future__ import annotations

import os
import select
import stat
import sys
from pathlib import Path

from scalecalc.errors import ScalecalcError, safe_text

STDIN = "-"
# A FIFO, pipe or terminal that sends nothing for this long is refused rather than waited on.
QUIET_SECONDS = 10.0
_CHUNK = 1 << 16


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
