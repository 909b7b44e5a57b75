"""`scalecalc compare`: a sweep of bases × strategies × factors as tables, exponents and plots."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scalecalc.cli._common import (
    FormatOption,
    OutputOption,
    app,
    emit,
    output_format,
    user_errors,
    warn,
)
from scalecalc.errors import ConfigError
from scalecalc.sweep import Entry, Sweep, expand, make_sweep, read_sweep

if TYPE_CHECKING:
    from scalecalc.compare import CompareRow

FORMATS = ("table", "md", "json", "csv")


def _split(values: list[str] | None) -> list[str] | None:
    """Repeated and comma-separated option values as one list (None when not given)."""
    if values is None:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _number(text: str) -> float | str:
    # Left as text when it is not a number, so the sweep's validation names the option.
    try:
        return float(text)
    except ValueError:
        return text


def sweep_from_options(
    default: Sweep,
    sweep_file: Path | None,
    configs: list[str] | None,
    strategies: list[str] | None,
    factors: list[str] | None,
    target_flops: list[str] | None,
    convention: str | None,
) -> tuple[Sweep, list[Entry]]:
    """`default` (or --sweep FILE) with the parts given on the command line replaced, expanded."""
    start = default if sweep_file is None else read_sweep(sweep_file)
    given = factors is not None or target_flops is not None  # either replaces both
    sweep = make_sweep(
        bases=configs or start.bases,
        strategies=_split(strategies) or start.strategies,
        factors=[_number(f) for f in _split(factors) or []] if given else start.factors,
        target_flops=(_split(target_flops) or []) if given else start.target_flops,
        convention=start.convention if convention is None else convention,
    )
    return sweep, expand(sweep, None if sweep_file is None or configs else str(sweep_file))


@contextmanager
def _progress(total: int) -> Iterator[Callable[[object], None]]:
    """A progress bar on stderr when it is a terminal; a no-op callback otherwise."""
    if not sys.stderr.isatty():
        yield lambda _entry: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("counting", total=total)
        yield lambda entry: progress.update(task, advance=1, description=getattr(entry, "key", ""))


@app.command("compare")
def compare_command(
    configs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="CONFIG", help="Base models (YAML files or preset names); default: the sweep's."
        ),
    ] = None,
    sweep_file: Annotated[
        Path | None,
        typer.Option(
            "--sweep", metavar="FILE", help="A sweep YAML file (default: the built-in sweep)."
        ),
    ] = None,
    strategies: Annotated[
        list[str] | None,
        typer.Option("--strategies", "-s", metavar="S,...", help="Strategies, e.g. w,dwr,dWr."),
    ] = None,
    factors: Annotated[
        list[str] | None,
        typer.Option("--factors", metavar="F,...", help="Flops factors, e.g. 2,4,8,16."),
    ] = None,
    target_flops: Annotated[
        list[str] | None,
        typer.Option(
            "--target-flops", metavar="N,...", help="Flops targets instead of or with factors: 16G."
        ),
    ] = None,
    convention: Annotated[
        str | None,
        typer.Option("--convention", metavar="NAME", help="paper or fvcore (default: sweep's)."),
    ] = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", metavar="FILE", help="Also plot acts, params vs flops: .png, .svg"),
    ] = None,
    bench_file: Annotated[
        Path | None,
        typer.Option(
            "--bench",
            metavar="FILE",
            help="Add runtime columns from `scalecalc bench --format json` output, by row key.",
        ),
    ] = None,
) -> None:
    """Scale each base with each strategy and compare flops, params and acts; fit exponents."""
    from scalecalc import compare, compare_report
    from scalecalc.sweep import DEFAULT_SWEEP

    with user_errors():
        fmt = output_format(fmt, FORMATS, output)
        if plot is not None:
            from scalecalc.plot import check_plot_available, check_plot_path

            check_plot_path(plot)
            check_plot_available()
        # Fail before the sweep runs, not after (write_atomic would check too, but late).
        if output is not None and not output.absolute().parent.is_dir():
            raise ConfigError(f"{output}: directory {output.parent} does not exist")
        measured = None
        if bench_file is not None:
            from scalecalc.bench_report import join_runtimes, read_runtimes

            measured = read_runtimes(bench_file)
        sweep, entries = sweep_from_options(
            DEFAULT_SWEEP, sweep_file, configs, strategies, factors, target_flops, convention
        )
        with _progress(len(entries)) as advance:
            rows = compare.run(entries, sweep.convention, on_entry=advance)
        _warn_unsupported(rows)
        fits = compare.exponents(rows)
        runtimes = None
        if measured is not None:
            runtimes, missing, different = join_runtimes(rows, *measured)
            if missing:
                warn(
                    f"{bench_file} has no runtime for {len(missing)} of {len(rows)} models "
                    f"(e.g. {missing[0]})"
                )
            if different:
                warn(
                    f"{bench_file} measured other models for {len(different)} of {len(rows)} "
                    f"keys (e.g. {different[0]}: other sizes or resolution); runtime left out"
                )
        renderers = {
            "json": lambda: compare_report.to_json(rows, fits, sweep.convention, runtimes),
            "csv": lambda: compare_report.to_csv(rows, runtimes),
            "md": lambda: compare_report.to_markdown(rows, fits, runtimes),
            "table": lambda: compare_report.to_rich(rows, fits, runtimes),
        }
        if plot is not None:
            from scalecalc.plot import write_plot

            write_plot(rows, plot)
        emit(renderers[fmt], fmt, output)


def _warn_unsupported(rows: list[CompareRow]) -> None:
    """One warning per unsupported op, naming how many models it touched."""
    seen: dict[str, list[str]] = {}
    for row in rows:
        for op, _calls in row.costs.unsupported:
            seen.setdefault(op, []).append(row.key)
    for op, keys in seen.items():
        warn(f"unsupported op {op} counted as zero in {len(keys)} models (e.g. {keys[0]})")
