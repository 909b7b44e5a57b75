"""The `scalecalc` command line: thin commands over the library, errors as exit codes."""

from __future__ import annotations

# Importing a command module registers its commands; `--help` lists them in this order.
from scalecalc.cli import count, scale, compare, check, bench  # noqa: F401, I001
from scalecalc.cli._common import app

__all__ = ["app"]
