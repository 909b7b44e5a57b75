"""Measure real runtime of built models: the timing harness, memory check and run loop."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from scalecalc.errors import ConfigError, ModelTooLargeError
from scalecalc.bench.measurement import BenchRow, BenchSettings, Measurement
from scalecalc.machine import gib
from scalecalc.nn.devices import (
    TORCH_DTYPES,
    PeakMemory,
    describe_device,
    no_sync,
    release,
    synchronizer,
)

if TYPE_CHECKING:
    from scalecalc.compare.run import CompareRow
    from scalecalc.families.spec import BaseSpec

# The estimate is the traced peak of tensor bytes (scalecalc.nn.memory). A process needs more: on
# a CPU the C library keeps freed heap pages resident (peak RSS was 1.25-1.7x the allocator's peak
# on the default sweep, benchmarks/memory.py) and oneDNN keeps caches; on CUDA the caching
# allocator holds freed blocks and cuDNN takes workspaces. The fit check asks for the estimate
# times HEADROOM plus OVERHEAD.
HEADROOM = {"cpu": 1.75, "cuda": 1.25, "mps": 1.25}
OVERHEAD = 128 * 2**20


def time_model(
    step: Callable[[], object],
    warmup: int,
    iters: int,
    clock: Callable[[], float] = time.perf_counter,
    synchronize: Callable[[], None] = no_sync,
) -> list[float]:
    """Run `step` `warmup` times untimed, then `iters` times timed; seconds per timed run.

    `synchronize` runs before every clock read, so that on an asynchronous device (CUDA, MPS)
    the time covers the kernels `step` queued, not only their launch."""
    if warmup < 0 or iters < 1:
        raise ValueError(f"need warmup >= 0 and iters >= 1, got {warmup} and {iters}")
    for _ in range(warmup):
        step()
    times = []
    for _ in range(iters):
        synchronize()
        start = clock()
        step()
        synchronize()
        times.append(clock() - start)
    return times


def estimate_row(row: CompareRow, settings: BenchSettings) -> int:
    """Peak tensor bytes of one step of the row's model, traced on meta tensors."""
    return _estimate(row.spec, settings.batch_size, settings.dtype, settings.train, settings.device)


@functools.lru_cache(maxsize=256)
def _estimate(spec: BaseSpec, batch_size: int, dtype: str, train: bool, device: str) -> int:
    # check_fits and every round of run() ask for the same models.
    from scalecalc.nn.memory import estimate_peak

    return estimate_peak(spec, batch_size, dtype, train, device=device).total_bytes


def needed_memory(estimate: int, device: str) -> int:
    """Free bytes to ask for before running a model whose estimated peak is `estimate`."""
    return int(estimate * HEADROOM[device]) + OVERHEAD


def check_fits(
    rows: Sequence[CompareRow], settings: BenchSettings, available: int | None, skip: bool
) -> tuple[list[CompareRow], list[tuple[CompareRow, int]]]:
    """(rows that fit, skipped (row, estimate)); without `skip`, the first misfit is an error."""
    fitting, skipped = [], []
    for row in rows:
        estimate = estimate_row(row, settings)
        needed = needed_memory(estimate, settings.device)
        if available is None or needed <= available:
            fitting.append(row)
        elif skip:
            skipped.append((row, estimate))
        else:
            raise ModelTooLargeError(
                f"{row.key}: needs about {gib(needed)} on {settings.device} (estimate) but "
                f"{gib(available)} is available; lower --batch-size or pass --skip-oversize"
            )
    return fitting, skipped


