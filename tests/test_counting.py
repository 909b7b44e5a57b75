"""Counts of toy modules against hand arithmetic, and the counting convention's edges."""

from __future__ import annotations

import pytest
import torch
from module_count import count_module
from torch import nn

from scalecalc.api import build, load
from scalecalc.nn.counting import op_base_name
from scalecalc.nn.blocks import SelfAttention


def meta(make) -> nn.Module:  # noqa: ANN001
    with torch.device("meta"):
        return make()


def test_conv_by_hand() -> None:
    costs = count_module(meta(lambda: nn.Conv2d(3, 8, 3, padding=1)), (1, 3, 16, 16))
    # output 8 x 16 x 16 = 2048 elements, each 3 * 3 * 3 = 27 multiply-adds
    assert (costs.flops, costs.acts, costs.params) == (2048 * 27, 2048, 8 * 27 + 8)


def test_grouped_strided_conv_by_hand() -> None:
    conv = meta(lambda: nn.Conv2d(8, 16, 3, stride=2, padding=1, groups=4, bias=False))
    costs = count_module(conv, (1, 8, 16, 16))
    # output 16 x 8 x 8 = 1024 elements, each (8 / 4) * 3 * 3 = 18 multiply-adds
    assert (costs.flops, costs.acts, costs.params) == (1024 * 18, 1024, 16 * 2 * 9)


def test_linear_on_tokens_by_hand() -> None:
    costs = count_module(meta(lambda: nn.Linear(64, 128)), (1, 10, 64))
    assert (costs.flops, costs.acts, costs.params) == (10 * 64 * 128, 10 * 128, 64 * 128 + 128)


def test_attention_by_hand() -> None:
    costs = count_module(meta(lambda: SelfAttention(64, heads=4)), (1, 10, 64))
    qkv, proj = 10 * 64 * 192, 10 * 64 * 64
    scores = attend = 4 * 10 * 10 * 16  # heads * L * S * head size, for q.k^T and attn.v
    assert costs.flops == qkv + scores + attend + proj
    # outputs: qkv (10 x 192), scores (4 x 10 x 10), attn.v (4 x 10 x 16), proj (10 x 64)
    assert costs.acts == 1920 + 400 + 640 + 640
    assert costs.params == (64 * 192 + 192) + (64 * 64 + 64)


@pytest.mark.parametrize(
    ("make", "shape", "fvcore_flops"),
    [
        (lambda: nn.BatchNorm2d(8), (1, 8, 4, 4), 2 * 128),  # eval, affine: 2 per element
        (lambda: nn.LayerNorm(64), (1, 10, 64), 5 * 640),  # affine: 5 per element
        (lambda: nn.GroupNorm(2, 8), (1, 8, 4, 4), 5 * 128),
        (lambda: nn.AdaptiveAvgPool2d(1), (1, 8, 4, 4), 128),  # one per input element
    ],
)
def test_norms_and_pooling_count_only_in_fvcore_convention(make, shape, fvcore_flops) -> None:  # noqa: ANN001
    module = meta(make)
    assert count_module(module, shape, "paper").flops == 0
    costs = count_module(module, shape, "fvcore")
    assert (costs.flops, costs.acts, costs.unsupported) == (fvcore_flops, 0, ())


def test_unknown_ops_are_reported_not_silently_zero() -> None:
    class Cumulative(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.cumsum(x, dim=1)

    costs = count_module(Cumulative(), (1, 8))
    assert costs.unsupported == (("aten::cumsum", 1),)


def test_elementwise_ops_are_known_and_free() -> None:
    costs = count_module(meta(lambda: nn.Sequential(nn.GELU(), nn.ReLU(), nn.Softmax(-1))), (2, 8))
    assert (costs.flops, costs.acts, costs.unsupported) == (0, 0, ())


def test_meta_build_allocates_no_weights() -> None:
    model = build(load("vit_l16").spec, "meta")
    assert all(p.is_meta for p in model.parameters())


def test_op_base_name() -> None:
    assert op_base_name("aten::relu_") == "relu"
    assert op_base_name("aten::_native_batch_norm_legit_no_training") == (
        "_native_batch_norm_legit_no_training"
    )
    assert op_base_name("aten::__and__") == "__and__"


@pytest.mark.parametrize(
    ("make", "shape", "fvcore_flops"),
    [
        (lambda: nn.BatchNorm2d(8, affine=False), (1, 8, 4, 4), 128),  # eval, plain: 1 per element
        (lambda: nn.LayerNorm(64, elementwise_affine=False), (1, 10, 64), 4 * 640),
    ],
)
def test_norms_without_affine(make, shape, fvcore_flops) -> None:  # noqa: ANN001
    module = meta(make)
    assert count_module(module, shape, "paper").flops == 0
    assert count_module(module, shape, "fvcore").flops == fvcore_flops


def test_training_batch_norm_counts_as_a_norm_in_fvcore_convention() -> None:
    module = meta(lambda: nn.BatchNorm2d(8)).train()
    x = torch.empty(2, 8, 4, 4, device="meta")  # batch 2: training mode needs more than one value
    from scalecalc.nn.counting import _DispatchCounter

    counter = _DispatchCounter("fvcore")
    with torch.no_grad(), counter:
        module(x)
    assert counter.flops == 5 * 256  # affine: 5 per element, as fvcore's norm handle
