"""`scalecalc compare`: a sweep of bases × strategies × factors as tables, exponents and plots."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated

import typer

from scalecalc.cli._common import (
    ConfigsArgument,
    FactorsOption,
    FormatOption,
    OutputOption,
    StrategiesOption,
    SweepConventionOption,
    SweepOption,
    TargetFactorsOption,
    TargetFlopsOption,
    app,
    emit,
    output_format,
    progress,
    user_errors,
    warn,
)
from scalecalc.errors import ConfigError


@app.command("compare")
def compare_command(
    configs: ConfigsArgument = None,
    sweep_file: SweepOption = None,
    strategies: StrategiesOption = None,
    factors: FactorsOption = None,
    target_flops: TargetFlopsOption = None,
    target_factors: TargetFactorsOption = None,
    convention: SweepConventionOption = None,
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
    from scalecalc.sweep import DEFAULT_SWEEP, sweep_from_options

    with user_errors():
        fmt = output_format(fmt, output)
        if plot is not None:
            from scalecalc.plot import check_plot_available, check_plot_path

            check_plot_path(plot)
            check_plot_available()
        # Fail before the sweep runs, not after (write_atomic would check too, but late).
        if output is not None and not output.absolute().parent.is_dir():
            raise ConfigError(f"{output}: directory {output.parent} does not exist")
        measured = None
        if bench_file is not None:
            from scalecalc.bench_report import read_runtimes, runtimes_for

            measured = read_runtimes(bench_file)
        sweep, entries = sweep_from_options(
            DEFAULT_SWEEP,
            sweep_file,
            configs,
            strategies,
            factors,
            target_flops,
            target_factors,
            convention,
        )
        with progress("counting", len(entries)) as advance:
            done = itertools.count(1)
            on_entry = lambda entry: advance(next(done), entry.key)  # noqa: E731
            rows = compare.run(entries, sweep.convention, on_entry=on_entry)
        for line in compare.unsupported_warnings(rows):
            warn(line)
        runtimes = None
        if measured is not None:
            runtimes, warnings = runtimes_for(rows, bench_file, measured)
            for line in warnings:
                warn(line)
        if plot is not None:
            from scalecalc.plot import write_plot

            write_plot(rows, plot)
        fits = compare.exponents(rows)
        emit(compare_report.renderer(fmt, rows, fits, sweep.convention, runtimes), fmt, output)