def check_dtype(device: str, dtype: str, train: bool) -> None:
    """ConfigError unless a small conv net runs in `dtype` on `device` (and trains, if asked)."""
    probe = nn.Sequential(
        nn.Conv2d(3, 4, 3),
        nn.BatchNorm2d(4),
        nn.GELU(),
        nn.Flatten(),
        nn.LayerNorm(16),
        nn.Linear(16, 2),
    ).to(device=device, dtype=TORCH_DTYPES[dtype])
    inputs = torch.ones(2, 3, 4, 4, device=device, dtype=TORCH_DTYPES[dtype])
    try:
        if train:
            probe(inputs).float().sum().backward()
        else:
            with torch.inference_mode():
                probe(inputs)
    except (RuntimeError, NotImplementedError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConfigError(f"--dtype {dtype}: not supported on {device} here ({first})") from None


def make_step(model: nn.Module, inputs: torch.Tensor, train: bool) -> Callable[[], None]:
    """One iteration: inference (eval mode, inference_mode) or forward + backward of the sum."""
    if train:
        model.train()

        def train_step() -> None:
            model.zero_grad(set_to_none=True)
            model(inputs).float().sum().backward()

        return train_step
    model.eval()

    def inference_step() -> None:
        with torch.inference_mode():
            model(inputs)

    return inference_step


def measure(spec: BaseSpec, settings: BenchSettings, estimate: int = 0) -> Measurement:
    """Build `spec` with real weights on the device, time it, free it (also on Ctrl-C)."""
    from scalecalc.api import build

    device, dtype = settings.device, TORCH_DTYPES[settings.dtype]
    memory = PeakMemory(device)
    memory.start()
    model: nn.Module | None = None
    inputs: torch.Tensor | None = None
    step: Callable[[], None] | None = None
    # cuDNN autotuning, as in the paper's code (pycls); the warm-up iterations absorb the tuning.
    autotune = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = device == "cuda" or autotune
    try:
        model = build(spec, device).to(dtype)
        size = (settings.batch_size, 3, spec.resolution, spec.resolution)
        inputs = torch.randn(size, device=device, dtype=dtype)
        step = make_step(model, inputs, settings.train)
        times = time_model(step, settings.warmup, settings.iters, synchronize=synchronizer(device))
        return Measurement(tuple(times), settings.batch_size, memory.peak(), estimate)
    finally:
        # The step closure holds the model too; all three must go before memory is released.
        del model, inputs, step
        torch.backends.cudnn.benchmark = autotune
        release(device)


def run(
    rows: Sequence[CompareRow],
    settings: BenchSettings,
    on_start: Callable[[int, CompareRow], None] | None = None,
    measure_spec: Callable[[BaseSpec, BenchSettings, int], Measurement] = measure,
    previous: Mapping[tuple[str, int], Measurement] | None = None,
    on_measured: Callable[[int, CompareRow, Measurement], None] | None = None,
) -> list[BenchRow]:
    """Measure every row, `settings.rounds` times through the list; a repeated spec runs once
    per round, under the key of its first row. A (key, round) in `previous` is taken from it
    instead of measured. `on_start` gets the number of measurements this call started before
    this one; `on_measured` gets (round, row, measurement) as each one finishes."""
    first: dict[BaseSpec, CompareRow] = {}
    for row in rows:
        first.setdefault(row.spec, row)
    distinct = list(first.values())
    done: dict[BaseSpec, Measurement] = {}
    started = 0
    release(settings.device)  # each measurement releases after itself; this clears the way
    with threads(settings.threads):
        for round_index in range(settings.rounds):
            for row in distinct:
                measured = (previous or {}).get((row.key, round_index))
                if measured is None:
                    if on_start is not None:
                        on_start(started, row)
                    started += 1
                    measured = _measure_row(row, settings, measure_spec)
                    if on_measured is not None:
                        on_measured(round_index, row, measured)
                earlier = done.get(row.spec)
                done[row.spec] = measured if earlier is None else earlier.merged(measured)
    return [BenchRow(row, done[row.spec]) for row in rows]


@contextmanager
def threads(count: int | None) -> Iterator[None]:
    """torch's intra-op CPU threads set to `count` for the block (None: left as they are).
    On a machine other work keeps busy, fewer threads than cores keep the timings steady."""
    before = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _measure_row(
    row: CompareRow,
    settings: BenchSettings,
    measure_spec: Callable[[BaseSpec, BenchSettings, int], Measurement],
) -> Measurement:
    estimate = estimate_row(row, settings)
    try:
        return measure_spec(row.spec, settings, estimate)
    except torch.cuda.OutOfMemoryError:
        raise ModelTooLargeError(
            f"{row.key}: ran out of memory on {settings.device} despite an estimate "
            f"of {gib(estimate)}; lower --batch-size"
        ) from None


def measurements(rows: Sequence[CompareRow], rounds: int = 1) -> int:
    """How many measurements `run` makes: distinct specs × rounds."""
    return len({row.spec for row in rows}) * rounds


def describe_setup(settings: BenchSettings, convention: str) -> dict[str, Any]:
    """How the benchmark ran, for its reports: device, torch, threads and the settings."""
    return {
        "device": describe_device(settings.device),
        "device_kind": settings.device,
        "torch": torch.__version__,
        "threads": settings.threads or torch.get_num_threads(),
        "mode": settings.mode,
        "batch_size": settings.batch_size,
        "dtype": settings.dtype,
        "warmup": settings.warmup,
        "iters": settings.iters,
        "rounds": settings.rounds,
        "convention": convention,
    }
