"""Errors that reach the user as one line and an exit code, never as a traceback."""

from __future__ import annotations

import re
import reprlib
from typing import Any

MAX_MESSAGE = 600
MAX_SHOWN_TEXT = 200
# C0 and C1 controls, DEL, lone surrogates and the bidirectional overrides that reorder a line.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")

_REPR = reprlib.Repr()
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = 8
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlevel = 2


def shown(value: Any) -> str:
    """A short repr of a user's value for a message, however large or nested the value is."""
    return _REPR.repr(list(value) if isinstance(value, tuple) else value)


def safe_text(text: Any, limit: int = MAX_SHOWN_TEXT) -> str:
    """`text` fit to echo on a terminal: control characters escaped, at most `limit` characters."""
    escaped = _UNSAFE.sub(lambda match: ascii(match.group())[1:-1], str(text))
    return escaped if len(escaped) <= limit else escaped[: limit - 3] + "..."


class ScalecalcError(Exception):
    """A problem with the user's input; its message is the whole report, on one line."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        message = safe_text(" ".join(str(message).split()), MAX_MESSAGE)
        super().__init__(message)


class ConfigError(ScalecalcError):
    """A config, sweep or preset file that cannot be read or does not validate."""


class SpecError(ScalecalcError):
    """A model spec whose fields are inconsistent; names the offending key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.detail = message


class StrategyError(ScalecalcError):
    """A scaling strategy or factor outside the grammar."""


class BaselineError(ScalecalcError):
    """A baseline file that is missing, corrupt or of another format version."""


class ModelTooLargeError(ScalecalcError):
    """A model whose size would exhaust memory or time if built."""


class ProfileError(ScalecalcError):
    """A device profile or bench file that is missing, malformed, of another version or
    convention."""


class PartKept(Exception):
    """A run stopped by an error, Ctrl-C or a signal (`cause`) after part of its work was
    kept; `kept` says where and how to go on."""

    def __init__(self, cause: BaseException, kept: str) -> None:
        super().__init__(kept)
        self.cause = cause
        self.kept = kept
