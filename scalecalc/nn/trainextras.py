"""What mixed precision, a gradient scaler and a weight EMA add to a traced step, on meta tensors.

Under AMP the weights, their gradients and the optimizer state stay float32 (the model is never
cast); the autocast region (forward and loss, as in torch's AMP recipe) runs the ops of torch's
CUDA lists in the low dtype and keeps a low-precision copy of each weight it casts until the
region exits. With float16 a GradScaler multiplies the loss by its scale, unscales the gradients
in place and keeps its scale and growth tracker between steps; bfloat16 needs none. An EMA is a
copy of every parameter and buffer in the model's dtype (float32 under AMP), as a deep copy of
the model is, updated in place after the optimizer step.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import torch
from torch import nn

from scalecalc.nn.autocast import MetaAutocast
from scalecalc.nn.devices import TORCH_DTYPES

# timm's ModelEmaV2 default; the value does not change a byte, the update is in place.
EMA_DECAY = 0.9998


class TrainExtras:
    """The autocast region, scaler and EMA of one model's step (each only if asked for)."""

    def __init__(self, model: nn.Module, amp_dtype: str | None, train: bool, ema: bool) -> None:
        self.low = None if amp_dtype is None else TORCH_DTYPES[amp_dtype]
        self.model = model
        # The scaler's scale (float32) and growth tracker (int32) live between steps.
        self.scaler: list[torch.Tensor] = []
        if self.low is torch.float16 and train:
            self.scaler = [
                torch.ones((), device="meta", dtype=torch.float32),
                torch.zeros((), device="meta", dtype=torch.int32),
            ]
        self.ema: list[torch.Tensor] = []
        if ema:
            self.ema = [t.detach().clone() for t in (*model.parameters(), *model.buffers())]

    def region(self, on_cached: Callable[[torch.Tensor], None]) -> AbstractContextManager[object]:
        """The autocast region of the forward pass and loss (nothing without AMP)."""
        if self.low is None:
            return nullcontext()
        return MetaAutocast(self.low, on_cached)

    def scale(self, loss: torch.Tensor) -> torch.Tensor:
        """The loss as backward sees it: times the scale with a scaler."""
        return loss * self.scaler[0] if self.scaler else loss

    def unscale(self, grads: list[torch.Tensor]) -> None:
        """What GradScaler.unscale_ allocates: the inverse scale and the found-inf flag; the
        gradients are divided in place."""
        if not self.scaler or not grads:
            return
        inverse = self.scaler[0].double().reciprocal().float()
        found_inf = torch.zeros((), device="meta", dtype=torch.float32)
        torch._foreach_mul_(grads, inverse)
        del inverse, found_inf

    def update_ema(self) -> None:
        """ema = decay·ema + (1 - decay)·weights, in place (buffers copied)."""
        tensors = [*self.model.parameters(), *self.model.buffers()]
        with torch.no_grad():
            for average, current in zip(self.ema, tensors, strict=True):
                if average.is_floating_point():
                    average.lerp_(current, 1 - EMA_DECAY)
                else:
                    average.copy_(current)
