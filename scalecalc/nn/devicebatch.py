"""The largest batch whose CUDA device view (scalecalc.devicememory) fits a device's memory."""

from __future__ import annotations

import math

from scalecalc.devicememory import device_max_batch as fitting_batch
from scalecalc.nn.memory import MetaStep


def weight_bytes(step: MetaStep) -> int:
    """The bytes of the weights and buffers alone, in the step's allocator blocks."""
    tensors = [*step.model.parameters(), *step.model.buffers()]
    storages = {t.untyped_storage()._cdata: t.untyped_storage().nbytes() for t in tensors}
    return sum(math.ceil(n / step.block) * step.block for n in storages.values())


def device_max_batch(step: MetaStep, device_bytes: int) -> int:
    """The largest batch of `step` (a CUDA step) whose device view fits in `device_bytes`: 0 if
    the weights fit but not one image; ModelTooLargeError when not even the CUDA context or the
    weights fit, or when the trace's largest batch still fits."""
    if step.block == 1:
        raise ValueError("the device view is of a CUDA step (device='cuda')")
    return fitting_batch(weight_bytes(step), step.max_batch, device_bytes)
