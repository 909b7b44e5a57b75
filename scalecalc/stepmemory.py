"""Peak memory of inference and of a training step in closed form: the twin of the meta-device
trace (scalecalc.nn.memory), without torch.

The step is replayed on a Tape (scalecalc.tape) block by block (scalecalc.families.blockmemory):
the weights and buffers, the optimizer's state, every op's output and what autograd saves, the
backward pass as torch's engine orders it, then the optimizer step's temporaries. Tests hold it
equal to the trace, byte for byte.
"""

from __future__ import annotations

import functools
import gc
from typing import TYPE_CHECKING

from scalecalc.batch_search import LINE_BATCHES, largest_fitting
from scalecalc.errors import ModelTooLargeError
from scalecalc.families.netmemory import forward, parameters
from scalecalc.families.opmemory import Ops
from scalecalc.limits import MAX_BATCH_SIZE
from scalecalc.machine import gib
from scalecalc.memoryestimate import CUDA_BLOCK, MemoryEstimate, check_options
from scalecalc.repeats import CountingTape, parts, rounded_peak, symbolic, unrolled
from scalecalc.step_options import DTYPE_BYTES
from scalecalc.tape import Tape

if TYPE_CHECKING:
    from collections.abc import Sequence

    from scalecalc.families.spec import BaseSpec

# Optimizer state per parameter: SGD's momentum buffer; Adam's two moments.
STATE_TENSORS = {"sgd": 1, "adam": 2, "adamw": 2}
STEP_COUNT_BYTES = 8  # each batch norm's num_batches_tracked, an int64 buffer
SCALER_BYTES = [4, 4]  # GradScaler's scale (float32) and growth tracker (int32), 0-dim


def _optimizer_step(tape: Tape, sizes: Sequence[int], optimizer: str, device: str) -> None:
    """The temporaries of one step; SGD updates in place. Adam's `denom` is sqrt(v) / c: on
    CUDA the foreach kernels make it for every parameter at once; elsewhere one parameter at a
    time, sqrt(v) and the quotient made while the previous parameter's `denom` is still bound.
    Their sizes do not depend on the batch, so only the moment with the most alive is counted:
    every other moment of the step is below it at any batch."""
    if optimizer == "sgd":
        return
    if device == "cuda":
        tape.temporaries(sizes)
        return
    # parameter i's quotient, with its sqrt(v) and parameter i - 1's denom alive
    alive = [[size, size, *sizes[i - 1 : i]] for i, size in enumerate(sizes)]
    tape.temporaries(max(alive, key=sum))


def _block(device: str) -> int:
    """The bytes `device`'s allocator rounds each storage up to a multiple of."""
    return CUDA_BLOCK if device == "cuda" else 1


