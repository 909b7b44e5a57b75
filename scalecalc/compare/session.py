"""A run of `scalecalc compare`: the sweep counted or grown to its goals, annotated, plotted."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scalecalc.compare.annotations import Annotation, MemorySetting
from scalecalc.devicememory import fixed_bytes
from scalecalc.errors import ConfigError
from scalecalc.hooks import Hooks
from scalecalc.limits import check_batch_size
from scalecalc.requires import require_torch
from scalecalc.step_options import AMP_DTYPES
from scalecalc.sweep_options import SweepOptions

if TYPE_CHECKING:
    from scalecalc.compare.run import CompareRow, Exponent
    from scalecalc.compare.time_goals import Timing
    from scalecalc.profile.model import Profile


@dataclass(frozen=True)
class MemoryOptions:
    """The predicted-memory options as given (None: not given)."""

    memory: bool = False
    max_batch: str | None = None
    batch_size: int | None = None
    dtype: str | None = None
    train: bool | None = None
    optimizer: str | None = None
    amp: bool | None = None
    channels_last: bool | None = None
    ema: bool | None = None
    counter: str | None = None


@dataclass(frozen=True)
class CompareOptions:
    """What `scalecalc compare` is asked: the sweep, and the columns and plot to add."""

    sweep: SweepOptions = field(default_factory=SweepOptions)
    bench_file: Path | None = None
    profile: str | None = None
    epochs: int | None = None
    images: int | None = None
    gpus: int | None = None
    memory: MemoryOptions = field(default_factory=MemoryOptions)
    plot: str | None = None  # the plot's file name, which gives its format


# A bench file's setup line and its rows by key.
Runtimes = tuple[str, dict[str, dict[str, Any]]]


@dataclass(frozen=True)
class Comparison:
    """The outcome: rows, exponents and annotations to render, the plot's bytes, and one line
    per model that could not be made."""

    rows: list[CompareRow]
    fits: list[Exponent]
    convention: str
    annotations: list[Annotation]
    plot: bytes | None
    refused: list[str]

    def renderer(self, fmt: str) -> Callable[[], Any]:
        """What renders the comparison in `fmt`, called when it is written."""
        from scalecalc.compare import report

        return report.renderer(fmt, self.rows, self.fits, self.convention, self.annotations)


def memory_setting(options: MemoryOptions) -> MemorySetting | None:
    """The memory columns asked for, or None; the options that shape them need --memory or
    --max-batch, --optimizer and --ema need --train, and --amp a low precision (float16 when
    --dtype is not given)."""
    from scalecalc.units import parse_bytes

    if not options.memory and options.max_batch is None:
        given = {
            "--batch-size": options.batch_size,
            "--dtype": options.dtype,
            "--train": options.train,
            "--optimizer": options.optimizer,
            "--amp": options.amp,
            "--channels-last": options.channels_last,
            "--ema": options.ema,
            "--memory-counter": options.counter,
        }
        for option, value in given.items():
            if value is not None:
                raise ConfigError(
                    f"{option}: applies only to predicted memory; add --memory or --max-batch"
                )
        return None
    if options.batch_size is not None:
        check_batch_size(options.batch_size)
    if options.optimizer is not None and not options.train:
        raise ConfigError("--optimizer: an optimizer's state exists only with --train")
    if options.ema and not options.train:
        raise ConfigError("--ema: a weight EMA exists only with --train")
    if options.amp and options.dtype == "float32":
        raise ConfigError(
            f"--amp: autocast runs in a low precision; give --dtype {' or '.join(AMP_DTYPES)}, "
            "not float32 (without --amp, --dtype float32 traces every tensor in float32)"
        )
    counter = options.counter or "analytic"
    if counter == "trace":
        require_torch("--memory-counter trace")
    budget = None if options.max_batch is None else parse_bytes(options.max_batch, "--max-batch")
    if budget is not None and budget < fixed_bytes():
        raise ConfigError(
            f"--max-batch: {options.max_batch} is less than a CUDA device needs before any tensor "
            f"(context and cuBLAS workspace, {fixed_bytes() / 2**30:.2f} GiB)"
        )
    default = MemorySetting()
    dtype = AMP_DTYPES[0] if options.amp else default.dtype
    return MemorySetting(
        default.batch_size if options.batch_size is None else options.batch_size,
        dtype if options.dtype is None else options.dtype,
        bool(options.train),
        options.optimizer,
        budget,
        amp=bool(options.amp),
        channels_last=bool(options.channels_last),
        ema=bool(options.ema),
        counter=counter,
    )


def compare_sweep(options: CompareOptions, hooks: Hooks) -> Comparison:
    """Scale each base with each strategy, count (or grow to time goals) and annotate; every
    option is checked before anything is counted. A model that cannot be made is left out."""
    from scalecalc.compare import run as compare
    from scalecalc.compare.run_cost import run_setting
    from scalecalc.compare.time_goals import mode_mismatch, timing
    from scalecalc.profile.document import load_profile
    from scalecalc.sweep import DEFAULT_SWEEP
    from scalecalc.sweep_options import sweep_from_options

    predictor = None if options.profile is None else load_profile(options.profile)
    setting = memory_setting(options.memory)
    run = run_setting(options.epochs, options.images, options.gpus)
    measured: Runtimes | None = None
    if options.bench_file is not None:
        from scalecalc.bench.report import read_runtimes

        measured = read_runtimes(options.bench_file)
    sweep, entries = sweep_from_options(DEFAULT_SWEEP, options.sweep)
    timed = timing(sweep, options.sweep, predictor, run)
    training = run is not None or bool(options.memory.train)
    mismatch = mode_mismatch(predictor, training, setting is not None)
    if mismatch is not None:
        hooks.warn(mismatch)
    hooks.check_outputs(sweep)
    refused: list[str] = []  # one line per model that cannot be made: key and reason
    with hooks.progress("counting", len(entries), False) as advance:
        done = itertools.count(1)
        on_entry = lambda entry: advance(next(done), entry.key)  # noqa: E731
        rows = compare.run(
            entries, sweep.convention, on_entry, timing=timed, on_refused=refused.append
        )
    for line in compare.unsupported_warnings(rows):
        hooks.warn(line)
    annotations = []
    if measured is not None:
        assert options.bench_file is not None
        annotations += _measured(rows, options.bench_file, measured, hooks)
    if predictor is not None and timed is not None:
        annotations += _predicted(rows, predictor, timed)
    if setting is not None:
        annotations.append(_memory(rows, setting, predictor, hooks))
    plot = None
    if options.plot is not None:
        from scalecalc.compare.plot import plot_bytes, plot_format

        plot = plot_bytes(rows, plot_format(options.plot))
    fits = compare.exponents(rows)
    return Comparison(rows, fits, sweep.convention, annotations, plot, refused)


def _measured(
    rows: Sequence[CompareRow], bench_file: Path, measured: Runtimes, hooks: Hooks
) -> list[Annotation]:
    """The runtime columns of a bench file, by row key."""
    from scalecalc.bench.report import runtimes_for

    runtimes, warnings = runtimes_for(rows, bench_file, measured)
    for line in warnings:
        hooks.warn(line)
    return [runtimes]


def _predicted(rows: Sequence[CompareRow], predictor: Profile, timed: Timing) -> list[Annotation]:
    """Predicted time per image, the time goals met and a run's hours."""
    from scalecalc.compare.annotations import predicted_runtime
    from scalecalc.compare.run_cost import run_cost
    from scalecalc.compare.time_goals import goal_annotation

    prediction = predicted_runtime(rows, predictor)
    annotations = [prediction]
    assert prediction.summary is not None
    if any(row.time_goal is not None for row in rows):
        annotations.append(goal_annotation(rows, prediction.summary.values, timed))
    if timed.run is not None:
        annotations.append(run_cost(prediction, timed.run, predictor.name))
    return annotations


def _memory(
    rows: Sequence[CompareRow], setting: MemorySetting, predictor: Profile | None, hooks: Hooks
) -> Annotation:
    """Predicted peak memory, with a warning where it exceeds the profile's device."""
    from scalecalc.compare.annotations import over_device_memory, predicted_memory

    if setting.channels_last:
        vits = [row.key for row in rows if row.family == "vit"]
        if vits:
            hooks.warn(
                f"--channels-last: no effect on ViT models ({len(vits)} of {len(rows)}, first "
                f"{vits[0]}): their one convolution is the patch embedding; counted as they are"
            )
    memory = predicted_memory(rows, setting)
    over = None if predictor is None else over_device_memory(memory, predictor)
    if over is not None:
        hooks.warn(over)
    return memory
