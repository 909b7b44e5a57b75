"""`scalecalc compare`: a sweep of bases × strategies × factors as tables, exponents and plots."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated, Literal

import typer

from scalecalc.cli import outputs
from scalecalc.cli.common import (
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
    fail,
    output_and_plot,
    output_format,
    progress,
    user_errors,
    warn,
)
from scalecalc.compare.annotations import MemorySetting
from scalecalc.cli.time_options import (
    EpochsOption,
    GpusOption,
    ImagesOption,
    ProfileOption,
    TargetTimeFactorsOption,
    TargetTimesOption,
    mode_mismatch,
    run_setting,
    timing,
)
from scalecalc.errors import ConfigError
from scalecalc.limits import check_batch_size
from scalecalc.step_options import DTYPE_NAMES, OPTIMIZERS
from scalecalc.cli.outputs import Destination
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
    target_times: TargetTimesOption = None,
    target_time_factors: TargetTimeFactorsOption = None,
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
    profile: ProfileOption = None,
    epochs: EpochsOption = None,
    images: ImagesOption = None,
    gpus: GpusOption = None,
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
        int | None,
        typer.Option(
            "--batch-size",
            metavar="N",
            help="Images per step, for --memory (default 1, at most 2^31).",
        ),
    ] = None,
    dtype: Annotated[
        Literal[DTYPE_NAMES] | None,  # type: ignore[valid-type]
        typer.Option("--dtype", help="For --memory (default float32)."),
    ] = None,
    train: Annotated[
        bool | None,
        typer.Option(
            "--train",
            help="For --memory: a training step (forward + backward).",
            show_default=False,
        ),
    ] = None,
    optimizer: Annotated[
        Literal[OPTIMIZERS] | None,  # type: ignore[valid-type]
        typer.Option("--optimizer", help="For --memory --train: add this optimizer's state."),
    ] = None,
) -> None:
    """Scale each base with each strategy and compare flops, params and acts; fit exponents;
    optionally predict time per image on a device, hours of a training run and peak memory;
    or grow each strategy to a predicted time and rank what the time buys. A model that cannot
    be made is left out with one error line; the rest is shown, and the exit status is 2."""
    from scalecalc.compare import run as compare
    from scalecalc.compare import report as compare_report
    from scalecalc.compare.annotations import (
        over_device_memory,
        predicted_memory,
        predicted_runtime,
    )
    from scalecalc.profile.document import load_profile
    from scalecalc.compare.run_cost import run_cost
    from scalecalc.sweep import DEFAULT_SWEEP, sweep_from_options
    from scalecalc.compare.time_goals import goal_annotation

    refused: list[str] = []  # one line per model that cannot be made: key and reason
    with user_errors():
        inputs = [*(configs or []), *(p for p in (sweep_file, bench_file) if p is not None)]
        # Every destination is checked before the sweep runs, not after.
        destination, plot_to = output_and_plot(output, plot, inputs)
        fmt = output_format(fmt, destination)
        predictor = None if profile is None else load_profile(profile)
        setting = memory_setting(memory, max_batch, batch_size, dtype, train, optimizer)
        run = run_setting(epochs, images, gpus)
        measured = None
        if bench_file is not None:
            from scalecalc.bench.report import read_runtimes, runtimes_for

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
            target_times,
            target_time_factors,
        )
        goals = (factors, target_flops, target_factors, target_times, target_time_factors)
        given = any(goal is not None for goal in goals)
        timed = timing(sweep, sweep_file, given, predictor, run)
        mismatch = mode_mismatch(predictor, run is not None or train, setting is not None)
        if mismatch is not None:
            warn(mismatch)
        refuse_bases(sweep, destination, plot_to)
        with progress("counting", len(entries)) as advance:
            done = itertools.count(1)
            on_entry = lambda entry: advance(next(done), entry.key)  # noqa: E731
            rows = compare.run(
                entries, sweep.convention, on_entry, timing=timed, on_refused=refused.append
            )
        for line in compare.unsupported_warnings(rows):
            warn(line)
        annotations = []
        if measured is not None:
            runtimes, warnings = runtimes_for(rows, bench_file, measured)
            annotations.append(runtimes)
            for line in warnings:
                warn(line)
        if predictor is not None and timed is not None:
            prediction = predicted_runtime(rows, predictor)
            annotations.append(prediction)
            assert prediction.summary is not None
            if any(row.time_goal is not None for row in rows):
                annotations.append(goal_annotation(rows, prediction.summary.values, timed))
            if run is not None:
                annotations.append(run_cost(prediction, run, predictor.name))
        if setting is not None:
            annotations.append(predicted_memory(rows, setting))
            over = None if predictor is None else over_device_memory(annotations[-1], predictor)
            if over is not None:
                warn(over)
        batch = outputs.Outputs()
        if plot is not None and plot_to is not None:
            from scalecalc.compare.plot import plot_bytes, plot_format

            batch.add(plot_to, plot_bytes(rows, plot_format(plot)))
        fits = compare.exponents(rows)
        render = compare_report.renderer(fmt, rows, fits, sweep.convention, annotations)
        emit(render, fmt, destination, batch)
        batch.commit()
    if refused:
        # Each refused model on its own line, after the output of those that could be made.
        for line in refused[:-1]:
            fail(line)
        raise fail(refused[-1])


def refuse_bases(sweep: Sweep, *places: Destination | None) -> None:
    """OutputError if an output is one of the sweep's base files."""
    for place in places:
        if place is not None and place.target is not None:
            outputs.refuse_inputs(place.option, place.given, place.target, sweep.bases)


def memory_setting(
    memory: bool,
    max_batch: str | None,
    batch_size: int | None,
    dtype: str | None,
    train: bool | None,
    optimizer: str | None,
) -> MemorySetting | None:
    """The memory columns asked for, or None; the options that shape them need --memory or
    --max-batch, and --optimizer needs --train."""
    from scalecalc.units import parse_bytes

    if not memory and max_batch is None:
        given = {"--batch-size": batch_size, "--dtype": dtype, "--train": train}
        for option, value in (*given.items(), ("--optimizer", optimizer)):
            if value is not None:
                raise ConfigError(
                    f"{option}: applies only to predicted memory; add --memory or --max-batch"
                )
        return None
    if batch_size is not None:
        check_batch_size(batch_size)
    if optimizer is not None and not train:
        raise ConfigError("--optimizer: an optimizer's state exists only with --train")
    require_torch("--memory" if max_batch is None else "--max-batch")
    budget = None if max_batch is None else parse_bytes(max_batch, "--max-batch")
    default = MemorySetting()
    return MemorySetting(
        default.batch_size if batch_size is None else batch_size,
        default.dtype if dtype is None else dtype,
        bool(train),
        optimizer,
        budget,
    )
