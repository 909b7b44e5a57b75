"""Measure real runtime of built models: the timing harness, memory estimate and run loop."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from scalecalc.errors import ConfigError, ModelTooLargeError
from scalecalc.nn.devices import PeakMemory, describe_device, no_sync, release, synchronizer
from scalecalc.measurement import DTYPE_NAMES, BenchRow, BenchSettings, Measurement
from scalecalc.memory import gib

if TYPE_CHECKING:
    from scalecalc.compare import CompareRow
    from scalecalc.families._spec import BaseSpec

DTYPES = {name: getattr(torch, name) for name in DTYPE_NAMES}
# The estimate (see estimate_memory) is multiplied by this margin for allocator rounding and
# caching, then OVERHEAD is added for what does not scale with the model: kernel workspaces
# (oneDNN, cuDNN) and the runtime's buffers (measured: 50-100 MiB of peak RSS on a CPU).
SAFETY = 1.25
OVERHEAD = 128 * 2**20
# Training keeps weights and their gradients; autograd saves 2.2-2.6 tensors per counted
# activation (measured on RegNetY, ResNet-50, ViT-S, ConvNeXt-T) and backward holds gradients
# of about one more alongside them.
TRAIN_WEIGHT_COPIES = 2
TRAIN_ACTS_COPIES = 4


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


def weight_bytes(model: nn.Module) -> int:
    """Bytes of all parameters and buffers, each at its own element size."""
    tensors = [*model.parameters(), *model.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)


def estimate_memory(
    weights: int, acts: int, input_elements: int, batch_size: int, dtype_bytes: int, train: bool
) -> int:
    """Bytes a run should need: weights (×2 training: gradients) plus batch × (input + acts)
    elements (×4 training: saved tensors and gradients), all × SAFETY, plus OVERHEAD."""
    activations = batch_size * (input_elements + acts) * dtype_bytes
    if train:
        needed = TRAIN_WEIGHT_COPIES * weights + TRAIN_ACTS_COPIES * activations
    else:
        needed = weights + activations
    return int(needed * SAFETY) + OVERHEAD


def estimate_row(row: CompareRow, settings: BenchSettings) -> int:
    """The memory estimate of one counted model, from its meta-built weights and its acts."""
    from scalecalc.api import build

    model = build(row.spec, "meta").to(DTYPES[settings.dtype])
    resolution = row.spec.resolution
    return estimate_memory(
        weight_bytes(model),
        row.costs.acts,
        3 * resolution * resolution,
        settings.batch_size,
        DTYPES[settings.dtype].itemsize,
        settings.train,
    )


def check_fits(
    rows: Sequence[CompareRow], settings: BenchSettings, available: int | None, skip: bool
) -> tuple[list[CompareRow], list[tuple[CompareRow, int]]]:
    """(rows that fit, skipped (row, estimate)); without `skip`, the first misfit is an error."""
    fitting, skipped = [], []
    for row in rows:
        estimate = estimate_row(row, settings)
        if available is None or estimate <= available:
            fitting.append(row)
        elif skip:
            skipped.append((row, estimate))
        else:
            raise ModelTooLargeError(
                f"{row.key}: needs about {gib(estimate)} on {settings.device} (estimate) but "
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
    ).to(device=device, dtype=DTYPES[dtype])
    inputs = torch.ones(2, 3, 4, 4, device=device, dtype=DTYPES[dtype])
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

    device, dtype = settings.device, DTYPES[settings.dtype]
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
) -> list[BenchRow]:
    """Measure every row, `settings.rounds` times through the list; a repeated spec runs once
    per round. `on_start` gets the number of measurements started before this one."""
    first: dict[BaseSpec, CompareRow] = {}
    for row in rows:
        first.setdefault(row.spec, row)
    distinct = list(first.values())
    done: dict[BaseSpec, Measurement] = {}
    release(settings.device)  # each measurement releases after itself; this clears the way
    for round_index in range(settings.rounds):
        for index, row in enumerate(distinct):
            if on_start is not None:
                on_start(round_index * len(distinct) + index, row)
            estimate = estimate_row(row, settings)
            try:
                measured = measure_spec(row.spec, settings, estimate)
            except torch.cuda.OutOfMemoryError:
                raise ModelTooLargeError(
                    f"{row.key}: ran out of memory on {settings.device} despite an estimate "
                    f"of {gib(estimate)}; lower --batch-size"
                ) from None
            earlier = done.get(row.spec)
            done[row.spec] = measured if earlier is None else earlier.merged(measured)
    return [BenchRow(row, done[row.spec]) for row in rows]


def measurements(rows: Sequence[CompareRow], rounds: int = 1) -> int:
    """How many measurements `run` makes: distinct specs × rounds."""
    return len({row.spec for row in rows}) * rounds


def describe_setup(settings: BenchSettings, convention: str) -> dict[str, Any]:
    """How the benchmark ran, for its reports: device, torch, threads and the settings."""
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
