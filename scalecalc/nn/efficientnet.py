"""Builder of EfficientNet."""

from __future__ import annotations

from torch import nn

from scalecalc.families.efficientnet import EfficientNetSpec, MBConvShape, stage_plan
from scalecalc.nn.blocks import MBConvBlock, PoolLinearHead, StagedNet, conv_bn_silu


def build_efficientnet(spec: EfficientNetSpec) -> StagedNet:
    """The network for `spec`: 3x3 stride-2 stem, MBConv stages, 1x1 head conv, pooled classifier."""
    stem = conv_bn_silu(3, spec.stem_width, 3, 2)
    stages = [
        nn.Sequential(_block(plan.first), *(_block(plan.rest) for _ in range(plan.depth - 1)))
        for plan in stage_plan(spec)
    ]
    head = nn.Sequential(
        conv_bn_silu(spec.widths[-1], spec.head_width, 1),
        PoolLinearHead(spec.head_width, spec.num_classes),
    )
    return StagedNet(stem, stages, head)


def _block(shape: MBConvShape) -> MBConvBlock:
    """The MBConv module of one planned block."""
    return MBConvBlock(
        shape.c_in, shape.c_out, shape.expanded, shape.kernel, shape.stride, shape.se_width
    )
