"""The `scalecalc` command line: thin commands over the library, errors as exit codes.

`app` and `main` load on first use, so that the console entry can take over Ctrl-C and SIGTERM
(scalecalc.cli.signals) before typer, rich and the commands are imported."""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    """`app` and `main`, from scalecalc.cli.application when first asked for."""
    if name not in __all__:
        raise AttributeError(f"module 'scalecalc.cli' has no attribute {name!r}")
    return getattr(import_module("scalecalc.cli.application"), name)
