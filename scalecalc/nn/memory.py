"""Peak memory of inference and of a training step, traced on meta tensors: no weight is allocated.

The model is built on the meta device and run once under a dispatch mode that keeps a weak
reference to every tensor storage the run creates; the bytes of the storages alive after each op,
plus the weights (and, in training, gradients and optimizer state), give the peak. Autograd's
saved tensors, gradients of activations, in-place ops and views are counted as the real run
allocates them, because the same Python and C++ code runs, only on tensors without data.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from scalecalc.batch_search import LINE_BATCHES, largest_fitting, linear_guess
from scalecalc.errors import ModelTooLargeError
from scalecalc.limits import MAX_BATCH_SIZE, check_traceable, largest_traceable_batch
from scalecalc.machine import gib
from scalecalc.memoryestimate import CUDA_BLOCK, MemoryEstimate, check_options
from scalecalc.nn.devices import TORCH_DTYPES
from scalecalc.nn.trainextras import TrainExtras

if TYPE_CHECKING:
    from scalecalc.families.spec import BaseSpec

KINDS = (
    "weights", "grads", "optimizer_state", "activations", "cast_weights", "ema_weights",
    "scaler_state",
)  # fmt: skip


class _Storage:
    """One storage seen by LiveBytes: its bytes, what it is, and the checks it was alive for."""

    __slots__ = ("born", "died", "kind", "nbytes")

    def __init__(self, nbytes: int, kind: str, born: int) -> None:
        self.nbytes, self.kind, self.born = nbytes, kind, born
        self.died: int | None = None


class LiveBytes(TorchDispatchMode):
    """Bytes of the meta storages alive after each op run under it, and their peak."""

    def __init__(self, block: int = 1) -> None:
        super().__init__()
        self.block = block
        self.total = 0
        self.peak = 0
        self.peak_check = 0
        # the bytes alive after each op; check i is the i-th op's
        self.timeline: list[int] = []
        self._storages: list[_Storage] = []
        # storage address -> (weak reference that reports the free, its record)
        self._live: dict[int, tuple[weakref.ref[Any], _Storage]] = {}

    def add(self, tensor: torch.Tensor, kind: str = "activations") -> None:
        """Count `tensor`'s storage as `kind` from now until it is freed (once per storage)."""
        if tensor.device.type != "meta":
            return  # host-side scalars such as Adam's step count: not device memory
        storage = tensor.untyped_storage()
        key = storage._cdata
        nbytes = math.ceil(storage.nbytes() / self.block) * self.block
        if key in self._live:
            record = self._live[key][1]
            self.total += nbytes - record.nbytes  # a storage resized in place
            record.nbytes = nbytes
            return
        if nbytes == 0:
            return
        record = _Storage(nbytes, kind, len(self.timeline))
        self._storages.append(record)
        self._live[key] = (weakref.ref(storage, self._freed(key)), record)
        self.total += nbytes

    def retag(self, tensor: torch.Tensor, kind: str) -> None:
        """Count `tensor`'s storage as `kind` over its whole life (a gradient autograd stored)."""
        self.add(tensor, kind)
        entry = self._live.get(tensor.untyped_storage()._cdata)
        if entry is not None:
            entry[1].kind = kind

    def at_peak(self) -> dict[str, int]:
        """Bytes alive at the peak by kind; a storage counts as what it finally became."""
        parts = dict.fromkeys(KINDS, 0)
        for record in self._storages:
            if record.born <= self.peak_check and (
                record.died is None or record.died > self.peak_check
            ):
                parts[record.kind] += record.nbytes
        return parts

    def _freed(self, key: int) -> Callable[[weakref.ref[Any]], None]:
        def callback(_: weakref.ref[Any]) -> None:
            entry = self._live.pop(key, None)
            if entry is not None:
                entry[1].died = len(self.timeline)
                self.total -= entry[1].nbytes

        return callback

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        for leaf in tree_leaves(out):
            if isinstance(leaf, torch.Tensor):
                self.add(leaf)
        if self.total > self.peak:
            self.peak, self.peak_check = self.total, len(self.timeline)
        self.timeline.append(self.total)
        return out


