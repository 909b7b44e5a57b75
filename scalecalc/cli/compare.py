"""`scalecalc compare`: a sweep of bases × strategies × factors as tables, exponents and plots."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated, Literal

import typer

from scalecalc import outputs
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
    output_and_plot,
    output_format,
    progress,
    user_errors,
    warn,
)
from scalecalc.annotations import MemorySetting
from scalecalc.errors import ConfigError
from scalecalc.limits import check_batch_size
from scalecalc.measurement import DTYPE_NAMES
from scalecalc.outputs import Destination
from scalecalc.requires import require_torch
from scalecalc.sweep import Sweep


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
        str | None,
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
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            metavar="NAME|FILE",
            help="Add predicted time per image from a device profile (`scalecalc profile show` "
            "lists the built-in ones).",
        ),
    ] = None,
    memory: Annotated[
        bool, typer.Option("--memory", help="Add predicted peak memory at --batch-size.")
    ] = False,
    max_batch: Annotated[
        str | None,
        typer.Option(
            "--max-batch",
            metavar="SIZE",
            help="Add the largest batch that fits in SIZE (e.g. 24GiB, 80GB); implies --memory.",
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Images per step, for --memory (at most 2^31).")
    ] = 1,
    dtype: Annotated[
        Literal[DTYPE_NAMES], typer.Option("--dtype", help="For --memory.")  # type: ignore[valid-type]
    ] = "float32",
    train: Annotated[
        bool,
        typer.Option("--train", help="For --memory: a training step (forward + backward)."),
    ] = False,
    optimizer: Annotated[
        Literal["sgd", "adam", "adamw"] | None,
        typer.Option("--optimizer", help="For --memory --train: add this optimizer's state."),
    ] = None,
) -> None:
    """Scale each base with each strategy and compare flops, params and acts; fit exponents;
    optionally predict time per image on a device and peak memory."""
    from scalecalc import compare, compare_report
    from scalecalc.annotations import predicted_memory, predicted_runtime
    from scalecalc.profile import load_profile
    from scalecalc.sweep import DEFAULT_SWEEP, sweep_from_options

    with user_errors():
        inputs = [*(configs or []), *(p for p in (sweep_file, bench_file) if p is not None)]
        # Every destination is checked before the sweep runs, not after.
        destination, plot_to = output_and_plot(output, plot, inputs)
        fmt = output_format(fmt, destination)
        predictor = None if profile is None else load_profile(profile)
        setting = memory_setting(memory, max_batch, batch_size, dtype, train, optimizer)
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
        refuse_bases(sweep, destination, plot_to)
        with progress("counting", len(entries)) as advance:
            done = itertools.count(1)
            on_entry = lambda entry: advance(next(done), entry.key)  # noqa: E731
            rows = compare.run(entries, sweep.convention, on_entry=on_entry)
        for line in compare.unsupported_warnings(rows):
            warn(line)
        annotations = []
        if measured is not None:
            runtimes, warnings = runtimes_for(rows, bench_file, measured)
            annotations.append(runtimes)
            for line in warnings:
                warn(line)
        if predictor is not None:
            annotations.append(predicted_runtime(rows, predictor))
        if setting is not None:
            annotations.append(predicted_memory(rows, setting))
        batch = outputs.Outputs()
        if plot is not None and plot_to is not None:
            from scalecalc.plot import plot_bytes, plot_format

            batch.add(plot_to, plot_bytes(rows, plot_format(plot)))
        fits = compare.exponents(rows)
        render = compare_report.renderer(fmt, rows, fits, sweep.convention, annotations)
        emit(render, fmt, destination, batch)
        batch.commit()


def refuse_bases(sweep: Sweep, *places: Destination | None) -> None:
    """OutputError if an output is one of the sweep's base files."""
    for place in places:
        if place is not None and place.target is not None:
            outputs.refuse_inputs(place.option, place.given, place.target, sweep.bases)


def memory_setting(
    memory: bool,
    max_batch: str | None,
    batch_size: int,
    dtype: str,
    train: bool,
    optimizer: str | None,
) -> MemorySetting | None:
    """The memory columns asked for, or None; --optimizer needs --train."""
    from scalecalc.units import parse_bytes

    check_batch_size(batch_size)
    if optimizer is not None and not train:
        raise ConfigError("--optimizer: an optimizer's state exists only with --train")
    if not memory and max_batch is None:
        return None
    require_torch("--memory" if max_batch is None else "--max-batch")
    budget = None if max_batch is None else parse_bytes(max_batch, "--max-batch")
    return MemorySetting(batch_size, dtype, train, optimizer, budget)
