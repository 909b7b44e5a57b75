"""Each block's closed-form cost (families/block_costs.py) against its module (nn/blocks.py) traced
by the meta counter: the twins, one block type at a time, in both conventions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from module_count import count_module
from torch import nn

from scalecalc.costs import CONVENTIONS
from scalecalc.families.block_costs import Tally
from scalecalc.nn import blocks

# (module factory, input shape, the Tally call that should cost the same)
TWINS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...], Callable[[Tally], object]]] = {
    "bottleneck, grouped, strided, SE": (
        lambda: blocks.BottleneckBlock(48, 96, 2, 64, 16, se_channels=12),
        (1, 48, 15, 15),
        lambda t: t.bottleneck_block(48, 96, 15, 2, 64, 16, se_channels=12),
    ),
    "bottleneck, identity shortcut": (
        lambda: blocks.BottleneckBlock(64, 64, 1, 16, 16),
        (1, 64, 8, 8),
        lambda t: t.bottleneck_block(64, 64, 8, 1, 16, 16),
    ),
    "basic, projection": (
        lambda: blocks.BasicBlock(16, 32, 2),
        (1, 16, 9, 9),
        lambda t: t.basic_block(16, 32, 9, 2),
    ),
    "mbconv, expanded, strided, SE": (
        lambda: blocks.MBConvBlock(16, 24, 96, 5, 2, 4),
        (1, 16, 13, 13),
        lambda t: t.mbconv_block(16, 24, 13, 96, 5, 2, 4),
    ),
    "mbconv, ratio 1, residual": (
        lambda: blocks.MBConvBlock(24, 24, 24, 3, 1, 0),
        (1, 24, 7, 7),
        lambda t: t.mbconv_block(24, 24, 7, 24, 3, 1, 0),
    ),
    "pool linear head": (
        lambda: blocks.PoolLinearHead(32, 10),
        (1, 32, 7, 7),
        lambda t: t.pool_linear_head(32, 7, 10),
    ),
    "patch embedding, class token": (
        lambda: blocks.PatchEmbedding(24, 8, 17, True),
        (1, 3, 32, 32),
        lambda t: t.patch_embedding(24, 32, 8, 17, True),
    ),
    "encoder block": (
        lambda: blocks.EncoderBlock(32, 4, 80),
        (1, 17, 32),
        lambda t: t.encoder_block(32, 17, 4, 80),
    ),
    "token head, mean pooling": (
        lambda: blocks.TokenHead(32, False, 10),
        (1, 16, 32),
        lambda t: t.token_head(32, 16, False, 10),
    ),
    "channels-last norm": (
        lambda: blocks.ChannelsLastNorm(24),
        (1, 24, 6, 6),
        lambda t: t.channels_last_norm(24, 6),
    ),
    "convnext block, layer scale": (
        lambda: blocks.ConvNeXtBlock(24, 4, 1e-6),
        (1, 24, 6, 6),
        lambda t: t.convnext_block(24, 6, 4, 1e-6),
    ),
    "convnext head": (
        lambda: blocks.ConvNeXtHead(24, 10),
        (1, 24, 3, 3),
        lambda t: t.convnext_head(24, 3, 10),
    ),
}


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("name", sorted(TWINS))
def test_block_cost_equals_its_traced_module(name: str, convention: str) -> None:
    make, shape, charge = TWINS[name]
    with torch.device("meta"):
        module = make()
    traced = count_module(module, shape, convention)
    tally = Tally("module", convention)
    charge(tally)
    assert traced.unsupported == ()
    assert (tally.flops, tally.params, tally.acts) == (traced.flops, traced.params, traced.acts)


def test_a_block_cost_by_hand() -> None:
    # Basic block 16 -> 32 channels, stride 2, on 9x9: 3x3 convs give 5x5 outputs.
    tally = Tally("block", "paper")
    tally.basic_block(16, 32, 9, 2)
    conv_a, conv_b, proj = 32 * 25 * 16 * 9, 32 * 25 * 32 * 9, 32 * 25 * 16
    assert tally.flops == conv_a + conv_b + proj
    assert tally.acts == 3 * 32 * 25
    # weights of the three convolutions, plus weight and bias of their three batch norms
    assert tally.params == 32 * 16 * 9 + 32 * 32 * 9 + 32 * 16 + 3 * 2 * 32


def test_squeeze_excite_width_is_rounded_from_the_block_input() -> None:
    # RegNetY's SE width is round(input width x se_ratio), as the reference code has it: a
    # 30-wide stem into a 32-wide block with ratio 0.25 gives round(7.5) = 8 SE channels.
    from scalecalc.api import count
    from scalecalc.config import from_mapping

    fields = {"family": "regnet", "depths": [1], "widths": [32], "group_widths": [8]}
    fields |= {"stem_width": 30, "resolution": 32}
    plain = count(from_mapping(fields, "x", "test").spec)
    with_se = count(from_mapping({**fields, "se_ratio": 0.25}, "x", "test").spec)
    bottleneck, se = 32, 8
    # 1x1 down (weights + bias) and 1x1 up (weights + bias) on the 32-channel bottleneck
    assert with_se.params - plain.params == bottleneck * se + se + se * bottleneck + bottleneck
