"""Builder of EfficientNet."""

from __future__ import annotations

from torch import nn

from scalecalc.families.efficientnet import EfficientNetSpec
from scalecalc.nn.blocks import MBConvBlock, PoolLinearHead, StagedNet, conv_bn_silu


def build_efficientnet(spec: EfficientNetSpec) -> StagedNet:
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
