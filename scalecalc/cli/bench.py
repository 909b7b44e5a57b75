"""`scalecalc bench`: time real models of a sweep and correlate runtime with flops, params, acts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

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
    info,
    output_and_plot,
    output_format,
    progress,
    user_errors,
    warn,
)
from scalecalc.cli.time_options import TargetTimeFactorsOption, TargetTimesOption, timing
from scalecalc.cli.compare import refuse_bases
from scalecalc.errors import ConfigError, ScalecalcError
from scalecalc.cli.signals import Stopped, stop_code, stop_word
from scalecalc.step_options import DEVICE_KINDS, DTYPE_NAMES
from scalecalc.requires import require_torch

if TYPE_CHECKING:
    from scalecalc.bench.results import PartialFile
    from scalecalc.bench.partial import PartialWriter
    from scalecalc.compare.run import CompareRow
    from scalecalc.bench.measurement import BenchRow, BenchSettings
    from scalecalc.cli.outputs import Destination


@app.command("bench")
def bench_command(
    configs: ConfigsArgument = None,
    sweep_file: SweepOption = None,
    strategies: StrategiesOption = None,
    factors: FactorsOption = None,
    target_flops: TargetFlopsOption = None,
    target_factors: TargetFactorsOption = None,
    target_times: TargetTimesOption = None,
    target_time_factors: TargetTimeFactorsOption = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            metavar="NAME|FILE",
            help="The device profile that solves time goals (--target-time, --target-time-factor).",
        ),
    ] = None,
    convention: SweepConventionOption = None,
    device: Annotated[
        Literal[DEVICE_KINDS] | None,  # type: ignore[valid-type]
        typer.Option("--device", help="Device; default: the best available."),
    ] = None,
    dtype: Annotated[Literal[DTYPE_NAMES], typer.Option("--dtype")] = "float32",  # type: ignore[valid-type]
    batch_size: Annotated[
        int, typer.Option("--batch-size", metavar="N", help="Images per iteration (at most 2^31).")
    ] = 8,
    train: Annotated[
        bool, typer.Option("--train", help="Time a training step (forward + backward).")
    ] = False,
    warmup: Annotated[
        int, typer.Option("--warmup", metavar="N", help="Untimed iterations per model.")
    ] = 2,
    iters: Annotated[
        int, typer.Option("--iters", metavar="N", help="Timed iterations per model.")
    ] = 5,
    rounds: Annotated[
        int,
        typer.Option(
            "--rounds",
            metavar="N",
            help="Run the sweep N times, pooling each model's iterations, "
            "so that a burst of load elsewhere hits every model alike.",
        ),
    ] = 1,
    skip_oversize: Annotated[
        bool,
        typer.Option("--skip-oversize", help="Skip, with a warning, models estimated not to fit."),
    ] = False,
    memory_check: Annotated[
        bool,
        typer.Option(
            "--memory-check/--no-memory-check",
            help="Compare each model's memory estimate with the free device memory first.",
        ),
    ] = True,
    fmt: FormatOption = None,
    output: OutputOption = None,
    plot: Annotated[
        str | None,
        typer.Option(
            "--plot", metavar="FILE", help="Also plot runtime vs each measure: .png, .svg"
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Take the measurements an interrupted run with the same settings kept in "
            "OUTPUT.partial.jsonl, and measure only the rest.",
        ),
    ] = False,
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads",
            metavar="N",
            help="CPU threads torch uses while timing (default: torch's own choice, one per "
            "core). On a busy machine, fewer threads than idle cores give steady timings.",
        ),
    ] = None,
) -> None:
    """Time each model of a sweep on a real device; correlate runtime with flops, params, acts.
    The default sweep is regnety_400mf × w, d, r, dWr × 2, 4."""
    from scalecalc.bench import plot as bench_plot
    from scalecalc.bench import report as bench_report
    from scalecalc.compare import run as compare
    from scalecalc.bench.checks import caveats
    from scalecalc.bench.partial import check_setup, open_partial
    from scalecalc.bench.measurement import BenchSettings, check_options
    from scalecalc.machine import gib
    from scalecalc.profile.document import load_profile
    from scalecalc.sweep import BENCH_SWEEP, sweep_from_options

    with user_errors():
        require_torch("bench")
        from scalecalc.nn import bench, devices

        inputs = [*(configs or []), *([sweep_file] if sweep_file is not None else [])]
        # Every option, destination and the partial file are checked before torch is
        # imported (seconds) and before anything is timed (minutes).
        destination, plot_to = output_and_plot(output, plot, inputs)
        fmt = output_format(fmt, destination)
        check_options(batch_size, warmup, iters, rounds, threads)
        sweep, entries = sweep_from_options(
            BENCH_SWEEP,
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
        predictor = None if profile is None else load_profile(profile)
        given = any(goal is not None for goal in goals)
        timed = timing(sweep, sweep_file, given, predictor, None)
        refuse_bases(sweep, destination, plot_to)
        partial = open_partial(destination, resume)
        counted = compare.run(entries, sweep.convention, timing=timed)

        settings = BenchSettings(
            devices.resolve_device(device),
            dtype,
            batch_size,
            train,
            warmup,
            iters,
            rounds,
            threads,
        )
        bench.check_dtype(settings.device, dtype, train)
        available = devices.available_memory(settings.device) if memory_check else None
        rows, skipped = bench.check_fits(counted, settings, available, skip_oversize)
        for row, estimate in skipped:
            warn(
                f"{row.key}: skipped, needs about "
                f"{gib(bench.needed_memory(estimate, settings.device))} (estimate) but "
                f"{gib(available or 0)} is available"
            )
        if not rows:
            raise ConfigError("no model of the sweep fits in memory; lower --batch-size")
        setup = bench.describe_setup(settings, sweep.convention)
        if partial is not None:
            check_setup(partial, setup)
        results, writer = _measure(rows, settings, setup, destination, partial)
        fits = bench_report.correlations(results)
        for caveat in caveats(results):
            warn(caveat.message)
        missing = [(row.key, estimate) for row, estimate in skipped]
        batch = outputs.Outputs()
        if plot is not None and plot_to is not None:
            from scalecalc.compare.plot import plot_format

            batch.add(plot_to, bench_plot.plot_bytes(results, fits, plot_format(plot)))
        render = bench_report.renderer(fmt, results, fits, setup, missing)
        emit(render, fmt, destination, batch)
        batch.commit()
        if writer is not None:
            writer.remove()


def _measure(
    rows: list[CompareRow],
    settings: BenchSettings,
    setup: dict[str, Any],
    output: Destination,
    partial: PartialFile | None,
) -> tuple[list[BenchRow], PartialWriter | None]:
    """Run the benchmark, streaming each measurement to OUTPUT.partial.jsonl when the output is
    a regular file, and taking those of an earlier run from `partial`. On Ctrl-C, SIGTERM or
    an error the partial file stays (unless it holds nothing) and the message names it."""
    from scalecalc.bench import partial as bench_partial
    from scalecalc.nn import bench

    if output.target is None or output.in_place:
        with progress("bench", bench.measurements(rows, settings.rounds), log=True) as advance:
            return bench.run(rows, settings, lambda index, row: advance(index, row.key)), None
    path = bench_partial.partial_path(output)
    records = [] if partial is None else partial.records
    previous, kept = bench_partial.reusable(records, rows, settings.rounds)
    total = bench.measurements(rows, settings.rounds)
    if partial is not None:
        info(f"resuming from {path}: {len(previous)} of {total} measurements already done")
    writer = bench_partial.PartialWriter(path, setup, kept)
    try:
        with progress("bench", total - len(previous), log=True) as advance:
            results = bench.run(
                rows,
                settings,
                lambda index, row: advance(index, row.key),
                previous=previous,
                on_measured=writer.add,
            )
    except (KeyboardInterrupt, Stopped, ScalecalcError) as error:
        if writer.count == 0:
            writer.remove()
            raise
        writer.close()
        kept_line = f"{writer.count} of {total} measurements kept in {path}; rerun with --resume"
        if isinstance(error, ScalecalcError):
            raise fail(f"{error}; {kept_line}", error.exit_code) from None
        raise fail(f"{stop_word(error)}; {kept_line}", stop_code(error)) from None
    writer.close()
    return results, writer
