"""What every command shares: the app, error-to-exit-code mapping, output and format choice."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from scalecalc.files import write_atomic
from scalecalc.errors import ConfigError, ScalecalcError

app = typer.Typer(
    name="scalecalc",
    help="What each way of scaling a vision model costs: flops, params and activations.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help="table, md, json or csv (default: md when piped, table on a terminal)",
    ),
]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to FILE (atomically) instead of stdout."),
]
ConventionOption = Annotated[
    str, typer.Option("--convention", help="Flops convention: paper (default) or fvcore.")
]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one `error:` line on stderr and return the Exit to raise."""
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(code)


def warn(message: str) -> None:
    """A diagnostic line on stderr; stdout stays machine-readable."""
    print(f"warning: {message}", file=sys.stderr)


def info(message: str) -> None:
    """An informational line on stderr."""
    print(message, file=sys.stderr)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn domain errors and Ctrl-C into one line on stderr and an exit code."""
    try:
        yield
    except ScalecalcError as error:
        raise fail(str(error), error.exit_code) from None
    except KeyboardInterrupt:
        raise fail("interrupted; nothing was written", 130) from None


def choose(value: str, allowed: tuple[str, ...], option: str) -> str:
    """`value` if it is one of `allowed`, else a ConfigError naming the option."""
    if value not in allowed:
        raise ConfigError(f"{option}: {value!r} is not one of {', '.join(allowed)}")
    return value


def output_format(requested: str | None, allowed: tuple[str, ...], output: Path | None) -> str:
    """The format to render: as requested, else md for files and pipes, table on a terminal."""
    if requested is not None:
        return choose(requested, allowed, "--format")
    return "table" if output is None and sys.stdout.isatty() else "md"


def emit(render: Callable[[], Any], fmt: str, output: Path | None) -> None:
    """Render and write to stdout or, atomically, to `output` (a failed run leaves no file)."""
    content = render()
    if fmt == "table":
        from rich.console import Console

        console = Console(file=sys.stdout if output is None else io.StringIO(), record=True)
        for item in content if isinstance(content, list) else [content]:
            console.print(item)
        if output is None:
            return
        content = console.export_text()
    if output is None:
        sys.stdout.write(content)
        sys.stdout.flush()
    else:
        write_atomic(output, content)
