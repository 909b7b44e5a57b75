"""ResNet and ResNeXt in torchvision's v1.5 layout (stride on the 3x3 convolution)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from scalecalc.costs import Costs
from scalecalc.errors import SpecError, shown
from scalecalc.families.cnn import StageSpec, scaled_stage_fields, stage_costs
from scalecalc.families.block_costs import Tally, out_size, total
from scalecalc.families.spec import MAX_WIDTH, check_each, check_range
from scalecalc.inputs import is_finite_number
from scalecalc.scaling import Factors, scale_width

BLOCKS = ("bottleneck", "basic")


@dataclass(frozen=True, kw_only=True)
class ResNetSpec(StageSpec):
    """ResNet/ResNeXt: stage depths, output widths, bottleneck ratio and group widths."""

    family: ClassVar[str] = "resnet"
    first_stage_stride: ClassVar[int] = 1  # the stem's max pool has already downsampled
    se_ratio: ClassVar[float] = 0.0
    block: str = "bottleneck"
    stem_width: int = 64
    bottleneck_ratio: float = 0.25
    # Empty means one group per convolution (plain ResNet): filled in on construction.
    group_widths: tuple[int, ...] = ()
    # Per-stage bottleneck widths where they are not width x bottleneck_ratio: torchvision's
    # groups/width_per_group floor the group width, int(width / 4 * width_per_group / 64).
    bottlenecks: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        ratio = self.bottleneck_ratio if self.block == "bottleneck" else 1
        # Only for values the checks can pass; the base class reports the others by key.
        ratio_ok = is_finite_number(ratio) and 0 < ratio <= 64
        if self.group_widths == () and isinstance(self.widths, tuple) and ratio_ok:
            single = tuple(
                int(w * ratio) if isinstance(w, int) and 0 < w <= MAX_WIDTH else w
                for w in self.widths
            )
            object.__setattr__(self, "group_widths", single)
        super().__post_init__()

    def validate(self) -> None:
        if self.block not in BLOCKS:
            raise SpecError("block", f"must be one of {', '.join(BLOCKS)}, got {shown(self.block)}")
        super().validate()
        check_range("stem_width", self.stem_width, 1, MAX_WIDTH)
        if self.block == "basic":
            if self.bottleneck_ratio != 1:
                raise SpecError("bottleneck_ratio", "must be 1 for basic blocks")
            if self.group_widths != self.widths:
                raise SpecError("group_widths", "basic blocks have no groups: omit group_widths")
            if self.bottlenecks:
                raise SpecError("bottlenecks", "basic blocks have no bottleneck: omit bottlenecks")

    def check_bottlenecks(self) -> None:
        if not self.bottlenecks:
            super().check_bottlenecks()
            return
        check_each("bottlenecks", self.bottlenecks, 1, MAX_WIDTH, len(self.depths))
        for bottleneck, group_width in zip(self.bottlenecks, self.group_widths):
            if bottleneck % group_width:
                raise SpecError(
                    "group_widths",
                    f"group width {group_width} must divide the bottleneck width {bottleneck}",
                )

    def bottleneck_widths(self) -> tuple[int, ...]:
        """Channels inside each stage's bottleneck (`bottlenecks`, else width x ratio)."""
        return self.bottlenecks or super().bottleneck_widths()

    def to_dict(self) -> dict[str, Any]:
        """Plain fields; `bottlenecks` only where they are given, and for basic blocks no
        bottleneck ratio or group widths (they have neither: tables would repeat the widths)."""
        fields = super().to_dict()
        if not self.bottlenecks:
            del fields["bottlenecks"]
        if self.block == "basic":
            del fields["bottleneck_ratio"], fields["group_widths"]
        return fields


def expand_aliases(fields: dict[str, Any]) -> dict[str, Any]:
    """Accept torchvision's `groups` / `width_per_group`, and default basic blocks to ratio 1."""
    fields = dict(fields)
    if fields.get("block") == "basic":
        fields.setdefault("bottleneck_ratio", 1.0)
    if "groups" not in fields and "width_per_group" not in fields:
        return fields
    for key in ("bottleneck_ratio", "group_widths"):
        if key in fields:
            raise SpecError(
                key, "give either groups/width_per_group or bottleneck_ratio/group_widths"
            )
    groups = fields.pop("groups", 1)
    width_per_group = fields.pop("width_per_group", 64)
    for key, value in (("groups", groups), ("width_per_group", width_per_group)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WIDTH:
            raise SpecError(key, f"must be an integer from 1 to {MAX_WIDTH}, got {shown(value)}")
    widths = fields.get("widths")
    if not isinstance(widths, list) or not all(isinstance(w, int) for w in widths):
        raise SpecError("widths", "must be a list of integers when groups are given")
    if any(w % 4 for w in widths):
        raise SpecError("widths", "must be multiples of 4 (torchvision's planes x 4) with groups")
    # torchvision: planes = width / 4; group width int(planes * width_per_group / 64), floored.
    group_widths = [w // 4 * width_per_group // 64 for w in widths]
    if not all(group_widths):
        raise SpecError("width_per_group", "gives no channel per group for the narrowest stage")
    ratio = groups * width_per_group / 256
    fields["bottleneck_ratio"] = ratio
    fields["group_widths"] = group_widths
    bottlenecks = [g * groups for g in group_widths]
    if bottlenecks != [w * ratio for w in widths]:
        fields["bottlenecks"] = bottlenecks
    return fields


def complexity(spec: ResNetSpec, convention: str = "paper") -> Costs:
    """The costs `build(spec)` counts to, in closed form from the spec's shapes."""
    stem = Tally("stem", convention)
    size = stem.conv_bn(3, spec.stem_width, spec.resolution, 7, 2)
    size = out_size(size, 3, 2, 1)  # max pool
    stages, size = stage_costs(spec, spec.stem_width, size, convention)
    head = Tally("head", convention)
    head.pool_linear_head(spec.widths[-1], size, spec.num_classes)
    return total([stem, *stages, head])


def scale(spec: ResNetSpec, factors: Factors) -> ResNetSpec:
    """Scale as the paper's reference scaler does (basic blocks keep one group per conv).

    Explicit `bottlenecks` are dropped: the scaler works with the bottleneck ratio, as pycls does.
    """
    fields = scaled_stage_fields(spec, factors) | {"bottlenecks": ()}
    if spec.block == "basic":
        widths = tuple(scale_width(w, factors.width) for w in spec.widths)
        fields.update(widths=widths, group_widths=widths)
    return spec.replace(**fields)


PRESETS: dict[str, dict[str, Any]] = {
    "resnet50": {"depths": [3, 4, 6, 3], "widths": [256, 512, 1024, 2048]},
    "resnet101": {"depths": [3, 4, 23, 3], "widths": [256, 512, 1024, 2048]},
    "resnext50_32x4d": {
        "depths": [3, 4, 6, 3],
        "widths": [256, 512, 1024, 2048],
        "groups": 32,
        "width_per_group": 4,
    },
}
