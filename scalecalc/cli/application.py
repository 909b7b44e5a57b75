"""The `scalecalc` app: every command registered, and the entry that maps errors to exit codes."""

from __future__ import annotations

import sys

import typer

from scalecalc.cli import signals
from scalecalc.cli.outputs import outcome_text

# Importing a command module registers its commands; `--help` lists them in this order.
from scalecalc.cli import count, scale, compare, check, bench, profile  # noqa: F401, I001
from scalecalc.cli.common import app, usage_error

__all__ = ["app", "main"]


def main() -> None:
    """Console entry point: usage errors, signals and output failures are one `error:` line."""
    command = typer.main.get_command(app)
    args = sys.argv[1:] or ["--help"]  # no arguments: the overview of commands, exit 0
    try:
        code = command.main(args=args, prog_name="scalecalc", standalone_mode=False)
    except (KeyboardInterrupt, signals.Stopped, typer.Abort) as error:
        # Abort is how click reports a Ctrl-C that arrived while it parsed the arguments.
        cause = (error.__context__ if isinstance(error, typer.Abort) else None) or error
        print(f"error: {signals.stop_word(cause)}; {outcome_text()}", file=sys.stderr)
        code = signals.stop_code(cause)
    except Exception as error:
        code = usage_error(error)
    sys.exit(code if isinstance(code, int) else 0)
