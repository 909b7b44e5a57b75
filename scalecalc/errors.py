"""Errors that reach the user as one line and an exit code, never as a traceback."""

from __future__ import annotations

import reprlib
from typing import Any

MAX_MESSAGE = 600

_REPR = reprlib.Repr()
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = 8
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlevel = 2


def shown(value: Any) -> str:
    """A short repr of a user's value for a message, however large or nested the value is."""
    return _REPR.repr(list(value) if isinstance(value, tuple) else value)


class ScalecalcError(Exception):
    """A problem with the user's input; its message is the whole report, on one line."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        message = " ".join(str(message).split())
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 3] + "..."
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
