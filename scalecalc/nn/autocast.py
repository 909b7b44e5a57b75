"""torch's CUDA autocast, emulated on meta tensors for the memory trace.

torch.autocast("cuda") acts only on CUDA tensors (its dispatch key is set on them alone), so a
meta-device trace would run every op in the weights' dtype. This mode applies the same cast
policy at the level autocast patches, the Python-visible op, so that autograd records the casts
and saves the low-precision inputs for backward, as on the device.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_leaves, tree_map

# The CUDA cast policies of torch 2.13, from aten/src/ATen/autocast_mode.h (AT_FORALL_* op lists,
# registered for AutocastCUDA in autocast_mode.cpp; cudnn_convolution and its transpose are
# lower_precision_fp there as well). Names are the ops' Python-visible names; the overloads of one
# op share a policy.
LOWER_PRECISION = frozenset(
    {
        "_convolution", "convolution", "conv1d", "conv2d", "conv3d", "conv_tbc",
        "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "cudnn_convolution",
        "cudnn_convolution_transpose", "prelu", "addmm", "addmv", "addr", "matmul", "einsum", "mm",
        "mv", "linalg_vecdot", "linear", "addbmm", "baddbmm", "bmm", "chain_matmul",
        "linalg_multi_dot", "_thnn_fused_lstm_cell", "_thnn_fused_gru_cell", "lstm_cell",
        "gru_cell", "rnn_tanh_cell", "rnn_relu_cell", "_scaled_dot_product_flash_attention",
        "scaled_dot_product_attention",
    }
)  # fmt: skip
FP32 = frozenset(
    {
        "acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p",
        "reciprocal", "rsqrt", "sinh", "tan", "pow", "softplus", "layer_norm", "native_layer_norm",
        "group_norm", "frobenius_norm", "nuclear_norm", "cosine_similarity", "poisson_nll_loss",
        "cosine_embedding_loss", "nll_loss", "nll_loss2d", "hinge_embedding_loss", "kl_div",
        "l1_loss", "smooth_l1_loss", "huber_loss", "mse_loss", "margin_ranking_loss",
        "multilabel_margin_loss", "soft_margin_loss", "triplet_margin_loss", "multi_margin_loss",
        "binary_cross_entropy_with_logits", "dist", "pdist", "cdist", "renorm", "logsumexp",
        "upsample_nearest1d", "_upsample_nearest_exact1d", "upsample_nearest2d",
        "_upsample_nearest_exact2d", "upsample_nearest3d", "_upsample_nearest_exact3d",
        "upsample_linear1d", "upsample_bilinear2d", "_upsample_bilinear2d_aa",
        "upsample_trilinear3d", "upsample_bicubic2d", "_upsample_bicubic2d_aa",
        # cross_entropy is log_softmax then nll_loss, both float32 under autocast
        "cross_entropy", "cross_entropy_loss",
    }
)  # fmt: skip
# Run on their input as given, with float32 as the output dtype unless one is given.
FP32_OUTPUT = frozenset(
    {
        "prod", "softmax", "log_softmax", "cumprod", "cumsum", "linalg_vector_norm",
        "linalg_matrix_norm", "sum", "norm",
    }
)  # fmt: skip
PROMOTE = frozenset(
    {
        "addcdiv", "addcmul", "atan2", "bilinear", "cross", "dot", "vdot", "grid_sampler",
        "index_put", "tensordot", "scatter_add",
    }
)  # fmt: skip


@dataclass(frozen=True)
class CastPolicy:
    """Autocast's op lists for one device: which ops run in the low dtype, in float32, with a
    float32 output, or in their inputs' widest type."""

    lower: frozenset[str]
    fp32: frozenset[str]
    fp32_output: frozenset[str]
    promote: frozenset[str]


CUDA_POLICY = CastPolicy(LOWER_PRECISION, FP32, FP32_OUTPUT, PROMOTE)
# Python spellings of the ops above as __torch_function__ sees them.
ALIASES = {"__matmul__": "matmul", "__rmatmul__": "matmul", "__pow__": "pow", "__rpow__": "pow"}


def _eligible(value: Any) -> bool:
    """A tensor autocast casts: floating point, not float64."""
    return (
        isinstance(value, torch.Tensor)
        and value.is_floating_point()
        and value.dtype is not torch.float64
    )


class MetaAutocast(TorchFunctionMode):
    """Ops on the lower-precision list run in `low`, those on the float32 list in float32,
    promote ops in their inputs' widest type; every other op keeps its inputs' dtype.

    Casts of float32 leaf tensors that require grad (the weights) to `low` are cached until the
    region exits, as autocast's weight-cast cache does; `on_cached` sees each cached copy."""

    def __init__(
        self,
        low: torch.dtype,
        on_cached: Callable[[torch.Tensor], None],
        policy: CastPolicy = CUDA_POLICY,
    ) -> None:
        super().__init__()
        self.low, self.policy = low, policy
        self.on_cached = on_cached
        self.cache: dict[int, torch.Tensor] = {}

    def __exit__(self, *exc: object) -> None:
        self.cache.clear()  # autocast clears its cache when the outermost region exits
        super().__exit__(*exc)

    def _cast(self, value: Any, dtype: torch.dtype) -> Any:
        if not _eligible(value) or value.dtype is dtype:
            return value
        cacheable = (
            dtype is self.low
            and value.dtype is torch.float32
            and value.requires_grad
            and value.is_leaf
            and not value._is_view()
        )
        if not cacheable:
            return value.to(dtype)
        if id(value) not in self.cache:
            self.cache[id(value)] = value.to(dtype)
            self.on_cached(self.cache[id(value)])
        return self.cache[id(value)]

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        name = ALIASES.get(name, name)
        if name in self.policy.lower:
            dtype: torch.dtype | None = self.low
        elif name in self.policy.fp32:
            dtype = torch.float32
        elif name in self.policy.promote:
            dtypes = [v.dtype for v in tree_leaves((args, kwargs)) if _eligible(v)]
            dtype = dtypes[0] if dtypes else None
            for other in dtypes[1:]:
                dtype = torch.promote_types(dtype, other)
        elif (
            name in self.policy.fp32_output
            and args
            and _eligible(args[0])
            and "dtype" not in kwargs
        ):
            return func(*args, **kwargs, dtype=torch.float32)
        else:
            dtype = None
        if dtype is not None:
            args, kwargs = tree_map(lambda v: self._cast(v, dtype), (args, kwargs))
        return func(*args, **kwargs)
