"""`scalecalc bench`: time real models of a sweep and correlate runtime with flops, params, acts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

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
    fail,
    info,
    output_and_plot,
    output_format,
    progress,
    user_errors,
    warn,
)
from scalecalc.cli.compare import refuse_bases
from scalecalc.errors import ConfigError, ScalecalcError
from scalecalc.interrupts import Stopped, stop_code, stop_word
from scalecalc.measurement import DTYPE_NAMES
from scalecalc.requires import require_torch

if TYPE_CHECKING:
    from scalecalc.bench_partial import PartialWriter
    from scalecalc.compare import CompareRow
    from scalecalc.measurement import BenchRow, BenchSettings
    from scalecalc.outputs import Destination


@app.command("bench")
def bench_command(
    configs: ConfigsArgument = None,
    sweep_file: SweepOption = None,
    strategies: StrategiesOption = None,
    factors: FactorsOption = None,
    target_flops: TargetFlopsOption = None,
    target_factors: TargetFactorsOption = None,
    convention: SweepConventionOption = None,
    device: Annotated[
        Literal["cpu", "cuda", "mps"] | None,
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
) -> None:
    """Time each model of a sweep on a real device; correlate runtime with flops, params, acts.
    The default sweep is regnety_400mf × w, d, r, dWr × 2, 4."""
    from scalecalc import bench_plot, bench_report, compare
    from scalecalc.bench_checks import caveats
    from scalecalc.measurement import BenchSettings
    from scalecalc.memory import gib
    from scalecalc.sweep import BENCH_SWEEP, sweep_from_options

    with user_errors():
        require_torch("bench")
        from scalecalc.nn import bench, devices

        inputs = [*(configs or []), *([sweep_file] if sweep_file is not None else [])]
        # Every destination is checked before anything is timed, not after.
        destination, plot_to = output_and_plot(output, plot, inputs)
        fmt = output_format(fmt, destination)
        settings = BenchSettings(
            devices.resolve_device(device), dtype, batch_size, train, warmup, iters, rounds
        )
        bench.check_dtype(settings.device, dtype, train)
        sweep, entries = sweep_from_options(
            BENCH_SWEEP,
            sweep_file,
            configs,
            strategies,
            factors,
            target_flops,
            target_factors,
            convention,
        )
        refuse_bases(sweep, destination, plot_to)
        counted = compare.run(entries, sweep.convention)
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
        results, partial = _measure(rows, settings, setup, destination, resume)
        fits = bench_report.correlations(results)
        for caveat in caveats(results):
            warn(caveat.message)
        missing = [(row.key, estimate) for row, estimate in skipped]
        batch = outputs.Outputs()
        if plot is not None and plot_to is not None:
            from scalecalc.plot import plot_format

            batch.add(plot_to, bench_plot.plot_bytes(results, fits, plot_format(plot)))
        render = bench_report.renderer(fmt, results, fits, setup, missing)
        emit(render, fmt, destination, batch)
        batch.commit()
        if partial is not None:
            partial.remove()


def _measure(
    rows: list[CompareRow],
    settings: BenchSettings,
    setup: dict[str, Any],
    output: Destination,
    resume: bool,
) -> tuple[list[BenchRow], PartialWriter | None]:
    """Run the benchmark, streaming each measurement to OUTPUT.partial.jsonl when the output is
    a regular file, and taking those of an earlier run from it with `resume`. On Ctrl-C,
    SIGTERM or an error the partial file stays (unless it holds nothing) and the message
    names it."""
    from scalecalc import bench_partial
    from scalecalc.nn import bench

    if output.target is None or output.in_place:
        if resume:
            raise ConfigError("--resume: needs --output FILE (the partial file sits beside it)")
        with progress("bench", bench.measurements(rows, settings.rounds), log=True) as advance:
            return bench.run(rows, settings, lambda index, row: advance(index, row.key)), None
    path = bench_partial.partial_path(output.target)
    records = bench_partial.read_partial(path, setup, resume)
    previous, kept = bench_partial.reusable(records, rows, settings.rounds)
    total = bench.measurements(rows, settings.rounds)
    if resume and path.exists():
        info(f"resuming from {path}: {len(previous)} of {total} measurements already done")
    partial = bench_partial.PartialWriter(path, setup, kept)
    try:
        with progress("bench", total - len(previous), log=True) as advance:
            results = bench.run(
                rows,
                settings,
                lambda index, row: advance(index, row.key),
                previous=previous,
                on_measured=partial.add,
            )
    except (KeyboardInterrupt, Stopped, ScalecalcError) as error:
        if partial.count == 0:
            partial.remove()
            raise
        partial.close()
        kept_line = f"{partial.count} of {total} measurements kept in {path}; rerun with --resume"
        if isinstance(error, ScalecalcError):
            raise fail(f"{error}; {kept_line}", error.exit_code) from None
        raise fail(f"{stop_word(error)}; {kept_line}", stop_code(error)) from None
    partial.close()
    return results, partial
