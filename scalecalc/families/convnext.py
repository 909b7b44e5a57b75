"""ConvNeXt (Liu et al., 2022): patchify stem, 7x7 depthwise blocks with layer scale."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from scalecalc.costs import Costs
from scalecalc.errors import SpecError
from scalecalc.families.block_costs import Tally, total
from scalecalc.families.spec import MAX_DEPTH, MAX_WIDTH, BaseSpec, check_each, check_range
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


def complexity(spec: ConvNeXtSpec, convention: str = "paper") -> Costs:
    """The costs `build(spec)` counts to, in closed form from the spec's shapes."""
    stem = Tally("stem", convention)
    c_in = spec.widths[0]
    size = stem.conv(3, c_in, spec.resolution, 4, 4, bias=True)
    stem.channels_last_norm(c_in, size)
    parts = [stem]
    for index, (depth, width) in enumerate(zip(spec.depths, spec.widths)):
        stage, block = Tally(f"stage{index + 1}", convention), Tally("block", convention)
        if index > 0:  # the downsampling layer opens stages 2-4
            stage.channels_last_norm(c_in, size)
            size = stage.conv(c_in, width, size, 2, 2, bias=True)
        block.convnext_block(width, size, spec.mlp_ratio, spec.layer_scale)
        stage.add(block, depth)
        parts.append(stage)
        c_in = width
    head = Tally("head", convention)
    head.convnext_head(c_in, size, spec.num_classes)
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
