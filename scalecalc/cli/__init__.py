"""The `scalecalc` command line: thin commands over the library, errors as exit codes."""

from __future__ import annotations

from scalecalc.cli import check, compare, count, scale  # noqa: F401  (registers commands)
from scalecalc.cli import bench  # noqa: F401  (registers commands)
from scalecalc.cli._common import app

__all__ = ["app"]
