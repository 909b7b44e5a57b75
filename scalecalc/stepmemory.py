"""Peak memory of inference and of a training step in closed form: the twin of the meta-device
trace (scalecalc.nn.memory), without torch.

The step is replayed on a Tape (scalecalc.tape) block by block (scalecalc.families.blockmemory):
the weights and buffers, the optimizer's state, every op's output and what autograd saves, the
backward pass as torch's engine orders it, then the optimizer step's temporaries. Tests hold it
equal to the trace, byte for byte.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from scalecalc.batch_search import LINE_BATCHES, largest_fitting
from scalecalc.errors import ModelTooLargeError
from scalecalc.families.netmemory import forward, parameters
from scalecalc.families.opmemory import Ops
from scalecalc.limits import MAX_BATCH_SIZE
from scalecalc.machine import gib
from scalecalc.memoryestimate import CUDA_BLOCK, MemoryEstimate, check_options
from scalecalc.repeats import CountingTape, counted, unrolled
from scalecalc.step_options import DTYPE_BYTES
from scalecalc.tape import Tape

if TYPE_CHECKING:
    from scalecalc.families.spec import BaseSpec

# Optimizer state per parameter: SGD's momentum buffer; Adam's two moments.
STATE_TENSORS = {"sgd": 1, "adam": 2, "adamw": 2}
STEP_COUNT_BYTES = 8  # each batch norm's num_batches_tracked, an int64 buffer
SCALER_BYTES = [4, 4]  # GradScaler's scale (float32) and growth tracker (int32), 0-dim


def _optimizer_step(tape: Tape, sizes: list[int], optimizer: str, device: str) -> None:
    """The temporaries of one step; SGD updates in place. Adam's `denom` is sqrt(v) / c: on
    CUDA the foreach kernels make it for every parameter at once; elsewhere one parameter at a
    time, sqrt(v) and the quotient made while the previous parameter's `denom` is still bound."""
    if optimizer == "sgd":
        return
    if device == "cuda":
        made = [tape.alloc(size) for size in sizes]
        tape.drop(*made)
        return
    denom = None
    for size in sizes:
        root = tape.alloc(size)
        quotient = tape.alloc(size)
        tape.drop(root, denom)
        denom = quotient
    tape.drop(denom)


def _block(device: str) -> int:
    """The bytes `device`'s allocator rounds each storage up to a multiple of."""
    return CUDA_BLOCK if device == "cuda" else 1


def _weights(spec: BaseSpec, itemsize: int) -> tuple[list[int], list[int]]:
    """The bytes of each parameter, and of each tensor of the model's state (the parameters,
    batch norms' running statistics and their step counts)."""
    params, norms = parameters(spec)
    sizes = [count * itemsize for count in params]
    buffers = [channels * itemsize for channels in norms] * 2
    return sizes, sizes + buffers + [STEP_COUNT_BYTES] * len(norms)


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
    bytes are unrounded and each storage weighs one COUNT more (scalecalc.repeats.CountingTape:
    bytes and storages alive from one replay)."""
    low = DTYPE_BYTES[dtype] if amp else 0
    itemsize = DTYPE_BYTES["float32" if amp else dtype]
    scaler = amp and train and dtype == "float16"
    if count:
        tape: Tape = CountingTape(1, record, cut)
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


class Peaks:
    """The peak of one step setting of `spec` at any batch. Every tensor holds a slice per image
    or none, so the unrounded bytes after each allocation are a_t + b_t·batch from batch 2 on
    (batch 1 takes other paths in places), exact from the lines of batches 2 and 3. On CPU and
    MPS these are the peak's lines. On CUDA each storage is rounded up to 512 B, which is not
    affine in the batch: the rounded bytes after allocation t lie between the line's and the
    line's plus 511·n_t, n_t the storages then alive (counted by the same two replays), so the
    lines bracket the max batch within a batch or two and only those are replayed, rounded.
    Each replay plays a run of identical blocks as three (`cut`; scalecalc.repeats), the bytes
    of the others added arithmetically: a deep model costs about what a shallow one does."""

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
        lines = []
        for batch in LINE_BATCHES:
            count = not self.affine
            tape = replay(spec, batch, *self.step[1:], record=True, count=count, **self.options)
            lines.append(unrolled(tape, tape.marks or []))
        if self.affine:
            self.lines = lines
            self.slack = [0] * len(lines[0])
        else:
            (alive, low), (alive_later, high) = map(counted, lines)
            self.lines = [low, high]
            # what rounding adds at most after each allocation (the storages alive do not
            # change with the batch; the larger count is taken all the same)
            self.slack = [(CUDA_BLOCK - 1) * max(pair) for pair in zip(alive, alive_later)]
        itemsize = DTYPE_BYTES["float32" if amp else dtype]
        # the weights and buffers, in the allocator's blocks
        self.weights = sum(map(Tape(_block(device)).rounded, _weights(spec, itemsize)[1]))
        self.peaks: dict[int, int] = {}

    def peak(self, batch: int) -> int:
        """The peak bytes of one step at `batch`."""
        if batch not in self.peaks:
            if self.affine and batch >= LINE_BATCHES[0]:
                steps = batch - LINE_BATCHES[0]
                low, high = self.lines
                self.peaks[batch] = max(a + (b - a) * steps for a, b in zip(low, high))
            else:
                tape = replay(self.step[0], batch, *self.step[1:], record=True, **self.options)
                self.peaks[batch] = max(unrolled(tape, tape.marks or []))
        return self.peaks[batch]

    def _last_within(self, budget_bytes: int, extras: list[int]) -> int:
        """The largest batch up to MAX_BATCH_SIZE at which every line raised by its extra bytes
        is within `budget_bytes`; LINE_BATCHES[0] - 1 if not even at that batch."""
        first = LINE_BATCHES[0]
        last = MAX_BATCH_SIZE
        low, high = self.lines
        for start, stop, extra in zip(low, high, extras, strict=True):
            room = budget_bytes - start - extra
            if room < 0:
                return first - 1
            if stop > start:
                last = min(last, first + room // (stop - start))
        return last

    def max_batch(self, budget_bytes: int) -> int:
        """The largest batch whose peak fits in `budget_bytes` (0 if none);
        ModelTooLargeError if even MAX_BATCH_SIZE fits."""

        def fits(batch: int) -> bool:
            return batch <= MAX_BATCH_SIZE and self.peak(batch) <= budget_bytes

        # the peak is at least the lines' and at most the lines' plus the slack
        high = self._last_within(budget_bytes, [0] * len(self.slack))
        low = self._last_within(budget_bytes, self.slack)
        if low < LINE_BATCHES[0]:  # batch 1 is off the lines
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
