"""Counting one module of any kind with the meta counter, for tests of ops and blocks."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from scalecalc.costs import Costs
from scalecalc.nn.counting import count_parts


def count_module(module: nn.Module, input_shape: Sequence[int], convention: str = "paper") -> Costs:
    """Count any module (built on meta) on a meta input of `input_shape`, as one part."""
    x = torch.empty(*input_shape, device="meta")
    return count_parts([("module", module)], x, convention)
