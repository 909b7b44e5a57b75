"""Where outputs go: destinations checked before any work, then written all or nothing."""

from __future__ import annotations

import os
import signal
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scalecalc.atomic import synced_temporary
from scalecalc.errors import ScalecalcError, safe_text

STDOUT = "-"
# What a terminal or file that cannot encode the report's symbols gets instead.
ASCII_FALLBACK = str.maketrans(
    {
        "∝": "~",
        "×": "x",
        "—": "--",
        "–": "-",
        "−": "-",
        "…": "...",
        "±": "+/-",
        "≈": "~",
        "·": "*",
        "≤": "<=",
        "≥": ">=",
        "→": "->",
        "²": "^2",
        "µ": "u",
    }
)
_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_written: list[str] = []


class OutputError(ScalecalcError):
    """An output that cannot be written, named before any work or when writing failed."""


class BrokenPipe(ScalecalcError):
    """The reader of stdout went away; exits like a process killed by SIGPIPE."""

    exit_code = 128 + signal.SIGPIPE


@dataclass(frozen=True)
class Destination:
    """One output: stdout, a device or FIFO written in place, or a file replaced atomically."""

    option: str
    given: str
    target: Path | None  # None: stdout
    in_place: bool  # stdout, character devices and FIFOs are written directly, never renamed
    mode: int | None = None  # an existing file's permission bits, kept
    owner: tuple[int, int] | None = None  # an existing file's uid and gid, kept when root

    @property
    def label(self) -> str:
        """How messages name this output."""
        return "stdout" if self.target is None else safe_text(self.given)


def destination(
    given: str | Path | None, option: str = "--output", inputs: Iterable[str | Path] = ()
) -> Destination:
    """Check an output path before any work: what it names, that it can be written, and that
    it is none of `inputs`; any problem is one OutputError line naming the path."""
    if given is None or str(given) == STDOUT:
        return Destination(option, STDOUT, None, True)
    text = str(given)
    shown = safe_text(text)
    if not text:
        raise OutputError(f"{option}: empty path; name a file, or - for stdout")
    if text.endswith(("/", "/.", "/..")) or text in (".", ".."):
        raise OutputError(f"{option}: {shown} names a folder; name a file in it")
    try:
        # The kernel follows links, /proc's too: /dev/stdout is whatever fd 1 is.
        status: os.stat_result | None = os.stat(text)
    except FileNotFoundError:
        status = None
    except OSError as error:
        raise OutputError(f"{option}: {shown}: cannot use ({error.strerror})") from None
    real = Path(os.path.realpath(text))  # follows symlinks, broken ones to their target too
    refuse_inputs(option, text, Path(text) if status is not None else real, inputs)
    if status is not None:
        if stat.S_ISDIR(status.st_mode):
            raise OutputError(f"{option}: {shown} is a folder; name a file in it")
        if stat.S_ISCHR(status.st_mode) or stat.S_ISFIFO(status.st_mode):
            if not os.access(text, os.W_OK):
                raise OutputError(f"{option}: {shown}: cannot write (permission denied)")
            return Destination(option, text, Path(text), True)
        if not stat.S_ISREG(status.st_mode):
            raise OutputError(
                f"{option}: {shown} is not a regular file, a character device or a FIFO"
            )
        if not os.access(real, os.W_OK):
            raise OutputError(f"{option}: {shown}: cannot write (read-only or immutable file)")
    # Name the folder as the user wrote it, unless a symlink led elsewhere.
    named = real.parent if os.path.islink(text) else Path(os.path.dirname(text) or ".")
    _probe_folder(option, shown, real.parent, named)
    if status is None:
        _check_name_length(option, shown, real)
        return Destination(option, text, real, False)
    owner = (status.st_uid, status.st_gid)
    return Destination(option, text, real, False, stat.S_IMODE(status.st_mode), owner)


def refuse_inputs(option: str, given: str, real: Path, inputs: Iterable[str | Path]) -> None:
    """OutputError if the output at `real` is the same file as one of `inputs`."""
    try:
        target = os.stat(real)
    except OSError:
        return
    for source in inputs:
        try:
            other = os.stat(source)
        except (OSError, ValueError):
            continue
        if (other.st_dev, other.st_ino) == (target.st_dev, target.st_ino):
            raise OutputError(
                f"{option}: {safe_text(given)} is the input {safe_text(source)}; "
                "writing it would destroy it, name another file"
            )


def _probe_folder(option: str, shown: str, folder: Path, named: Path) -> None:
    """OutputError unless a file can be created in `folder` (read-only, immutable, missing)."""
    if not folder.is_dir():
        raise OutputError(f"{option}: {shown}: directory {safe_text(named)} does not exist")
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".scalecalc.", suffix=".tmp")
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise OutputError(
            f"{option}: {shown}: cannot write in directory {safe_text(named)} ({error.strerror})"
        ) from None


