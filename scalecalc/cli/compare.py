"""`scalecalc compare`: a sweep of bases × strategies × factors as tables, exponents and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from scalecalc.cli.common import (
    FormatOption,
    OutputOption,
    app,
    command_hooks,
    emit_with_plot,
    fail_each,
    output_and_plot,
    output_format,
    user_errors,
)
from scalecalc.cli.trainoptions import AmpOption, ChannelsLastOption, EmaOption
from scalecalc.cli.sweep_options import with_sweep_options
from scalecalc.cli.time_options import EpochsOption, GpusOption, ImagesOption, ProfileOption
from scalecalc.memoryestimate import MEMORY_COUNTERS
from scalecalc.step_options import DTYPE_NAMES, OPTIMIZERS
from scalecalc.sweep_options import SweepOptions


@app.command("compare")
@with_sweep_options
def compare_command(
    sweep: SweepOptions,
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
            help="Add the largest batch that fits a CUDA device of SIZE (e.g. 24GiB, 80GB): "
            "tensors, allocator reserve, workspaces, context; implies --memory.",
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
    amp: AmpOption = None,
    channels_last: ChannelsLastOption = None,
    ema: EmaOption = None,
    memory_counter: Annotated[
        Literal[MEMORY_COUNTERS] | None,  # type: ignore[valid-type]
        typer.Option(
            "--memory-counter",
            help="For --memory: analytic (closed form, no torch; the default) or trace (meta "
            "device, torch).",
        ),
    ] = None,
) -> None:
    """Scale each base with each strategy and compare flops, params and acts; fit exponents;
    optionally predict time per image on a device, hours of a training run and peak memory;
    or grow each strategy to a predicted time and rank what the time buys. A model that cannot
    be made is left out with one error line; the rest is shown, and the exit status is 2."""

    from scalecalc.compare.session import CompareOptions, MemoryOptions, compare_sweep

    with user_errors():
        inputs = [*sweep.inputs, *([bench_file] if bench_file is not None else [])]
        # Every destination is checked before the sweep runs, not after.
        destination, plot_to = output_and_plot(output, plot, inputs)
        fmt = output_format(fmt, destination)
        memory_options = MemoryOptions(
            memory, max_batch, batch_size, dtype, train, optimizer, amp, channels_last, ema,
            memory_counter,
        )  # fmt: skip
        options = CompareOptions(
            sweep, bench_file=bench_file, profile=profile, epochs=epochs, images=images,
            gpus=gpus, memory=memory_options, plot=plot,
        )  # fmt: skip
        comparison = compare_sweep(options, command_hooks(destination, plot_to))
        render = comparison.renderer(fmt)
        emit_with_plot(render, fmt, destination, plot_to, comparison.plot)
    # Each refused model on its own line, after the output of those that could be made.
    fail_each(comparison.refused)
