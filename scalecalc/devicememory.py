"""What a CUDA device must have free for a step whose tensors peak at a given number of bytes.

The meta-device trace gives what torch.cuda.max_memory_allocated reports: every tensor's block,
rounded up to 512 bytes. The device needs more, and this module adds it, each part a stated
constant or formula:

- reserve: torch's caching allocator holds segments, not tensors. Large blocks are carved from
  segments rounded up to 2 MiB, freed blocks stay reserved and split segments fragment; cuDNN's
  convolution workspaces (chosen by cudnn.benchmark) are allocated beside the tensors and grow
  with the batch like them. Together: a fraction RESERVE of the tensor peak, fitted.
- cuBLAS workspace: CUBLAS_WORKSPACE bytes per handle (torch's default config, ":4096:2:16:8").
- context: the CUDA context with torch's, cuDNN's and cuBLAS's kernels loaded, which no tensor
  counts: CONTEXT bytes, stated (1 GiB, the order a torch 1.12 / CUDA 11.3 process holds on an
  Ampere GPU before its first tensor, every kernel loaded; CUDA 11.7 on loads kernels lazily and
  needs less).

RESERVE was fitted with CONTEXT held at 1 GiB on timm's AMP training runs on an RTX 3090
(24 GiB, torch 1.12, CUDA 11.3; data/published/timm/benchmark-train-amp-nchw-pt112-cu113-
rtx3090.csv), where each row brackets the largest batch that fit between two steps of timm's
batch ladder: the 59 rows below the ladder's top of the 79 whose model scalecalc builds. The data
cannot tell the context from the reserve (0 GiB with 13.5% fits as well as 2 GiB with 4.5%), so
only the reserve is fitted: every value from 8% to 9.5% puts 56 of the 59 in their bracket, none
more than one step above; RESERVE is the middle. benchmarks/oom_brackets.py prints the table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from scalecalc.errors import ModelTooLargeError
from scalecalc.machine import gib

MIB = 2**20
# torch's CUDACachingAllocator: segments for blocks above 1 MiB are rounded up to 2 MiB.
SEGMENT = 2 * MIB
# torch's default cuBLAS workspace before Hopper: 2 chunks of 4096 KiB and 8 of 16 KiB.
CUBLAS_WORKSPACE = 2 * 4096 * 1024 + 8 * 16 * 1024
# Fitted (see the module docstring): allocator reserve and workspaces as a fraction of the peak.
RESERVE = Fraction(7, 80)
# Stated: the CUDA context and loaded kernels, torch 1.12 and CUDA 11.3.
CONTEXT = 1024 * MIB


@dataclass(frozen=True)
class DeviceView:
    """Bytes a step needs on a CUDA device, by part; `total` is what must be free."""

    allocated: int  # the tensors' peak, as torch.cuda.max_memory_allocated reports it
    reserved: int  # the caching allocator's segments at that peak, workspaces included
    cublas_workspace: int
    context: int

    @property
    def total(self) -> int:
        """What the device must have free before the process starts."""
        return self.reserved + self.cublas_workspace + self.context


def device_view(allocated: int) -> DeviceView:
    """The device's view of a step whose tensors peak at `allocated` bytes."""
    reserved = math.ceil(allocated * (1 + RESERVE) / SEGMENT) * SEGMENT
    return DeviceView(allocated, reserved, CUBLAS_WORKSPACE, CONTEXT)


def fixed_bytes() -> int:
    """What the device needs before any tensor: the cuBLAS workspace and the context."""
    return CUBLAS_WORKSPACE + CONTEXT


def allocated_budget(device_bytes: int) -> int:
    """The largest tensor peak whose device view fits in `device_bytes` (-1 if not even an
    empty step fits: the budget is below the context and workspace)."""
    room = device_bytes - fixed_bytes()
    if room < 0:
        return -1
    # reserved <= room exactly when allocated * (1 + RESERVE) <= room in whole segments
    return math.floor((room // SEGMENT) * SEGMENT / (1 + RESERVE))


def device_max_batch(weights: int, max_batch: Callable[[int], int], device_bytes: int) -> int:
    """The largest batch of a CUDA step whose device view fits in `device_bytes`, given the
    bytes of its weights and its `max_batch` of a tensor budget: 0 if the weights fit but not
    one image; ModelTooLargeError when not even the CUDA context or the weights fit."""
    allocated = allocated_budget(device_bytes)
    if allocated < 0:
        raise ModelTooLargeError(
            f"{device_bytes} B is less than the CUDA context and cuBLAS workspace alone "
            f"({gib(fixed_bytes())}); give a larger budget"
        )
    if allocated < weights:
        raise ModelTooLargeError(
            f"{gib(device_bytes)} holds not even the weights "
            f"({gib(device_view(weights).total)} on the device with its context and reserve); "
            "give a larger budget"
        )
    return max_batch(allocated)
