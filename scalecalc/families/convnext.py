"""ConvNeXt (Liu et al., 2022): patchify stem, 7x7 depthwise blocks with layer scale."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from scalecalc.counting import Costs
from scalecalc.errors import SpecError
from scalecalc.families._blocks import StagedNet
from scalecalc.families._cost import Tally, total
from scalecalc.families._spec import MAX_DEPTH, MAX_WIDTH, BaseSpec, check_each, check_range
from scalecalc.scaling import Factors, scale_depth, scale_resolution, scale_width

# Stem stride 4 and three 2x downsamplings. The scaler keeps image sizes on multiples of this;
# other sizes (at least one of it) count as the real model runs them, each stride flooring.
TOTAL_STRIDE = 32


@dataclass(frozen=True, kw_only=True)
class ConvNeXtSpec(BaseSpec):
    """Stage depths and widths, inverted-bottleneck ratio, layer-scale initial value (0: none)."""

    family: ClassVar[str] = "convnext"
    depths: tuple[int, ...]
    widths: tuple[int, ...]
    mlp_ratio: int = 4
    layer_scale: float = 1e-6

    def validate(self) -> None:
        super().validate()
        check_each("depths", self.depths, 1, MAX_DEPTH, 4)
        check_each("widths", self.widths, 1, MAX_WIDTH, 4)
        check_range("mlp_ratio", self.mlp_ratio, 1, 64)
        check_range("layer_scale", self.layer_scale, 0, 1e6)
        if self.resolution < TOTAL_STRIDE:
            raise SpecError("resolution", f"must be at least {TOTAL_STRIDE}, got {self.resolution}")

    @property
    def num_blocks(self) -> int:
        """ConvNeXt blocks over all stages."""
        return sum(self.depths)


class ChannelsLastNorm(nn.Module):
    """LayerNorm over channels of an N, C, H, W tensor."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    """7x7 depthwise conv, LayerNorm, Linear x ratio, GELU, Linear back, layer scale, residual."""

    def __init__(self, width: int, mlp_ratio: int, layer_scale: float) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(width, width, 7, padding=3, groups=width)
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self.mlp = nn.Sequential(
            nn.Linear(width, mlp_ratio * width), nn.GELU(), nn.Linear(mlp_ratio * width, width)
        )
        self.gamma = nn.Parameter(torch.full((width,), layer_scale)) if layer_scale > 0 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.mlp(self.norm(self.dwconv(x).permute(0, 2, 3, 1)))  # N, H, W, C
        if self.gamma is not None:
            y = y * self.gamma
        return x + y.permute(0, 3, 1, 2)


class ConvNeXtHead(nn.Module):
    """Global average pool, LayerNorm, linear classifier."""

    def __init__(self, width: int, num_classes: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.norm(torch.flatten(self.pool(x), 1)))


def build(spec: ConvNeXtSpec) -> StagedNet:
    """The network for `spec`; each stage after the first starts with its 2x2 downsampling."""
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


def complexity(spec: ConvNeXtSpec, convention: str = "paper") -> Costs:
    """The costs `build(spec)` counts to, in closed form from the spec's shapes."""
    stem = Tally("stem", convention)
    c_in = spec.widths[0]
    size = stem.conv(3, c_in, spec.resolution, 4, 4, bias=True)
    stem.layer_norm(c_in, c_in * size * size)
    parts = [stem]
    for index, (depth, width) in enumerate(zip(spec.depths, spec.widths)):
        stage, block = Tally(f"stage{index + 1}", convention), Tally("block", convention)
        if index > 0:  # the downsampling layer opens stages 2-4
            stage.layer_norm(c_in, c_in * size * size)
            size = stage.conv(c_in, width, size, 2, 2, bias=True)
        hidden, pixels = spec.mlp_ratio * width, size * size
        block.conv(width, width, size, 7, 1, 3, groups=width, bias=True)
        block.layer_norm(width, width * pixels)
        block.linear(pixels, width, hidden)
        block.linear(pixels, hidden, width)
        if spec.layer_scale > 0:
            block.parameter(width)
        stage.add(block, depth)
        parts.append(stage)
        c_in = width
    head = Tally("head", convention)
    head.mean(c_in * size * size)
    head.layer_norm(c_in, c_in)
    head.linear(1, c_in, spec.num_classes)
    return total([*parts, head])


def scale(spec: ConvNeXtSpec, factors: Factors) -> ConvNeXtSpec:
    """Depths x d per stage; widths x w on multiples of 8; image on a multiple of 32."""
    return spec.replace(
        depths=tuple(scale_depth(d, factors.depth) for d in spec.depths),
        widths=tuple(scale_width(w, factors.width) for w in spec.widths),
        resolution=scale_resolution(spec.resolution, factors.resolution, TOTAL_STRIDE),
    )


PRESETS: dict[str, dict[str, Any]] = {
    "convnext_t": {"depths": [3, 3, 9, 3], "widths": [96, 192, 384, 768]},
    "convnext_s": {"depths": [3, 3, 27, 3], "widths": [96, 192, 384, 768]},
    "convnext_b": {"depths": [3, 3, 27, 3], "widths": [128, 256, 512, 1024]},
}
