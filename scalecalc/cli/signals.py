"""Ctrl-C and SIGTERM from the first moment to the last: one line and 128 + the signal's number."""

from __future__ import annotations

import os
import signal
from types import FrameType

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_NAMES = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}


class Stopped(BaseException):
    """A SIGINT or SIGTERM while a command runs; unwinds like KeyboardInterrupt."""

    def __init__(self, signum: int) -> None:
        super().__init__(_NAMES.get(signum, f"signal {signum}"))
        self.exit_code = 128 + signum


def stop_code(error: BaseException) -> int:
    """The exit code for a KeyboardInterrupt or Stopped: 130 for Ctrl-C, 143 for SIGTERM."""
    return error.exit_code if isinstance(error, Stopped) else 128 + signal.SIGINT


def stop_word(error: BaseException) -> str:
    """'interrupted' or 'terminated'."""
    return str(error) if isinstance(error, Stopped) else "interrupted"


def _exit_at_once(signum: int, _frame: FrameType | None) -> None:
    # Only before the command starts: nothing has been written, and imports must not trace back.
    os.write(2, f"error: {_NAMES[signum]}; nothing was written\n".encode())
    os._exit(128 + signum)


def _raise_stopped(signum: int, _frame: FrameType | None) -> None:
    # A second signal while the first unwinds would cut the clean-up short and print twice.
    _install(signal.SIG_IGN)
    raise Stopped(signum)


def during_startup() -> None:
    """Until the command runs: a signal prints one line and exits at once."""
    _install(_exit_at_once)


def while_running() -> None:
    """While the command runs: a signal unwinds (temporary files are removed) as Stopped."""
    _install(_raise_stopped)


def while_exiting() -> None:
    """After the command has reported, signals are ignored: shutdown (atexit callbacks) is
    short, and a Python handler would be reset to the default by the interpreter's shutdown."""
    _install(signal.SIG_IGN)


def _install(handler) -> None:  # type: ignore[no-untyped-def]
    for signum in _SIGNALS:
        signal.signal(signum, handler)
