"""Closed-form costs of each block type, from shapes alone: one method per block.

Each composite method is the twin of the module of the same name in scalecalc/nn/blocks.py and
charges exactly what the traced counters (scalecalc.nn.counting) charge for the ATen ops that
module dispatches: convolutions and matrix products cost multiply-adds and output elements;
norms and global means cost flops only in the `fvcore` convention, through
`costs.convention_flops`; parameters are weights plus biases. Sizes are square feature maps.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from scalecalc.costs import (
    Costs,
    StageCosts,
    check_convention,
    convention_flops,
    costs_from_stages,
)


def out_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Output side of a convolution or pooling window (floor mode), as PyTorch computes it."""
    return (size + 2 * padding - kernel) // stride + 1


class Tally:
    """Running flops, params and acts of one part of a network (stem, stageN or head)."""

    __slots__ = ("name", "convention", "flops", "params", "acts")

    def __init__(self, name: str, convention: str) -> None:
        check_convention(convention)
        self.name = name
        self.convention = convention
        self.flops = 0
        self.params = 0
        self.acts = 0

    def conv(
        self,
        c_in: int,
        c_out: int,
        size: int,
        kernel: int,
        stride: int = 1,
        padding: int = 0,
        groups: int = 1,
        bias: bool = False,
    ) -> int:
        """A square convolution on a size x size input; returns the output side."""
        side = out_size(size, kernel, stride, padding)
        outputs = c_out * side * side
        fan_in = c_in // groups * kernel * kernel
        self.flops += outputs * fan_in
        self.acts += outputs
        self.params += c_out * fan_in + (c_out if bias else 0)
        return side

    def linear(self, rows: int, c_in: int, c_out: int) -> None:
        """A linear layer with bias applied to `rows` vectors."""
        self.flops += rows * c_in * c_out
        self.acts += rows * c_out
        self.params += c_in * c_out + c_out

    def matmul(self, batch: int, rows: int, inner: int, cols: int) -> None:
        """A batched product (batch, rows, inner) @ (batch, inner, cols) without parameters."""
        self.flops += batch * rows * inner * cols
        self.acts += batch * rows * cols

    def batch_norm(self, channels: int, elements: int) -> None:
        """An eval-mode affine batch norm over `elements` inputs."""
        self.flops += convention_flops("batch_norm", elements, self.convention)
        self.params += 2 * channels

    def layer_norm(self, channels: int, elements: int) -> None:
        """An affine layer norm over the last `channels` of `elements` inputs."""
        self.flops += convention_flops("norm", elements, self.convention)
        self.params += 2 * channels

    def mean(self, elements: int) -> None:
        """A global average over `elements` inputs (adaptive pooling to 1, or a mean)."""
        self.flops += convention_flops("mean", elements, self.convention)

    def parameter(self, elements: int) -> None:
        """A free-standing parameter tensor (class token, position embedding, layer scale)."""
        self.params += elements

    def add(self, other: Tally, times: int = 1) -> None:
        """Add `times` copies of another tally (identical blocks are costed once)."""
        self.flops += other.flops * times
        self.params += other.params * times
        self.acts += other.acts * times

    def stage(self) -> StageCosts:
        """The tally as a StageCosts record."""
        return StageCosts(self.name, self.flops, self.params, self.acts)

    # --- the blocks of scalecalc/nn/blocks.py, one method each ---

    def conv_bn(
        self, c_in: int, c_out: int, size: int, kernel: int, stride: int = 1, groups: int = 1
    ) -> int:
        """`conv_bn`: bias-free convolution with padding kernel // 2, then batch norm."""
        side = self.conv(c_in, c_out, size, kernel, stride, kernel // 2, groups)
        self.batch_norm(c_out, c_out * side * side)
        return side

    def squeeze_excite(self, channels: int, se_channels: int, size: int) -> None:
        """`SqueezeExcite`: global mean, then 1x1 convolutions (with bias) down and up."""
        self.mean(channels * size * size)
        self.conv(channels, se_channels, 1, 1, bias=True)
        self.conv(se_channels, channels, 1, 1, bias=True)

    def bottleneck_block(
        self,
        c_in: int,
        c_out: int,
        size: int,
        stride: int,
        bottleneck: int,
        group_width: int,
        se_channels: int = 0,
    ) -> int:
        """`BottleneckBlock`; returns the output side."""
        self.conv_bn(c_in, bottleneck, size, 1)
        side = self.conv_bn(bottleneck, bottleneck, size, 3, stride, bottleneck // group_width)
        if se_channels:
            self.squeeze_excite(bottleneck, se_channels, side)
        self.conv_bn(bottleneck, c_out, side, 1)
        if stride != 1 or c_in != c_out:
            self.conv_bn(c_in, c_out, size, 1, stride)
        return side

    def basic_block(self, c_in: int, c_out: int, size: int, stride: int) -> int:
        """`BasicBlock`; returns the output side."""
        side = self.conv_bn(c_in, c_out, size, 3, stride)
        self.conv_bn(c_out, c_out, side, 3)
        if stride != 1 or c_in != c_out:
            self.conv_bn(c_in, c_out, size, 1, stride)
        return side

    def mbconv_block(
        self,
        c_in: int,
        c_out: int,
        size: int,
        expanded: int,
        kernel: int,
        stride: int,
        se_channels: int = 0,
    ) -> int:
        """`MBConvBlock`; returns the output side."""
        if expanded != c_in:  # an expansion ratio of 1 has no 1x1 expansion
            self.conv_bn(c_in, expanded, size, 1)
        side = self.conv_bn(expanded, expanded, size, kernel, stride, expanded)
        if se_channels:
            self.squeeze_excite(expanded, se_channels, side)
        self.conv_bn(expanded, c_out, side, 1)
        return side

    def pool_linear_head(self, channels: int, size: int, num_classes: int) -> None:
        """`PoolLinearHead`: global average pool, then the classifier."""
        self.mean(channels * size * size)
        self.linear(1, channels, num_classes)

    def patch_embedding(
        self, size: int, resolution: int, patch: int, tokens: int, class_token: bool
    ) -> None:
        """`PatchEmbedding`: patchify convolution, optional class token, position embedding."""
        self.conv(3, size, resolution, patch, patch, bias=True)
        self.parameter(size * int(class_token) + tokens * size)

    def encoder_block(self, size: int, tokens: int, heads: int, mlp_size: int) -> None:
        """`EncoderBlock`: pre-norm self-attention and MLP over `tokens` tokens."""
        self.layer_norm(size, tokens * size)
        self.linear(tokens, size, 3 * size)
        self.matmul(heads, tokens, size // heads, tokens)  # q·kᵀ
        self.matmul(heads, tokens, tokens, size // heads)  # attn·v
        self.linear(tokens, size, size)
        self.layer_norm(size, tokens * size)
        self.linear(tokens, size, mlp_size)
        self.linear(tokens, mlp_size, size)

    def token_head(self, size: int, tokens: int, class_token: bool, num_classes: int) -> None:
        """`TokenHead`: layer norm over every token then the class token; without one, timm's
        default: the token mean, then a layer norm on the pooled vector (fc_norm)."""
        if class_token:
            self.layer_norm(size, tokens * size)
        else:
            self.mean(tokens * size)
            self.layer_norm(size, size)
        self.linear(1, size, num_classes)

    def channels_last_norm(self, channels: int, size: int) -> None:
        """`ChannelsLastNorm`: layer norm over the channels of each pixel."""
        self.layer_norm(channels, channels * size * size)

    def convnext_block(self, width: int, size: int, mlp_ratio: int, layer_scale: float) -> None:
        """`ConvNeXtBlock`: 7x7 depthwise conv, norm, inverted MLP, optional layer scale."""
        hidden, pixels = mlp_ratio * width, size * size
        self.conv(width, width, size, 7, 1, 3, groups=width, bias=True)
        self.layer_norm(width, width * pixels)
        self.linear(pixels, width, hidden)
        self.linear(pixels, hidden, width)
        if layer_scale > 0:
            self.parameter(width)

    def convnext_head(self, channels: int, size: int, num_classes: int) -> None:
        """`ConvNeXtHead`: global average pool, layer norm, classifier."""
        self.mean(channels * size * size)
        self.layer_norm(channels, channels)
        self.linear(1, channels, num_classes)


def total(parts: Sequence[Tally]) -> Costs:
    """Costs of a network from the tallies of its parts, in forward order."""
    return costs_from_stages([part.stage() for part in parts])


Shape = TypeVar("Shape", bound=Hashable)
# Charges one block of a given shape to a tally and returns its output side.
Charge = Callable[[Tally, Shape, int], int]


@functools.lru_cache(maxsize=1 << 14)
def block_tally(charge: Charge, block: Shape, size: int, convention: str) -> tuple[Tally, int]:
    """A fresh tally charged with one block, and its output side, worked out once per shape and
    input side: the models a flops solve tries share most of their blocks. The tally is
    shared: add it to others, never change it."""
    tally = Tally("block", convention)
    return tally, charge(tally, block, size)


def stage_tally(
    name: str, charge: Charge, first: Shape, rest: Shape, depth: int, size: int, convention: str
) -> tuple[Tally, int]:
    """A stage of `depth` blocks, `first` then `rest` repeated (blocks after the first are
    identical, so each is costed once); its tally and output side."""
    stage = Tally(name, convention)
    opening, size = block_tally(charge, first, size, convention)
    repeated, _ = block_tally(charge, rest, size, convention)
    stage.add(opening)
    stage.add(repeated, depth - 1)
    return stage, size