@functools.lru_cache(maxsize=8)
def _weights(spec: BaseSpec, itemsize: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The bytes of each parameter, and of each tensor of the model's state (the parameters,
    batch norms' running statistics and their step counts). Cached: a model's peaks and its
    replays ask the same."""
    params, norms = parameters(spec)
    sizes = tuple(count * itemsize for count in params)
    buffers = tuple(channels * itemsize for channels in norms) * 2
    return sizes, sizes + buffers + (STEP_COUNT_BYTES,) * len(norms)


def replay(
    spec: BaseSpec,
    batch_size: int,
    dtype: str = "float32",
    train: bool = False,
    optimizer: str | None = None,
    device: str = "cpu",
    record: bool = False,
    ema: bool = False,
    amp: bool = False,
    channels_last: bool = False,
    cut: bool = False,
    count: bool = False,
) -> Tape:
    """The tape of one step of `spec` at `batch_size`: every storage's bytes over the step
    (with `record`, the bytes alive after each allocation too). An EMA is a copy of every
    weight and buffer, updated in place. With `amp`, `dtype` is autocast's low precision and
    the weights, input, gradients and state are float32; float16 training adds the gradient
    scaler's scale (float32) and growth tracker (int32). `channels_last` puts the input and the
    model in that memory format (a ViT, whose one convolution is its patch embedding, stays as
    it is). With `cut`, runs of identical blocks are played as three, their middles marked in
    `tape.marks` (scalecalc.repeats.unrolled gives the full depth's bytes). With `count`, the
    tape is a scalecalc.repeats.CountingTape, which records: the rounded bytes, the storages
    and the unrounded bytes alive from one replay, and their rise per image where `batch_size`
    is symbolic (scalecalc.repeats.symbolic)."""
    low = DTYPE_BYTES[dtype] if amp else 0
    itemsize = DTYPE_BYTES["float32" if amp else dtype]
    scaler = amp and train and dtype == "float16"
    if count:
        tape: Tape = CountingTape(_block(device), cut)
    else:
        tape = Tape(_block(device), record, cut)
    sizes, weights = _weights(spec, itemsize)
    tape.hold(weights, "weights")
    if ema:
        tape.hold(weights, "ema_weights")
    if optimizer is not None:
        tape.hold(sizes * STATE_TENSORS[optimizer], "optimizer_state")
    if scaler:
        tape.hold(SCALER_BYTES, "scaler_state")
    ops = Ops(tape, itemsize, train, low, scaler, channels_last and spec.family != "vit")
    # The replay makes thousands of small objects and frees them by reference counts alone:
    # the cycle collector, run meanwhile, took an eighth of its time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        logits = forward(spec, ops, batch_size)
        if not train:
            ops.drop(logits)
            ops.end_region()
        else:
            ops.loss(logits)
            if optimizer is not None:
                _optimizer_step(tape, sizes, optimizer, device)
    finally:
        if collecting:
            gc.enable()
    return tape


def estimate_peak(
    spec: BaseSpec,
    batch_size: int,
    dtype: str = "float32",
    train: bool = False,
    optimizer: str | None = None,
    device: str = "cpu",
    *,
    amp: bool = False,
    channels_last: bool = False,
    ema: bool = False,
) -> MemoryEstimate:
    """Peak memory of one inference (train=False) or training step of `spec` at `batch_size`,
    under autocast in `dtype` if `amp`, in channels-last format if `channels_last` (not a
    ViT's), with a weight EMA if `ema`."""
    check_options(dtype, train, optimizer, device, amp, ema)
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch size must be from 1 to {MAX_BATCH_SIZE}, got {batch_size}")
    options = {"amp": amp, "channels_last": channels_last, "ema": ema}
    tape = replay(spec, batch_size, dtype, train, optimizer, device, **options)
    parts = tape.peak_parts
    return MemoryEstimate(
        tape.peak,
        parts["weights"],
        parts["grads"],
        parts["optimizer_state"],
        parts["activations"],
        batch_size,
        dtype,
        train,
        optimizer,
        amp=amp,
        channels_last=channels_last and spec.family != "vit",
        ema=ema,
        cast_weights=parts["cast_weights"],
        ema_weights=parts["ema_weights"],
        scaler_state=parts["scaler_state"],
    )


def _bracket(line: Lines, slack: int, budget_bytes: int) -> tuple[int, int]:
    """The largest batches from the lines' first up to MAX_BATCH_SIZE at which every line,
    raised by `slack` bytes per storage then alive (low) or not (high), is within
    `budget_bytes`; the lines' first batch - 1 where none is."""
    none = line.first - 1
    origin = line.origin
    low = high = MAX_BATCH_SIZE
    for start, slope, alive in zip(line.base, line.rise, line.alive, strict=True):
        room = budget_bytes - start
        if slope > 0:
            # (min() costs a call per line, and there are thousands)
            last = origin + room // slope
            if last < high:
                high = last
            last = origin + (room - slack * alive) // slope
            if last < low:
                low = last
        elif room < 0:
            return none, none
        elif room < slack * alive:
            low = none
    return max(low, none), max(high, none)


class Lines:
    """The bytes after each allocation as lines in the batch: `base` at batch `origin`, `rise`
    per image, exact from batch `first` (1, or 2 where batch 1 takes other paths) on; `alive`,
    the storages then alive (the same at every batch from `first` on)."""

    __slots__ = ("alive", "base", "first", "origin", "rise")

    def __init__(self, values: list[int], origin: int, first: int) -> None:
        self.base, self.rise, self.alive = parts(values)
        self.origin, self.first = origin, first

    def peak(self, batch: int) -> int:
        """The highest line at `batch`."""
        steps = batch - self.origin
        return max(a + r * steps for a, r in zip(self.base, self.rise))


class Peaks:
    """The peak of one step setting of `spec` at any batch. Every tensor holds a slice per image
    or none, so the unrounded bytes after each allocation are a_t + b_t·batch from batch 2 on
    (from batch 1 on where no op takes another path there), and one replay at a symbolic batch
    (scalecalc.repeats) gives them with its own peak. On CPU and MPS these lines give the peak
    at every batch. On CUDA each storage is rounded up to 512 B, which is not affine in the
    batch: a batch's peak is its replay's, and the rounded bytes after allocation t lie between
    the line's and the line's plus 511·n_t, n_t the storages then alive (the same replay counts
    them), so the lines bracket the max batch, mostly to one batch, and only batches inside the
    bracket are replayed. Each replay plays a run of identical blocks as three (`cut`;
    scalecalc.repeats), the bytes of the others added arithmetically: a deep model costs about
    what a shallow one does."""

    def __init__(
        self,
        spec: BaseSpec,
        dtype: str = "float32",
        train: bool = False,
        optimizer: str | None = None,
        device: str = "cpu",
        *,
        amp: bool = False,
        channels_last: bool = False,
        ema: bool = False,
        cut: bool = True,
    ) -> None:
        check_options(dtype, train, optimizer, device, amp, ema)
        self.step = (spec, dtype, train, optimizer, device)
        self.options = {"amp": amp, "channels_last": channels_last, "ema": ema, "cut": cut}
        self.affine = device != "cuda"
        self.peaks: dict[int, int] = {}
        self._lines: Lines | None = None
        itemsize = DTYPE_BYTES["float32" if amp else dtype]
        # the weights and buffers, in the allocator's blocks
        block = _block(device)
        self.weights = sum(-(-size // block) for size in _weights(spec, itemsize)[1]) * block

    def _replay(self, batch: int) -> None:
        """Replay the step at `batch` for its peak."""
        spec, *step = self.step
        tape = replay(spec, batch, *step, count=True, **self.options)
        self.peaks[batch] = rounded_peak(unrolled(tape, tape.marks or []))

    def lines(self, origin: int = LINE_BATCHES[0]) -> Lines:
        """The lines of the bytes after each allocation, from one replay at the symbolic batch
        of `origin` (which gives the peak at `origin` too) unless they were drawn before."""
        if self._lines is None:
            spec, *step = self.step
            tape = replay(spec, symbolic(origin), *step, count=True, **self.options)
            values = unrolled(tape, tape.marks or [])
            first = LINE_BATCHES[0] if tape.one_differs else 1
            if origin >= first:
                self.peaks[origin] = rounded_peak(values)
            self._lines = Lines(values, origin, first)
        return self._lines

    def peak(self, batch: int) -> int:
        """The peak bytes of one step at `batch`: from the lines on CPU and MPS where they
        were drawn, else replayed."""
        if batch not in self.peaks:
            line = self._lines
            if self.affine and line is not None and batch >= line.first:
                self.peaks[batch] = line.peak(batch)
            else:
                self._replay(batch)
        return self.peaks[batch]

    def max_batch(self, budget_bytes: int) -> int:
        """The largest batch whose peak fits in `budget_bytes` (0 if none);
        ModelTooLargeError if even MAX_BATCH_SIZE fits."""

        def fits(batch: int) -> bool:
            return batch <= MAX_BATCH_SIZE and self.peak(batch) <= budget_bytes

        line = self.lines()
        # the peak is at least the lines' and, rounded, at most the lines' plus the slack
        low, high = _bracket(line, 0 if self.affine else CUDA_BLOCK - 1, budget_bytes)
        if low < line.first:  # below the lines
            largest = largest_fitting(fits, high)
        else:
            largest = low  # fits, and high + 1 does not: bisect between
            while largest < high:
                middle = (largest + high + 1) // 2
                if fits(middle):
                    largest = middle
                else:
                    high = middle - 1
        if largest == MAX_BATCH_SIZE:
            raise ModelTooLargeError(
                f"at least {largest} images of this model fit in {gib(budget_bytes)}; "
                "give a smaller budget"
            )
        return largest


def max_batch(
    spec: BaseSpec,
    budget_bytes: int,
    dtype: str = "float32",
    train: bool = False,
    optimizer: str | None = None,
    device: str = "cpu",
    *,
    amp: bool = False,
    channels_last: bool = False,
    ema: bool = False,
) -> int:
    """The largest batch of `spec` whose peak fits in `budget_bytes` (0 if none);
    ModelTooLargeError if even MAX_BATCH_SIZE fits. amp, channels_last and ema as for
    estimate_peak."""
    options = {"amp": amp, "channels_last": channels_last, "ema": ema}
    return Peaks(spec, dtype, train, optimizer, device, **options).max_batch(budget_bytes)
