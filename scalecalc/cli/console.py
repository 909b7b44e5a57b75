"""The `scalecalc` console entry: signals are handled before the command line's heavy imports."""

from __future__ import annotations


def main() -> None:
    """Handle Ctrl-C and SIGTERM from the first moment to the last, and run the command line."""
    from scalecalc.cli import signals

    signals.during_startup()
    from scalecalc.cli.application import main as run

    signals.while_running()
    try:
        run()
    finally:
        signals.while_exiting()
