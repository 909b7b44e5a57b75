"""The `scalecalc` command line: thin commands over the library, errors as exit codes."""

from __future__ import annotations

import sys

import typer

# Importing a command module registers its commands; `--help` lists them in this order.
from scalecalc.cli import count, scale, compare, check, bench, profile  # noqa: F401, I001
from scalecalc.cli._common import app, usage_error

__all__ = ["app", "main"]


def main() -> None:
    """Console entry point: usage errors, like every other error, are one `error:` line."""
    command = typer.main.get_command(app)
    args = sys.argv[1:] or ["--help"]  # no arguments: the overview of commands, exit 0
    try:
        code = command.main(args=args, prog_name="scalecalc", standalone_mode=False)
    except KeyboardInterrupt:
        print("error: interrupted; nothing was written", file=sys.stderr)
        code = 130
    except Exception as error:
        code = usage_error(error)
    sys.exit(code if isinstance(code, int) else 0)
