"""EfficientNet modules: the MBConv block and `build(spec)` as stem -> stages -> head."""

from __future__ import annotations

import torch
from torch import nn

from scalecalc.families._blocks import PoolLinearHead, SqueezeExcite, StagedNet, conv_bn
from scalecalc.families.efficientnet import EfficientNetSpec


def conv_bn_silu(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Module:
    """Convolution, batch norm, SiLU."""
    return nn.Sequential(conv_bn(c_in, c_out, kernel, stride, groups, relu=False), nn.SiLU())


class MBConvBlock(nn.Module):
    """Inverted bottleneck: [1x1 expansion], depthwise kxk (strided), [SE], 1x1 projection."""

    def __init__(
        self, c_in: int, c_out: int, expanded: int, kernel: int, stride: int, se_channels: int
    ) -> None:
        super().__init__()
        # An expansion ratio of 1 leaves the width unchanged: no 1x1 expansion then.
        self.expand = conv_bn_silu(c_in, expanded, 1) if expanded != c_in else nn.Identity()
        self.dwise = conv_bn_silu(expanded, expanded, kernel, stride, groups=expanded)
        self.se = SqueezeExcite(expanded, se_channels, nn.SiLU) if se_channels else nn.Identity()
        self.project = conv_bn(expanded, c_out, 1, relu=False)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.se(self.dwise(self.expand(x))))
        return x + y if self.residual else y


def build(spec: EfficientNetSpec) -> StagedNet:
    """The network for `spec`: 3x3 stride-2 stem, MBConv stages, 1x1 head conv, pooled classifier."""
    stem = conv_bn_silu(3, spec.stem_width, 3, 2)
    stages = []
    for c_in, depth, width, ratio, kernel, stride in zip(
        spec.stage_inputs(), spec.depths, spec.widths, spec.exp_ratios, spec.kernels, spec.strides
    ):
        blocks = []
        for _ in range(depth):
            se = spec.se_channels(c_in)
            blocks.append(MBConvBlock(c_in, width, c_in * ratio, kernel, stride, se))
            c_in, stride = width, 1
        stages.append(nn.Sequential(*blocks))
    head = nn.Sequential(
        conv_bn_silu(spec.widths[-1], spec.head_width, 1),
        PoolLinearHead(spec.head_width, spec.num_classes),
    )
    return StagedNet(stem, stages, head)
