"""Builders of ResNet/ResNeXt and RegNet: their stems, and one stage builder for both."""

from __future__ import annotations

from torch import nn

from scalecalc.families.cnn import BlockShape, StageSpec, stage_plan
from scalecalc.families.regnet import RegNetSpec
from scalecalc.families.resnet import ResNetSpec
from scalecalc.nn.blocks import BasicBlock, BottleneckBlock, PoolLinearHead, StagedNet, conv_bn


def block_module(block: BlockShape) -> nn.Module:
    """The module of one planned block."""
    if block.kind == "basic":
        return BasicBlock(block.c_in, block.c_out, block.stride)
    return BottleneckBlock(
        block.c_in, block.c_out, block.stride, block.bottleneck, block.group_width, block.se_width
    )


def build_stages(spec: StageSpec, c_in: int) -> list[nn.Module]:
    """The stages of `spec` after a stem of `c_in` channels, as `stage_plan` describes them."""
    stages = []
    for plan in stage_plan(spec, c_in):
        blocks = [block_module(plan.first)]
        blocks += [block_module(plan.rest) for _ in range(plan.depth - 1)]
        stages.append(nn.Sequential(*blocks))
    return stages


def build_resnet(spec: ResNetSpec) -> StagedNet:
    """ResNet/ResNeXt: 7x7 stem with max pool, residual stages, pooled linear head."""
    stem = nn.Sequential(conv_bn(3, spec.stem_width, 7, 2), nn.MaxPool2d(3, 2, 1))
    stages = build_stages(spec, spec.stem_width)
    return StagedNet(stem, stages, PoolLinearHead(spec.widths[-1], spec.num_classes))


def build_regnet(spec: RegNetSpec) -> StagedNet:
    """RegNet: 3x3 stem, stages of X (or Y, with SE) blocks, pooled linear head."""
    stem = conv_bn(3, spec.stem_width, 3, 2)
    stages = build_stages(spec, spec.stem_width)
    return StagedNet(stem, stages, PoolLinearHead(spec.widths[-1], spec.num_classes))
