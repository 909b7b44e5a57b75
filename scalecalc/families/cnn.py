"""The stage form shared by ResNet/ResNeXt and RegNet: its blocks, costs and scaling rules.

`stage_plan` is the one description of the stages that both the builder
(scalecalc.nn.cnn) and the closed-form cost (`stage_costs`) follow: which block, its widths,
its stride and its squeeze-excitation width.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from scalecalc.errors import SpecError
from scalecalc.families.block_costs import Tally, stage_tally
from scalecalc.families.spec import MAX_DEPTH, MAX_WIDTH, BaseSpec, check_each, check_range
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
    """Per-stage depths and output widths, a bottleneck ratio and per-stage group widths.

    Subclasses also give `block` ("bottleneck" or "basic") and `se_ratio`, as fields or as
    class constants.
    """

    # Stride of the first stage's first block: 1 where the stem already pooled (ResNet).
    first_stage_stride: ClassVar[int] = 2
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


# Named tuples, not frozen dataclasses: a flops solve plans every model it tries, and a tuple
# is several times quicker to make.
class BlockShape(NamedTuple):
    """One residual block of a stage: its widths, stride and squeeze-excitation width."""

    kind: str  # "bottleneck" or "basic"
    c_in: int
    c_out: int
    stride: int
    bottleneck: int
    group_width: int
    se_width: int


class StagePlan(NamedTuple):
    """A stage: its first block, and the block repeated `depth - 1` times after it."""

    first: BlockShape
    rest: BlockShape
    depth: int


def se_width(c_in: int, se_ratio: float) -> int:
    """Squeeze-excitation width, relative to the block's input width as the reference code has it."""
    return round(c_in * se_ratio)


def stage_plan(spec: StageSpec, c_in: int) -> list[StagePlan]:
    """The stages of `spec` after a stem of `c_in` channels, block by block."""
    plans = []
    for index, (depth, width, bottleneck, group_width) in enumerate(
        zip(spec.depths, spec.widths, spec.bottleneck_widths(), spec.group_widths)
    ):
        stride = spec.first_stage_stride if index == 0 else 2

        def block(c: int, s: int) -> BlockShape:
            se = se_width(c, spec.se_ratio)
            return BlockShape(spec.block, c, width, s, bottleneck, group_width, se)

        plans.append(StagePlan(block(c_in, stride), block(width, 1), depth))
        c_in = width
    return plans


def block_costs(tally: Tally, block: BlockShape, size: int) -> int:
    """Charge one block to `tally`; returns the output side."""
    if block.kind == "basic":
        return tally.basic_block(block.c_in, block.c_out, size, block.stride)
    return tally.bottleneck_block(
        block.c_in,
        block.c_out,
        size,
        block.stride,
        block.bottleneck,
        block.group_width,
        block.se_width,
    )


def stage_costs(spec: StageSpec, c_in: int, size: int, convention: str) -> tuple[list[Tally], int]:
    """Tallies of the stages after a stem of `c_in` channels and side `size`; the final side."""
    stages = []
    for index, plan in enumerate(stage_plan(spec, c_in)):
        stage, size = stage_tally(
            f"stage{index + 1}", block_costs, plan.first, plan.rest, plan.depth, size, convention
        )
        stages.append(stage)
    return stages, size
