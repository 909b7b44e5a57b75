"""Builder of ConvNeXt."""

from __future__ import annotations

from torch import nn

from scalecalc.families.convnext import ConvNeXtSpec
from scalecalc.nn.blocks import ChannelsLastNorm, ConvNeXtBlock, ConvNeXtHead, StagedNet


def build_convnext(spec: ConvNeXtSpec) -> StagedNet:
    """Patchify stem; each stage after the first starts with its 2x2 downsampling."""
    stem = nn.Sequential(nn.Conv2d(3, spec.widths[0], 4, 4), ChannelsLastNorm(spec.widths[0]))
    stages, c_in = [], spec.widths[0]
    for depth, width in zip(spec.depths, spec.widths):
        layers: list[nn.Module] = []
        if stages:
            layers += [ChannelsLastNorm(c_in), nn.Conv2d(c_in, width, 2, 2)]
        layers += [ConvNeXtBlock(width, spec.mlp_ratio, spec.layer_scale) for _ in range(depth)]
        stages.append(nn.Sequential(*layers))
        c_in = width
    return StagedNet(stem, stages, ConvNeXtHead(c_in, spec.num_classes))