def _make_optimizer(name: str, params: list[nn.Parameter], device: str) -> torch.optim.Optimizer:
    # On CUDA torch defaults to the foreach kernels, whose list temporaries span all parameters;
    # elsewhere it updates one parameter at a time. Meta tensors would get the latter, so say it.
    foreach = device == "cuda"
    if name == "sgd":
        return torch.optim.SGD(params, lr=0.1, momentum=0.9, foreach=foreach)
    if name == "adam":
        return torch.optim.Adam(params, foreach=foreach)
    return torch.optim.AdamW(params, foreach=foreach)


@contextmanager
def _grads_counted(live: LiveBytes, params: list[nn.Parameter]) -> Iterator[None]:
    """Count each parameter's gradient as a gradient once autograd has stored it."""
    handles = [
        p.register_post_accumulate_grad_hook(lambda p: live.retag(p.grad, "grads")) for p in params
    ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


class MetaStep:
    """A meta-device model (and optimizer) whose step is traced at any batch size up to
    `batch_limit`, past which its tensors would overflow.

    With `amp`, `dtype` is autocast's low precision (float16 or bfloat16) and the model, input,
    gradients and optimizer state stay float32 (scalecalc.nn.trainextras); `channels_last` puts
    the input and the convolution weights in that memory format; `ema` keeps a float32 copy of
    the weights (training only)."""

    def __init__(
        self,
        model: nn.Module,
        sample_shape: tuple[int, ...],
        dtype: str = "float32",
        train: bool = False,
        optimizer: str | None = None,
        device: str = "cpu",
        batch_limit: int = MAX_BATCH_SIZE,
        *,
        amp: bool = False,
        channels_last: bool = False,
        ema: bool = False,
    ) -> None:
        check_options(dtype, train, optimizer, device, amp, ema)
        if any(t.device.type != "meta" for t in [*model.parameters(), *model.buffers()]):
            raise ValueError("the model must be on the meta device (no real weights)")
        self.model = model.to(TORCH_DTYPES["float32" if amp else dtype])
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.sample_shape = sample_shape
        self.dtype, self.train, self.optimizer_name = dtype, train, optimizer
        self.amp, self.channels_last, self.ema = amp, channels_last, ema
        self.extras = TrainExtras(self.model, dtype if amp else None, train, ema)
        self.block = CUDA_BLOCK if device == "cuda" else 1
        self.batch_limit = batch_limit
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = None
        if optimizer is not None:
            self.optimizer = _make_optimizer(optimizer, self.params, device)
            # The state exists from the first step on; create it so that every traced step
            # is a steady-state one.
            for p in self.params:
                p.grad = torch.zeros_like(p)
            self.optimizer.step()
            self.model.zero_grad(set_to_none=True)

    def trace(self, batch_size: int) -> LiveBytes:
        """Run one step at `batch_size` on meta tensors; the live bytes over it."""
        if batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {batch_size}")
        if batch_size > self.batch_limit:
            raise ModelTooLargeError(
                f"batch size {batch_size} is more than the memory trace takes for this model "
                f"(at most {self.batch_limit}: no more than 2^60 activation elements, 2^31 images)"
            )
        live = LiveBytes(self.block)
        for tensor in [*self.model.parameters(), *self.model.buffers()]:
            live.add(tensor, "weights")
        for state in self.optimizer.state.values() if self.optimizer else ():
            for value in state.values():
                if isinstance(value, torch.Tensor):
                    live.add(value, "optimizer_state")
        for tensor in self.extras.ema:
            live.add(tensor, "ema_weights")
        for tensor in self.extras.scaler:
            live.add(tensor, "scaler_state")
        shape = (batch_size, *self.sample_shape)
        region = self.extras.region(lambda copy: live.retag(copy, "cast_weights"))
        try:
            with _grads_counted(live, self.params if self.train else []), live:
                inputs = torch.empty(shape, device="meta", dtype=self.model_dtype)
                if self.channels_last:  # the loader's NCHW batch, converted (and then dropped)
                    inputs = inputs.contiguous(memory_format=torch.channels_last)
                if self.train:
                    self.model.train()
                    with region:
                        loss = self.model(inputs).float().sum()
                    self.extras.scale(loss).backward()
                    del loss
                    self.extras.unscale([p.grad for p in self.params if p.grad is not None])
                    if self.optimizer is not None:
                        self.optimizer.step()
                    if self.ema:
                        self.extras.update_ema()
                else:
                    self.model.eval()
                    with torch.inference_mode(), region:
                        self.model(inputs)
        finally:
            self.model.zero_grad(set_to_none=True)
        return live

    @property
    def model_dtype(self) -> torch.dtype:
        """The dtype of the weights and the input: float32 under AMP, else the step's dtype."""
        return TORCH_DTYPES["float32" if self.amp else self.dtype]

    def estimate(self, batch_size: int) -> MemoryEstimate:
        """The peak of one step at `batch_size` and its parts."""
        live = self.trace(batch_size)
        parts = live.at_peak()
        return MemoryEstimate(
            live.peak,
            parts["weights"],
            parts["grads"],
            parts["optimizer_state"],
            parts["activations"],
            batch_size,
            self.dtype,
            self.train,
            self.optimizer_name,
            self.amp,
            self.channels_last,
            self.ema,
            parts["cast_weights"],
            parts["ema_weights"],
            parts["scaler_state"],
        )

    def max_batch(self, budget_bytes: int) -> int:
        """The largest batch whose traced peak is at most `budget_bytes` (0 if none fits);
        ModelTooLargeError if even `batch_limit` fits, the largest batch traced."""
        peaks: dict[int, int] = {}
        lines = []
        for batch in LINE_BATCHES if max(LINE_BATCHES) <= self.batch_limit else ():
            live = self.trace(batch)
            peaks[batch] = live.peak
            lines.append(live.timeline)

        def fits(batch: int) -> bool:
            if batch > self.batch_limit:
                return False
            if batch not in peaks:
                peaks[batch] = self.trace(batch).peak
            return peaks[batch] <= budget_bytes

        guess = linear_guess(lines[0], lines[1], budget_bytes) if lines else 1
        largest = largest_fitting(fits, min(guess, self.batch_limit))
        if largest == self.batch_limit:
            raise ModelTooLargeError(
                f"at least {largest} images of this model fit in {gib(budget_bytes)}, and the "
                "memory trace takes no larger batch (no more than 2^60 activation elements, 2^31 "
                "images); give a smaller budget"
            )
        return largest


def spec_step(
    spec: BaseSpec,
    dtype: str = "float32",
    train: bool = False,
    optimizer: str | None = None,
    device: str = "cpu",
    *,
    amp: bool = False,
    channels_last: bool = False,
    ema: bool = False,
) -> MetaStep:
    """`spec` built on the meta device, ready to trace at any batch size it can hold;
    ModelTooLargeError for a model too large to trace. Channels-last leaves a ViT as it is: its
    one convolution is the patch embedding, and the input is converted only for it."""
    from scalecalc.api import build

    check_options(dtype, train, optimizer, device, amp, ema)
    costs = check_traceable(
        spec, "the memory trace", "its flops, params and acts are counted (closed form) at any size"
    )
    shape = (3, spec.resolution, spec.resolution)
    limit = largest_traceable_batch(costs)
    channels_last = channels_last and spec.family != "vit"
    model = build(spec, "meta")
    options = {"amp": amp, "channels_last": channels_last, "ema": ema}
    return MetaStep(model, shape, dtype, train, optimizer, device, limit, **options)


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
    """Peak memory of one inference (train=False) or training step of `spec` at `batch_size`;
    amp, channels_last and ema as for spec_step."""
    options = {"amp": amp, "channels_last": channels_last, "ema": ema}
    return spec_step(spec, dtype, train, optimizer, device, **options).estimate(batch_size)


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
    """The largest batch of `spec` whose estimated peak fits in `budget_bytes` (0 if none);
    amp, channels_last and ema as for spec_step."""
    options = {"amp": amp, "channels_last": channels_last, "ema": ema}
    return spec_step(spec, dtype, train, optimizer, device, **options).max_batch(budget_bytes)
