"""What a peak-memory estimate is, and the settings a step may have: shared by the meta-device
trace (scalecalc.nn.memory) and its closed-form twin (scalecalc.stepmemory). Pure data."""

from __future__ import annotations

from dataclasses import dataclass

from scalecalc.step_options import AMP_DTYPES, DEVICE_KINDS, DTYPE_NAMES, OPTIMIZERS

# How `--memory` counts: in closed form (scalecalc.stepmemory) or traced (scalecalc.nn.memory).
MEMORY_COUNTERS = ("analytic", "trace")
# The CUDA caching allocator hands out blocks in multiples of 512 bytes, and
# torch.cuda.max_memory_allocated counts the rounded sizes; the CPU allocator does not round.
CUDA_BLOCK = 512


@dataclass(frozen=True)
class MemoryEstimate:
    """Peak bytes of one inference or training step, and what was alive at that moment.

    `activations` is everything else alive at the peak: the input, layer outputs, tensors saved
    for backward, gradients of activations and the temporaries of the optimizer step. Under AMP
    `cast_weights` is the autocast cache (low-precision copies of the weights), `scaler_state`
    the float16 gradient scaler's; `ema_weights` the weight EMA. The parts add up to
    `total_bytes`. Under AMP `dtype` is the low precision; weights stay float32."""

    total_bytes: int
    weights: int
    grads: int
    optimizer_state: int
    activations: int
    batch_size: int
    dtype: str
    train: bool
    optimizer: str | None
    amp: bool = False
    channels_last: bool = False
    ema: bool = False
    cast_weights: int = 0
    ema_weights: int = 0
    scaler_state: int = 0


def check_options(
    dtype: str,
    train: bool,
    optimizer: str | None,
    device: str,
    amp: bool = False,
    ema: bool = False,
) -> None:
    """Raise ValueError for a dtype, optimizer, device, AMP or EMA no step is set up with."""
    if amp and dtype not in AMP_DTYPES:
        raise ValueError(f"amp needs a low precision ({', '.join(AMP_DTYPES)}), got {dtype!r}")
    if ema and not train:
        raise ValueError("an EMA of the weights needs train=True")
    if dtype not in DTYPE_NAMES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPE_NAMES)}, got {dtype!r}")
    if optimizer is not None and optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    if optimizer is not None and not train:
        raise ValueError("an optimizer needs train=True")
    if device not in DEVICE_KINDS:
        raise ValueError(f"device must be one of {', '.join(DEVICE_KINDS)}, got {device!r}")
