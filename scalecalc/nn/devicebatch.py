"""The largest batch whose CUDA device view (scalecalc.devicememory) fits a device's memory."""

from __future__ import annotations

import math

from scalecalc.devicememory import allocated_budget, device_view, fixed_bytes
from scalecalc.errors import ModelTooLargeError
from scalecalc.machine import gib
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
    allocated = allocated_budget(device_bytes)
    if allocated < 0:
        raise ModelTooLargeError(
            f"{device_bytes} B is less than the CUDA context and cuBLAS workspace alone "
            f"({gib(fixed_bytes())}); give a larger budget"
        )
    weights = weight_bytes(step)
    if allocated < weights:
        raise ModelTooLargeError(
            f"{gib(device_bytes)} holds not even the weights "
            f"({gib(device_view(weights).total)} on the device with its context and reserve); "
            "give a larger budget"
        )
    return step.max_batch(allocated)
