"""What every command shares: the app, its options, error-to-exit-code mapping, progress, output."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from scalecalc.cli import outputs
from scalecalc.cli.plain_help import App, PlainHelpGroup
from scalecalc.costs import CONVENTIONS
from scalecalc.errors import PartKept, ScalecalcError, safe_text
from scalecalc.hooks import Hooks
from scalecalc.cli.signals import Stopped, stop_code, stop_word
from scalecalc.cli.outputs import Destination, Outputs
from scalecalc.tables import FORMATS
from scalecalc.cli.terminal import render_rich, stdout_is_terminal

if TYPE_CHECKING:
    from scalecalc.sweep import Sweep


class OneLineErrors(PlainHelpGroup):
    """The command group: a usage error (unknown option, bad value) is one `error:` line and
    exit 2 however the app is run, from the console script or from a test's CliRunner."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except Exception as error:
            code = usage_error(error)
        sys.exit(code if isinstance(code, int) else 0)


def usage_error(error: Exception) -> int:
    """Report a usage error (click's, or the click that typer vendors) as one `error:` line
    and return its exit code; anything else is a bug and is raised again."""
    if type(error).__name__ == "NoArgsIsHelpError":  # a group called with no arguments
        print(error.ctx.get_help())  # type: ignore[attr-defined]
        return 0
    if not (hasattr(error, "format_message") and hasattr(error, "exit_code")):
        raise error
    # typer's coercion of choices prefixes its message with "Value error, ": noise to a user.
    message = error.format_message().replace("Value error, ", "")
    print(f"error: {safe_text(message, 600)}", file=sys.stderr)
    return error.exit_code


app = App(
    cls=OneLineErrors,
    name="scalecalc",
    help="What each way of scaling a vision model costs: flops, params and activations.",
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# Literal types make typer list the choices in --help and in the error for a typo.
Format = Literal[FORMATS]  # type: ignore[valid-type]
Convention = Literal[CONVENTIONS]  # type: ignore[valid-type]
FORMAT_HELP = "Output format; default: md when piped or written to a file, table on a terminal."
FormatOption = Annotated[Format | None, typer.Option("--format", "-f", help=FORMAT_HELP)]
OutputOption = Annotated[
    str | None,
    typer.Option(
        "--output", "-o", metavar="FILE", help="Write to FILE (atomically) instead of stdout."
    ),
]
SweepConventionOption = Annotated[
    Convention | None,
    typer.Option("--convention", help="Flops convention; default: the sweep's (paper)."),
]
ConventionOption = Annotated[Convention, typer.Option("--convention", help="Flops convention.")]


def _show_version(value: bool) -> None:
    if value:
        from scalecalc import __version__

        with user_errors():
            outputs.write_stdout(f"scalecalc {__version__}\n")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_show_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """What each way of scaling a vision model costs: flops, params and activations."""


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one `error:` line on stderr and return the Exit to raise."""
    print(f"error: {safe_text(message, 600)}", file=sys.stderr)
    return typer.Exit(code)


def warn(message: str) -> None:
    """A diagnostic line on stderr; stdout stays machine-readable."""
    print(f"warning: {safe_text(message, 600)}", file=sys.stderr)


def info(message: str) -> None:
    """An informational line on stderr."""
    print(safe_text(message, 600), file=sys.stderr)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn domain errors, Ctrl-C and SIGTERM into one true line on stderr and an exit code."""
    outputs.begin_run()
    try:
        yield
    except ScalecalcError as error:
        raise fail(str(error), error.exit_code) from None
    except (KeyboardInterrupt, Stopped) as error:
        raise fail(f"{stop_word(error)}; {outputs.outcome_text()}", stop_code(error)) from None
    except PartKept as error:
        cause = error.cause
        if isinstance(cause, ScalecalcError):
            raise fail(f"{cause}; {error.kept}", cause.exit_code) from None
        raise fail(f"{stop_word(cause)}; {error.kept}", stop_code(cause)) from None


def output_format(requested: str | None, output: Destination | None) -> str:
    """The format to render: as requested, else md for files and pipes, table on a terminal."""
    if requested is not None:
        return requested
    to_stdout = output is None or output.target is None
    return "table" if to_stdout and stdout_is_terminal() else "md"


def emit(
    render: Callable[[], Any], fmt: str, output: Destination, batch: Outputs | None = None
) -> None:
    """Render, then write to `output` (stdout, a device, or a file replaced atomically); with
    `batch`, queue it there to be written with the command's other outputs, all or nothing."""
    content = render()
    if fmt == "table":
        items = content if isinstance(content, list) else [content]
        to_stdout = output.target is None
        content = render_rich(items, to_stdout and stdout_is_terminal(), to_stdout)
    if batch is None:
        batch = Outputs()
        batch.add(output, content)
        batch.commit()
    else:
        batch.add(output, content)


@contextmanager
def progress(verb: str, total: int, log: bool = False) -> Iterator[Callable[[int, str], None]]:
    """A rich progress bar on a terminal's stderr, called with (models done, key). When stderr
    is not a terminal: one line per model with `log`, else nothing."""
    if not sys.stderr.isatty():
        yield (
            (lambda done, key: info(f"{verb} [{done + 1}/{total}] {key}"))
            if log
            else (lambda _done, _key: None)
        )
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(verb, total=total)
        yield lambda done, key: bar.update(task, completed=done, description=key)


def output_and_plot(
    output: str | None, plot: str | None, inputs: list[Any]
) -> tuple[Destination, Destination | None]:
    """--output and --plot checked before any work: writable, distinct, none of the inputs,
    a plot format we draw, and matplotlib importable when a plot is asked for."""
    destination = outputs.destination(output, "--output", inputs)
    if plot is None:
        return destination, None
    from scalecalc.compare.plot import check_plot_available, check_plot_path

    check_plot_path(plot)
    plot_to = outputs.destination(plot, "--plot", inputs)
    outputs.distinct(destination, plot_to)
    check_plot_available()
    return destination, plot_to


def refuse_bases(sweep: Sweep, *places: Destination | None) -> None:
    """OutputError if an output is one of the sweep's base files."""
    for place in places:
        if place is not None and place.target is not None:
            outputs.refuse_inputs(place.option, place.given, place.target, sweep.bases)


def command_hooks(*places: Destination | None) -> Hooks:
    """A run's lines and progress on stderr, and the check that none of `places` is a base."""
    return Hooks(warn, info, progress, lambda sweep: refuse_bases(sweep, *places))


def emit_with_plot(
    render: Callable[[], Any],
    fmt: str,
    output: Destination,
    plot_to: Destination | None,
    plot: bytes | None,
) -> None:
    """Write the rendered output and, when asked for, the plot: both or neither."""
    batch = Outputs()
    if plot_to is not None and plot is not None:
        batch.add(plot_to, plot)
    emit(render, fmt, output, batch)
    batch.commit()


def fail_each(lines: list[str]) -> None:
    """Each line as an `error:` line, then exit 2 when there is any."""
    if lines:
        for line in lines[:-1]:
            fail(line)
        raise fail(lines[-1])
