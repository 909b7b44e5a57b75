"""Help text as a user reads it: arguments and options by their metavar, never typer's Python
types (`<list[str]>`), and each command's summary whole, never cut with "..."."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup


def first_sentence(text: str | None) -> str:
    """The first sentence of a docstring's first paragraph, on one line, whatever its length."""
    words = (text or "").split("\n\n")[0].split()
    end = next((i for i, word in enumerate(words) if word.endswith(".")), len(words) - 1)
    return " ".join(words[: end + 1])


class WholeSummary:
    """Mixed into a command or group: its line in the parent's command list is its help's
    first sentence, wrapped to the terminal rather than cut at its width."""

    short_help: str | None
    help: str | None

    def get_short_help_str(self, limit: int = 45) -> str:
        """The summary for the parent's command list (`limit` is ignored: nothing is cut)."""
        return self.short_help or first_sentence(self.help)


class PlainHelpCommand(WholeSummary, TyperCommand):
    """A command whose --help names each argument by its metavar alone: typer would add the
    Python type (`CONFIG... <list[str]>`)."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        """The Arguments and Options sections, arguments without their type."""
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                name, text = record
                arguments.append((name.removesuffix(f" {param.display_type_rich(ctx)}"), text))
            else:
                options.append(record)
        for title, records in (("Arguments", arguments), ("Options", options)):
            if records:
                with formatter.section(title):
                    formatter.write_dl(records)


class PlainHelpGroup(WholeSummary, TyperGroup):
    """A command group whose summary is never cut."""


class App(typer.Typer):
    """typer.Typer whose commands have plain help (PlainHelpCommand) unless told otherwise."""

    def command(  # type: ignore[override]
        self, name: str | None = None, *, cls: Any = None, **kwargs: Any
    ) -> Callable[..., Any]:
        """Register a command, as typer.Typer.command does."""
        return super().command(name, cls=cls or PlainHelpCommand, **kwargs)