def _check_name_length(option: str, shown: str, path: Path) -> None:
    """OutputError if a new file's name is longer than its folder takes, before any work
    rather than when the file is renamed into place."""
    try:
        limit = os.pathconf(path.parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        return
    size = len(os.fsencode(path.name))
    if limit > 0 and size > limit:
        raise OutputError(
            f"{option}: {shown}: the name is {size} bytes; this folder takes at most {limit}"
        )


def distinct(*places: Destination | None) -> None:
    """OutputError if two of a command's outputs name the same file."""
    seen: dict[Path, Destination] = {}
    for where in places:
        if where is None or where.target is None:
            continue
        other = seen.setdefault(where.target, where)
        if other is not where:
            raise OutputError(
                f"{where.option}: {where.label} is also {other.option}; name another file"
            )


def begin_run() -> None:
    """Forget what earlier runs in this process wrote."""
    _written.clear()


def outcome_text() -> str:
    """A true account of what was written, for a message that ends the run early."""
    if not _written:
        return "nothing was written"
    return "already written: " + ", ".join(_written)


def fit_encoding(text: str, encoding: str | None) -> str:
    """`text` as `encoding` can carry it: each symbol it cannot encode in ASCII, anything else
    as an escape; text it can encode is left alone."""
    encoding = encoding or "utf-8"
    try:
        text.encode(encoding)
        return text
    except LookupError:
        encoding = "ascii"
    except UnicodeEncodeError:
        pass
    return "".join(_fit_character(character, encoding) for character in text)


def _fit_character(character: str, encoding: str) -> str:
    try:
        character.encode(encoding)
        return character
    except UnicodeEncodeError:
        simpler = character.translate(ASCII_FALLBACK)
        return simpler if simpler != character else ascii(character)[1:-1]


def write_stdout(text: str) -> None:
    """Write `text` to stdout, degraded to what its encoding carries; failures are one line."""
    stream = sys.stdout
    if stream is None:
        raise OutputError("stdout: is closed; nothing was written")
    try:
        stream.write(fit_encoding(text, getattr(stream, "encoding", None)))
        stream.flush()
    except BrokenPipeError:
        _silence_stdout()
        raise BrokenPipe(f"stdout: broken pipe (the reader exited); {outcome_text()}") from None
    except (OSError, ValueError) as error:
        _silence_stdout()
        reason = getattr(error, "strerror", None) or str(error)
        raise OutputError(f"stdout: cannot write ({reason}); {outcome_text()}") from None
    if text:
        _written.append("stdout")


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass


def _encode(data: str | bytes) -> bytes:
    return data if isinstance(data, bytes) else data.encode("utf-8", "backslashreplace")


class Outputs:
    """Everything a command writes, checked first and written last, all or nothing."""

    def __init__(self) -> None:
        self._items: list[tuple[Destination, str | bytes]] = []

    def add(self, where: Destination, data: str | bytes) -> None:
        """Queue `data` for `where`; two outputs naming one file are an error."""
        distinct(*(other for other, _ in self._items), where)
        self._items.append((where, data))

    def commit(self) -> None:
        """Write every temporary file, then the streams, then rename all files into place."""
        temporaries: list[tuple[Destination, str]] = []
        try:
            for where, data in self._items:
                if not where.in_place:
                    temporaries.append((where, _temporary(where, _encode(data))))
            for where, data in self._items:
                if where.target is None:
                    write_stdout(data if isinstance(data, str) else data.decode("utf-8"))
                elif where.in_place:
                    _write_in_place(where, _encode(data))
            _replace_all(temporaries)
        finally:
            for _, temporary in temporaries:
                if os.path.lexists(temporary):
                    os.unlink(temporary)


def _temporary(where: Destination, data: bytes) -> str:
    """A complete, synced temporary file beside the target, with the mode the target gets."""
    assert where.target is not None
    try:
        return synced_temporary(where.target.parent, data, where.mode, where.owner)
    except OSError as error:
        raise _failed(where, error) from None


def _write_in_place(where: Destination, data: bytes) -> None:
    """Write to a character device or FIFO; a FIFO with no reader is an error, not a hang."""
    assert where.target is not None
    try:
        handle = os.open(where.target, os.O_WRONLY | os.O_NONBLOCK)
        os.set_blocking(handle, True)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
    except OSError as error:
        raise _failed(where, error) from None
    _written.append(where.label)


def _replace_all(temporaries: list[tuple[Destination, str]]) -> None:
    """Rename every temporary over its target; SIGINT and SIGTERM wait until all are done."""
    with _signals_held():
        for where, temporary in temporaries:
            assert where.target is not None
            try:
                os.replace(temporary, where.target)
            except OSError as error:
                raise _failed(where, error) from None
            _written.append(where.label)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Record SIGINT and SIGTERM meanwhile and act on the first one after the block."""
    caught: list[int] = []
    try:
        previous = {
            s: signal.signal(s, lambda signum, _frame: caught.append(signum)) for s in _SIGNALS
        }
    except ValueError:  # not the main thread: signals cannot be handled here anyway
        yield
        return
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if caught:
            handler = previous[caught[0]]
            if callable(handler):
                handler(caught[0], None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(caught[0])


def _failed(where: Destination, error: OSError) -> OutputError:
    reason = error.strerror or str(error)
    return OutputError(f"{where.option}: {where.label}: cannot write ({reason}); {outcome_text()}")
