"""A run of `scalecalc bench`: the sweep's models timed, resumed from an earlier run's partial
file where asked, correlated with their counts, plotted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scalecalc.errors import ConfigError, PartKept, ScalecalcError
from scalecalc.hooks import Hooks
from scalecalc.sweep_options import SweepOptions

if TYPE_CHECKING:
    from scalecalc.bench.measurement import BenchRow, BenchSettings
    from scalecalc.bench.partial import PartialWriter
    from scalecalc.bench.results import PartialFile
    from scalecalc.cli.outputs import Destination
    from scalecalc.compare.run import CompareRow
    from scalecalc.correlation import Correlation


@dataclass(frozen=True)
class BenchOptions:
    """What `scalecalc bench` is asked: the sweep, how to time it, and what to write."""

    sweep: SweepOptions = field(default_factory=SweepOptions)
    profile: str | None = None  # solves time goals
    device: str | None = None  # None: the best available
    dtype: str = "float32"
    batch_size: int = 8
    train: bool = False
    warmup: int = 2
    iters: int = 5
    rounds: int = 1
    threads: int | None = None
    skip_oversize: bool = False
    memory_check: bool = True
    resume: bool = False
    plot: str | None = None  # the plot's file name, which gives its format


@dataclass(frozen=True)
class BenchRun:
    """The outcome: measured rows, their correlations, the setup, the models skipped as too
    large (key, estimated bytes), the plot's bytes, and the partial file to remove once the
    output is written."""

    results: list[BenchRow]
    fits: list[Correlation]
    setup: dict[str, Any]
    missing: list[tuple[str, int]]
    plot: bytes | None
    writer: PartialWriter | None

    def renderer(self, fmt: str) -> Callable[[], Any]:
        """What renders the run in `fmt`, called when it is written."""
        from scalecalc.bench import report

        return report.renderer(fmt, self.results, self.fits, self.setup, self.missing)

    def finish(self) -> None:
        """Remove the partial file: the output that holds its measurements is written."""
        if self.writer is not None:
            self.writer.remove()


def bench_sweep(options: BenchOptions, output: Destination, hooks: Hooks) -> BenchRun:
    """Time each model of the sweep; every option and the partial file beside `output` are
    checked before anything is timed."""
    from scalecalc.bench import plot as bench_plot
    from scalecalc.bench.checks import caveats
    from scalecalc.bench.measurement import BenchSettings, check_options
    from scalecalc.bench.partial import check_setup, open_partial
    from scalecalc.bench.report import correlations
    from scalecalc.compare import run as compare
    from scalecalc.compare.time_goals import timing
    from scalecalc.profile.document import load_profile
    from scalecalc.sweep import BENCH_SWEEP
    from scalecalc.sweep_options import sweep_from_options

    check_options(
        options.batch_size, options.warmup, options.iters, options.rounds, options.threads
    )
    sweep, entries = sweep_from_options(BENCH_SWEEP, options.sweep)
    predictor = None if options.profile is None else load_profile(options.profile)
    timed = timing(sweep, options.sweep, predictor, None)
    hooks.check_outputs(sweep)
    partial = open_partial(output, options.resume)
    counted = compare.run(entries, sweep.convention, timing=timed)
    # Torch is imported (seconds) only once every option and the partial file are checked.
    from scalecalc.nn import bench, devices

    settings = BenchSettings(
        devices.resolve_device(options.device),
        options.dtype,
        options.batch_size,
        options.train,
        options.warmup,
        options.iters,
        options.rounds,
        options.threads,
    )
    bench.check_dtype(settings.device, options.dtype, options.train)
    rows, skipped = _fitting(counted, settings, options, hooks)
    setup = bench.describe_setup(settings, sweep.convention)
    if partial is not None:
        check_setup(partial, setup)
    results, writer = _measure(rows, settings, setup, output, partial, hooks)
    fits = correlations(results)
    for caveat in caveats(results):
        hooks.warn(caveat.message)
    missing = [(row.key, estimate) for row, estimate in skipped]
    plot = None
    if options.plot is not None:
        from scalecalc.compare.plot import plot_format

        plot = bench_plot.plot_bytes(results, fits, plot_format(options.plot))
    return BenchRun(results, fits, setup, missing, plot, writer)


def _fitting(
    counted: Sequence[CompareRow], settings: BenchSettings, options: BenchOptions, hooks: Hooks
) -> tuple[list[CompareRow], list[tuple[CompareRow, int]]]:
    """The rows estimated to fit in the device's free memory, and those skipped (with a
    warning each, under --skip-oversize); ConfigError when none fits."""
    from scalecalc.machine import gib
    from scalecalc.nn import bench, devices

    available = devices.available_memory(settings.device) if options.memory_check else None
    rows, skipped = bench.check_fits(counted, settings, available, options.skip_oversize)
    for row, estimate in skipped:
        hooks.warn(
            f"{row.key}: skipped, needs about "
            f"{gib(bench.needed_memory(estimate, settings.device))} (estimate) but "
            f"{gib(available or 0)} is available"
        )
    if not rows:
        raise ConfigError("no model of the sweep fits in memory; lower --batch-size")
    return rows, skipped


def _measure(
    rows: list[CompareRow],
    settings: BenchSettings,
    setup: dict[str, Any],
    output: Destination,
    partial: PartialFile | None,
    hooks: Hooks,
) -> tuple[list[BenchRow], PartialWriter | None]:
    """Run the benchmark, streaming each measurement to OUTPUT.partial.jsonl when the output is
    a regular file, and taking those of an earlier run from `partial`. On Ctrl-C, SIGTERM or
    an error the partial file stays (unless it holds nothing) and the error names it."""
    from scalecalc.bench import partial as bench_partial
    from scalecalc.nn import bench

    def advance_by_key(advance: Callable[[int, str], None]) -> Callable[[int, Any], None]:
        return lambda index, row: advance(index, row.key)

    if output.target is None or output.in_place:
        with hooks.progress("bench", bench.measurements(rows, settings.rounds), True) as advance:
            return bench.run(rows, settings, advance_by_key(advance)), None
    path = bench_partial.partial_path(output)
    records = [] if partial is None else partial.records
    previous, kept = bench_partial.reusable(records, rows, settings.rounds)
    total = bench.measurements(rows, settings.rounds)
    if partial is not None:
        hooks.info(f"resuming from {path}: {len(previous)} of {total} measurements already done")
    writer = bench_partial.PartialWriter(path, setup, kept)
    try:
        with hooks.progress("bench", total - len(previous), True) as advance:
            results = bench.run(
                rows,
                settings,
                advance_by_key(advance),
                previous=previous,
                on_measured=writer.add,
            )
    except BaseException as error:
        # A bad input, Ctrl-C or a signal (KeyboardInterrupt and the CLI's Stopped are
        # BaseExceptions) keeps what was measured; any other error is a bug and goes on up.
        if isinstance(error, Exception) and not isinstance(error, ScalecalcError):
            raise
        if writer.count == 0:
            writer.remove()
            raise
        writer.close()
        kept_line = f"{writer.count} of {total} measurements kept in {path}; rerun with --resume"
        raise PartKept(error, kept_line) from None
    writer.close()
    return results, writer
