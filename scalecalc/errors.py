"""Errors that reach the user as one line and an exit code, never as a traceback."""

from __future__ import annotations


class ScalecalcError(Exception):
    """A problem with the user's input; its message is the whole report."""

    exit_code = 2


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
