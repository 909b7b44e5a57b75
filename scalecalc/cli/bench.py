"""`scalecalc bench`: time real models of a sweep and correlate runtime with flops, params, acts."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from scalecalc.cli.common import (
    FormatOption,
    OutputOption,
    app,
    command_hooks,
    emit_with_plot,
    output_and_plot,
    output_format,
    user_errors,
)
from scalecalc.cli.sweep_options import with_sweep_options
from scalecalc.step_options import DEVICE_KINDS, DTYPE_NAMES
from scalecalc.requires import require_torch
from scalecalc.sweep_options import SweepOptions


@app.command("bench")
@with_sweep_options
def bench_command(
    sweep: SweepOptions,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            metavar="NAME|FILE",
            help="The device profile that solves time goals (--target-time, --target-time-factor).",
        ),
    ] = None,
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

    from scalecalc.bench.session import BenchOptions, bench_sweep

    with user_errors():
        require_torch("bench")
        # Every option, destination and the partial file are checked before anything is timed.
        destination, plot_to = output_and_plot(output, plot, sweep.inputs)
        fmt = output_format(fmt, destination)
        options = BenchOptions(
            sweep, profile=profile, device=device, dtype=dtype, batch_size=batch_size,
            train=train, warmup=warmup, iters=iters, rounds=rounds, threads=threads,
            skip_oversize=skip_oversize, memory_check=memory_check, resume=resume, plot=plot,
        )  # fmt: skip
        run = bench_sweep(options, destination, command_hooks(destination, plot_to))
        emit_with_plot(run.renderer(fmt), fmt, destination, plot_to, run.plot)
        run.finish()
