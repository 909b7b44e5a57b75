"""The stage form shared by ResNet/ResNeXt and RegNet, and the reference CNN scaling rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scalecalc.errors import SpecError
from scalecalc.families._spec import MAX_DEPTH, MAX_WIDTH, BaseSpec, check_each, check_range
from scalecalc.scaling import (
    Factors,
    adjust_compatibility,
    scale_depth,
    scale_group_width,
    scale_resolution,
    scale_width,
)


@dataclass(frozen=True, kw_only=True)
class StageSpec(BaseSpec):
    """Per-stage depths and output widths, a bottleneck ratio and per-stage group widths."""

    depths: tuple[int, ...]
    widths: tuple[int, ...]
    group_widths: tuple[int, ...]
    bottleneck_ratio: float = 1.0

    def validate(self) -> None:
        super().validate()
        ratio = self.bottleneck_ratio
        check_range("bottleneck_ratio", ratio, 1 / 64, 64)
        check_each("depths", self.depths, 1, MAX_DEPTH)
        check_each("widths", self.widths, 1, MAX_WIDTH, len(self.depths))
        check_each("group_widths", self.group_widths, 1, MAX_WIDTH, len(self.depths))
        if ratio > 1 and ratio != int(ratio):
            raise SpecError("bottleneck_ratio", f"above 1 it must be a whole number, got {ratio}")
        self.check_bottlenecks()

    def check_bottlenecks(self) -> None:
        """Raise SpecError unless each bottleneck width is whole and divisible by its group width."""
        ratio = self.bottleneck_ratio
        for width, group_width in zip(self.widths, self.group_widths):
            bottleneck = width * ratio
            if bottleneck != int(bottleneck):
                raise SpecError(
                    "widths", f"width {width} x bottleneck_ratio {ratio} is not a whole number"
                )
            if int(bottleneck) % group_width:
                raise SpecError(
                    "group_widths",
                    f"group width {group_width} must divide the bottleneck width "
                    f"{int(bottleneck)} (width {width} x bottleneck_ratio {ratio})",
                )

    @property
    def num_blocks(self) -> int:
        """Residual blocks over all stages."""
        return sum(self.depths)

    def bottleneck_widths(self) -> tuple[int, ...]:
        """Channels inside each stage's bottleneck (width x bottleneck_ratio)."""
        return tuple(int(w * self.bottleneck_ratio) for w in self.widths)


def scaled_stage_fields(spec: StageSpec, factors: Factors) -> dict[str, Any]:
    """Depths, widths, group widths and resolution as the paper's reference scaler sets them."""
    depths = tuple(scale_depth(d, factors.depth) for d in spec.depths)
    widths = [scale_width(w, factors.width) for w in spec.widths]
    group_widths = [scale_group_width(g, factors.group) for g in spec.group_widths]
    pairs = [
        adjust_compatibility(w, spec.bottleneck_ratio, g) for w, g in zip(widths, group_widths)
    ]
    return {
        "depths": depths,
        "widths": tuple(w for w, _ in pairs),
        "group_widths": tuple(g for _, g in pairs),
        "resolution": scale_resolution(spec.resolution, factors.resolution),
    }
