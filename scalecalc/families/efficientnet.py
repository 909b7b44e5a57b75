"""EfficientNet (Tan & Le, 2019) in the stage form of the paper's reference code: MBConv stages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from scalecalc.costs import Costs
from scalecalc.errors import SpecError
from scalecalc.families.block_costs import Tally, stage_tally, total
from scalecalc.families.spec import MAX_DEPTH, MAX_WIDTH, BaseSpec, check_each, check_range
from scalecalc.scaling import (
    Factors,
    adjust_compatibility,
    scale_depth,
    scale_resolution,
    scale_width,
)

MAX_KERNEL = 31
MAX_EXPANSION = 64


@dataclass(frozen=True, kw_only=True)
class EfficientNetSpec(BaseSpec):
    """Stem width; per stage depth, width, expansion ratio, kernel, stride; SE ratio; head width."""

    family: ClassVar[str] = "efficientnet"
    stem_width: int = 32
    depths: tuple[int, ...]
    widths: tuple[int, ...]
    exp_ratios: tuple[int, ...]
    kernels: tuple[int, ...]
    strides: tuple[int, ...]
    # Squeeze-excitation channels are int(block input width x se_ratio); 0 channels: no SE.
    se_ratio: float = 0.25
    head_width: int = 1280

    def validate(self) -> None:
        super().validate()
        check_range("stem_width", self.stem_width, 1, MAX_WIDTH)
        check_each("depths", self.depths, 1, MAX_DEPTH)
        stages = len(self.depths)
        check_each("widths", self.widths, 1, MAX_WIDTH, stages)
        check_each("exp_ratios", self.exp_ratios, 1, MAX_EXPANSION, stages)
        check_each("kernels", self.kernels, 1, MAX_KERNEL, stages)
        check_each("strides", self.strides, 1, 2, stages)
        for kernel in self.kernels:
            if kernel % 2 == 0:
                raise SpecError("kernels", f"entries must be odd (centred padding), got {kernel}")
        check_range("se_ratio", self.se_ratio, 0, 1)
        check_range("head_width", self.head_width, 1, MAX_WIDTH)

    @property
    def num_blocks(self) -> int:
        """MBConv blocks over all stages."""
        return sum(self.depths)

    def se_channels(self, c_in: int) -> int:
        """Squeeze-excitation width of a block whose input has `c_in` channels."""
        return int(c_in * self.se_ratio)


# Named tuples, not frozen dataclasses: a flops solve plans every model it tries, and a tuple
# is several times quicker to make.
class MBConvShape(NamedTuple):
    """One MBConv block: input and output widths, expanded width, kernel, stride, SE width."""

    c_in: int
    c_out: int
    expanded: int
    kernel: int
    stride: int
    se_width: int


class MBConvStage(NamedTuple):
    """A stage: its first block, and the block repeated `depth - 1` times after it."""

    first: MBConvShape
    rest: MBConvShape
    depth: int


def stage_plan(spec: EfficientNetSpec) -> list[MBConvStage]:
    """The MBConv stages of `spec`, the one description both the builder and the cost follow."""
    plans = []
    c_in = spec.stem_width
    for depth, width, ratio, kernel, stride in zip(
        spec.depths, spec.widths, spec.exp_ratios, spec.kernels, spec.strides
    ):

        def block(c: int, s: int) -> MBConvShape:
            return MBConvShape(c, width, c * ratio, kernel, s, spec.se_channels(c))

        plans.append(MBConvStage(block(c_in, stride), block(width, 1), depth))
        c_in = width
    return plans


def complexity(spec: EfficientNetSpec, convention: str = "paper") -> Costs:
    """The costs `build(spec)` counts to, in closed form from the spec's shapes."""

    stem = Tally("stem", convention)
    size = stem.conv_bn(3, spec.stem_width, spec.resolution, 3, 2)
    parts = [stem]
    for index, plan in enumerate(stage_plan(spec)):
        stage, size = stage_tally(
            f"stage{index + 1}", _mbconv_costs, plan.first, plan.rest, plan.depth, size, convention
        )
        parts.append(stage)
    head = Tally("head", convention)
    head.conv_bn(spec.widths[-1], spec.head_width, size, 1)
    head.pool_linear_head(spec.head_width, size, spec.num_classes)
    return total([*parts, head])


def _mbconv_costs(tally: Tally, block: MBConvShape, size: int) -> int:
    """Charge one MBConv block to `tally`; returns the output side."""
    return tally.mbconv_block(
        block.c_in, block.c_out, size, block.expanded, block.kernel, block.stride, block.se_width
    )


def scale(spec: EfficientNetSpec, factors: Factors) -> EfficientNetSpec:
    """Scale as the paper's reference scaler does: stem and head widths follow the stage widths."""
    widths = [scale_width(w, factors.width) for w in spec.widths]
    # Expansion ratios are the bottleneck multipliers, the group width is 1 (depthwise).
    pairs = [adjust_compatibility(w, r, 1) for w, r in zip(widths, spec.exp_ratios)]
    return spec.replace(
        stem_width=scale_width(spec.stem_width, factors.width),
        depths=tuple(scale_depth(d, factors.depth) for d in spec.depths),
        widths=tuple(w for w, _ in pairs),
        head_width=scale_width(spec.head_width, factors.width),
        resolution=scale_resolution(spec.resolution, factors.resolution),
    )


def _stages(depths: list[int], widths: list[int], stem: int, head: int, res: int) -> dict:
    # Shared by B0-B5 (pycls configs/dds_baselines/effnet/EN-B*_dds_8gpu.yaml).
    return {
        "stem_width": stem,
        "depths": depths,
        "widths": widths,
        "exp_ratios": [1, 6, 6, 6, 6, 6, 6],
        "kernels": [3, 3, 5, 3, 5, 5, 3],
        "strides": [1, 2, 2, 2, 1, 2, 1],
        "se_ratio": 0.25,
        "head_width": head,
        "resolution": res,
    }


PRESETS: dict[str, dict[str, Any]] = {
    "efficientnet_b0": _stages(
        [1, 2, 2, 3, 3, 4, 1], [16, 24, 40, 80, 112, 192, 320], 32, 1280, 224
    ),
    "efficientnet_b1": _stages(
        [2, 3, 3, 4, 4, 5, 2], [16, 24, 40, 80, 112, 192, 320], 32, 1280, 240
    ),
    "efficientnet_b2": _stages(
        [2, 3, 3, 4, 4, 5, 2], [16, 24, 48, 88, 120, 208, 352], 32, 1408, 260
    ),
    "efficientnet_b3": _stages(
        [2, 3, 3, 5, 5, 6, 2], [24, 32, 48, 96, 136, 232, 384], 40, 1536, 300
    ),
    "efficientnet_b4": _stages(
        [2, 4, 4, 6, 6, 8, 2], [24, 32, 56, 112, 160, 272, 448], 48, 1792, 380
    ),
    "efficientnet_b5": _stages(
        [3, 5, 5, 7, 7, 9, 3], [24, 40, 64, 128, 176, 304, 512], 48, 2048, 456
    ),
}
