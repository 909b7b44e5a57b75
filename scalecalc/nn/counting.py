"""The traced counters: one aten op table on the meta device, and fvcore as the reference.

Both charge what scalecalc.costs defines; ops outside the table are reported, never silently
counted as zero.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from scalecalc.costs import Costs, StageCosts, check_convention, convention_flops, costs_from_stages
from scalecalc.nn.blocks import StagedNet

# Ops that cost nothing under both conventions: allocation, views, copies, elementwise math,
# activations, max pooling. Names are aten names without the in-place suffix `_`.
FREE_OPS = frozenset(
    """
    empty empty_like zeros zeros_like ones full full_like fill zero new_empty new_zeros new_full
    view _unsafe_view reshape flatten t transpose permute expand expand_as squeeze unsqueeze
    select slice unbind split split_with_sizes chunk cat stack narrow contiguous clone copy
    alias as_strided detach to _to_copy lift_fresh size Int ScalarImplicit dropout native_dropout
    add sub mul div neg abs exp log sqrt rsqrt pow
    relu gelu silu sigmoid hardswish hardsigmoid tanh _softmax softmax
    max_pool2d max_pool2d_with_indices
    """.split()
)

# Ops whose flops the `fvcore` convention counts and the `paper` convention does not.
NORM_AND_POOL_OPS = frozenset(
    """
    native_batch_norm _native_batch_norm_legit_no_training batch_norm native_layer_norm
    layer_norm native_group_norm group_norm instance_norm mean adaptive_avg_pool2d
    _adaptive_avg_pool2d upsample_nearest2d upsample_bilinear2d grid_sampler
    """.split()
)


def op_base_name(name: str) -> str:
    """`aten::relu_` -> `relu`: the op name without namespace or in-place suffix."""
    base = name.split("::", 1)[-1].split(".", 1)[0]
    return base[:-1] if base.endswith("_") and not base.endswith("__") and base[:-1] else base


def _numel(shape: Sequence[int]) -> int:
    return math.prod(shape)


# --- the op table of the meta (dispatch) counter: aten op -> (flops, acts) from shapes ---


def _conv(args: tuple, out: torch.Tensor, _: str) -> tuple[int, int]:
    weight = args[1]
    # Each output element costs c_in/groups * kh * kw multiply-adds (weight.shape[1:]).
    return out.numel() * _numel(weight.shape[1:]), out.numel()


def _mm(args: tuple, out: torch.Tensor, _: str) -> tuple[int, int]:
    a, b = args[-2], args[-1]  # addmm(bias, a, b) and mm(a, b)
    return _numel(a.shape) * b.shape[-1], out.numel()


def _bmm(args: tuple, out: torch.Tensor, _: str) -> tuple[int, int]:
    a, b = args[-2], args[-1]  # bmm(a, b) and baddbmm(bias, a, b)
    return _numel(a.shape) * b.shape[-1], out.numel()


def _batch_norm(args: tuple, out: Any, convention: str) -> tuple[int, int]:
    x, weight = args[0], args[1]
    training = len(args) > 5 and args[5] is True  # fvcore charges a training batch norm as a norm
    kind = "norm" if training else "batch_norm"
    return convention_flops(
        kind if weight is not None else f"{kind}_plain", x.numel(), convention
    ), 0


def _norm_flops(x: torch.Tensor, weight: Any, convention: str) -> tuple[int, int]:
    kind = "norm" if weight is not None else "norm_plain"
    return convention_flops(kind, x.numel(), convention), 0


def _layer_norm(args: tuple, out: Any, convention: str) -> tuple[int, int]:
    return _norm_flops(args[0], args[2], convention)  # (input, shape, weight, bias, eps)


def _group_norm(args: tuple, out: Any, convention: str) -> tuple[int, int]:
    return _norm_flops(args[0], args[1], convention)  # (input, weight, bias, N, C, HxW, g, eps)


def _pool_mean(args: tuple, out: Any, convention: str) -> tuple[int, int]:
    # fvcore counts adaptive average pooling as one flop per input element; eager PyTorch
    # lowers a global adaptive pool to `mean`, so the meta counter sees `mean` instead.
    return convention_flops("mean", args[0].numel(), convention), 0


def _upsample(factor: int) -> Callable[[tuple, Any, str], tuple[int, int]]:
    def handle(args: tuple, out: torch.Tensor, convention: str) -> tuple[int, int]:
        return (out.numel() * factor if convention == "fvcore" else 0), 0

    return handle


DISPATCH_TABLE: dict[str, Callable[[tuple, Any, str], tuple[int, int]]] = {
    "convolution": _conv,
    "addmm": _mm,
    "mm": _mm,
    "bmm": _bmm,
    "baddbmm": _bmm,
    "native_batch_norm": _batch_norm,
    "_native_batch_norm_legit_no_training": _batch_norm,
    "native_layer_norm": _layer_norm,
    "native_group_norm": _group_norm,
    "mean": _pool_mean,
    "_adaptive_avg_pool2d": _pool_mean,
    "upsample_nearest2d": _upsample(1),
    "upsample_bilinear2d": _upsample(4),
}


class _DispatchCounter(TorchDispatchMode):
    """Counts every aten op a forward pass dispatches; runs fine on the meta device."""

    def __init__(self, convention: str) -> None:
        super().__init__()
        self.convention = convention
        self.flops = 0
        self.acts = 0
        self.unsupported: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        out = func(*args, **(kwargs or {}))
        name = func._schema.name
        base = op_base_name(name)
        handle = DISPATCH_TABLE.get(base)
        if handle is not None:
            flops, acts = handle(args, out, self.convention)
            self.flops += flops
            self.acts += acts
        elif base not in FREE_OPS:
            self.unsupported[name] += 1
        return out


def count_params(module: nn.Module) -> int:
    """Elements of all parameters (buffers such as batch-norm statistics excluded)."""
    return sum(p.numel() for p in module.parameters())


def count_meta(model: StagedNet, resolution: int, convention: str = "paper") -> Costs:
    """Count a model built on the meta device: no memory for weights, no arithmetic."""
    x = torch.empty(1, 3, resolution, resolution, device="meta")
    return count_parts(model.parts(), x, convention)


def count_parts(parts: list[tuple[str, nn.Module]], x: torch.Tensor, convention: str) -> Costs:
    """Count modules run one after another on `x`, each part a stage of the costs."""
    check_convention(convention)
    stages, unsupported = [], Counter()
    with torch.no_grad():
        for name, part in parts:
            part.eval()
            counter = _DispatchCounter(convention)
            with counter:
                x = part(x)
            unsupported.update(counter.unsupported)
            stages.append(StageCosts(name, counter.flops, count_params(part), counter.acts))
    return costs_from_stages(stages, unsupported.items())


def count_fvcore(model: StagedNet, resolution: int, convention: str = "paper") -> Costs:
    """Count with fvcore's JIT tracer (the reference path); `model` must hold real tensors."""
    from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis

    check_convention(convention)
    model.eval()
    device = next(model.parameters()).device
    x = torch.zeros(1, 3, resolution, resolution, device=device)
    flops = FlopCountAnalysis(model, x)
    if convention == "paper":
        zero = {f"aten::{op}": _zero_handle for op in NORM_AND_POOL_OPS}
        flops.set_op_handle(**zero)
    else:
        flops.set_op_handle(**{"aten::mean": _fvcore_mean_handle})
    acts = ActivationCountAnalysis(model, x)
    for analysis in (flops, acts):
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        analysis.tracer_warnings("none")
    flops_by_module, acts_by_module = flops.by_module(), acts.by_module()
    stages = []
    for index, (name, part) in enumerate(model.parts()):
        key = name if name in ("stem", "head") else f"stages.{index - 1}"
        stages.append(
            StageCosts(name, flops_by_module[key], count_params(part), acts_by_module[key])
        )
    unknown = Counter(
        {
            op: n
            for op, n in flops.unsupported_ops().items()
            if op_base_name(op) not in FREE_OPS and op_base_name(op) not in NORM_AND_POOL_OPS
        }
    )
    return costs_from_stages(stages, unknown.items())


def _zero_handle(inputs: list, outputs: list) -> int:
    return 0


def _fvcore_mean_handle(inputs: list, outputs: list) -> int:
    from fvcore.nn.jit_handles import get_shape

    return _numel(get_shape(inputs[0]))
