"""`scalecalc bench`: time real models of a sweep and correlate runtime with flops, params, acts."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scalecalc.cli._common import (
    FormatOption,
    OutputOption,
    app,
    choose,
    emit,
    info,
    output_format,
    user_errors,
    warn,
    write_atomic,
)
from scalecalc.cli.compare import sweep_from_options
from scalecalc.errors import ConfigError
from scalecalc.memory import gib
from scalecalc.sweep import Sweep

if TYPE_CHECKING:
    from scalecalc.bench import BenchSettings
    from scalecalc.compare import CompareRow

FORMATS = ("table", "md", "json", "csv")
# Small enough for a CPU: 9 models from 0.4 to 1.6 GF, a few minutes at batch 8.
BENCH_SWEEP = Sweep(bases=("regnety_400mf",), strategies=("w", "d", "r", "dWr"), factors=(2.0, 4.0))


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int, CompareRow], None]]:
    """A rich progress bar on a terminal's stderr; otherwise one stderr line per model."""
    if not sys.stderr.isatty():
        yield lambda index, row: info(f"bench [{index + 1}/{total}] {row.key}")
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("timing", total=total)
        yield lambda index, row: progress.update(task, completed=index, description=row.key)


def _check_counts(batch_size: int, warmup: int, iters: int, rounds: int) -> None:
    for option, value, least in (
        ("--batch-size", batch_size, 1),
        ("--warmup", warmup, 0),
        ("--iters", iters, 1),
        ("--rounds", rounds, 1),
    ):
        if value < least:
            raise ConfigError(f"{option}: must be at least {least}, got {value}")


def _setup(settings: BenchSettings, convention: str) -> dict[str, Any]:
    import torch

    from scalecalc.devices import describe_device

    return {
        "device": describe_device(settings.device),
        "device_kind": settings.device,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "mode": settings.mode,
        "batch_size": settings.batch_size,
        "dtype": settings.dtype,
        "warmup": settings.warmup,
        "iters": settings.iters,
        "rounds": settings.rounds,
        "convention": convention,
    }


@app.command("bench")
def bench_command(
    configs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="CONFIG",
            help="Base models (YAML files or preset names); default: regnety_400mf.",
        ),
    ] = None,
    sweep_file: Annotated[
        Path | None,
        typer.Option("--sweep", metavar="FILE", help="A sweep YAML file, as for `compare`."),
    ] = None,
    strategies: Annotated[
        list[str] | None,
        typer.Option("--strategies", "-s", metavar="S,...", help="Strategies (default w,d,r,dWr)."),
    ] = None,
    factors: Annotated[
        list[str] | None,
        typer.Option("--factors", metavar="F,...", help="Flops factors (default 2,4)."),
    ] = None,
    target_flops: Annotated[
        list[str] | None,
        typer.Option("--target-flops", metavar="N,...", help="Flops targets, e.g. 1.6G."),
    ] = None,
    convention: Annotated[
        str | None,
        typer.Option("--convention", metavar="NAME", help="paper or fvcore (default: sweep's)."),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option(
            "--device", metavar="NAME", help="cpu, cuda or mps (default: best available)."
        ),
    ] = None,
    dtype: Annotated[
        str, typer.Option("--dtype", metavar="NAME", help="float32, float16 or bfloat16.")
    ] = "float32",
    batch_size: Annotated[
        int, typer.Option("--batch-size", "-b", metavar="N", help="Images per iteration.")
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
        Path | None,
        typer.Option(
            "--plot", metavar="FILE", help="Also plot runtime vs each measure: .png, .svg"
        ),
    ] = None,
) -> None:
    """Time each model of a sweep on a real device; correlate runtime with flops, params, acts."""
    from scalecalc import bench, bench_report, compare, devices

    with user_errors():
        fmt = output_format(fmt, FORMATS, output)
        choose(dtype, tuple(bench.DTYPES), "--dtype")
        _check_counts(batch_size, warmup, iters, rounds)
        for path, option in ((output, "--output"), (plot, "--plot")):
            if path is not None and not path.parent.is_dir():
                raise ConfigError(f"{option}: directory {path.parent} does not exist")
        if plot is not None:
            from scalecalc.plot import check_plot_available, check_plot_path

            check_plot_path(plot)
            check_plot_available()
        settings = bench.BenchSettings(
            devices.resolve_device(device), dtype, batch_size, train, warmup, iters, rounds
        )
        bench.check_dtype(settings.device, dtype, train)
        sweep, entries = sweep_from_options(
            BENCH_SWEEP, sweep_file, configs, strategies, factors, target_flops, convention
        )
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
        with _progress(bench.measurements(rows, rounds)) as on_start:
            results = bench.run(rows, settings, on_start)
        fits = bench_report.correlations(results)
        setup = _setup(settings, sweep.convention)
        missing = [(row.key, estimate) for row, estimate in skipped]
        renderers = {
            "json": lambda: bench_report.to_json(results, fits, setup, missing),
            "csv": lambda: bench_report.to_csv(results, setup),
            "md": lambda: bench_report.to_markdown(results, fits, setup),
            "table": lambda: bench_report.to_rich(results, fits, setup),
        }
        if plot is not None:
            data = bench_report.plot_bytes(results, fits, plot.suffix.lower().lstrip("."))
            write_atomic(plot, data)
        emit(renderers[fmt], fmt, output)
