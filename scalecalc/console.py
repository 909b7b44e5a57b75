"""The `scalecalc` console entry: signals are handled before the command line's heavy imports."""

from __future__ import annotations


def main() -> None:
    """Handle Ctrl-C and SIGTERM from the first moment to the last, and run the command line."""
    from scalecalc import interrupts

    interrupts.during_startup()
    from scalecalc.cli import main as run

    interrupts.while_running()
    try:
        run()
    finally:
        interrupts.while_exiting()
