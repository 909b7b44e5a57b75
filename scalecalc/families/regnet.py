"""RegNetX and RegNetY (Radosavovic et al., 2020), expanded to stages as the reference code does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from scalecalc.costs import Costs
from scalecalc.errors import SpecError, shown
from scalecalc.families.cnn import StageSpec, scaled_stage_fields, stage_costs
from scalecalc.families.block_costs import Tally, total
from scalecalc.families.spec import MAX_DEPTH, MAX_WIDTH, check_range
from scalecalc.inputs import is_finite_number
from scalecalc.scaling import Factors, adjust_compatibility

PAPER_KEYS = ("depth", "w0", "wa", "wm", "group_width")


@dataclass(frozen=True, kw_only=True)
class RegNetSpec(StageSpec):
    """RegNet in stage form; YAML may give the paper's parameters instead (see PAPER_KEYS)."""

    family: ClassVar[str] = "regnet"
    block: ClassVar[str] = "bottleneck"
    se_ratio: float = 0.0
    stem_width: int = 32

    def validate(self) -> None:
        super().validate()
        check_range("se_ratio", self.se_ratio, 0, 1)
        check_range("stem_width", self.stem_width, 1, MAX_WIDTH)


def stages_from_paper(
    depth: int, w0: int, wa: float, wm: float, group_width: int, bottleneck_ratio: float = 1.0
) -> dict[str, tuple[int, ...]]:
    """Per-stage depths, widths and group widths from the paper's (d, w0, wa, wm, g, b); a
    preset's are looked up, any other computed."""
    if bottleneck_ratio == 1.0 and (depth, w0, wa, wm, group_width) in PRESET_STAGES:
        stages = PRESET_STAGES[depth, w0, wa, wm, group_width]
        return dict(zip(("depths", "widths", "group_widths"), stages))
    return compute_stages(depth, w0, wa, wm, group_width, bottleneck_ratio)


def compute_stages(
    depth: int, w0: int, wa: float, wm: float, group_width: int, bottleneck_ratio: float = 1.0
) -> dict[str, tuple[int, ...]]:
    """`stages_from_paper` computed as the reference implementation does."""
    # numpy on purpose: the same float operations as the reference implementation. Imported
    # here so that commands which never expand a RegNet start without it.
    import numpy as np

    continuous = np.arange(depth) * wa + w0
    exponents = np.round(np.log(continuous / w0) / np.log(wm))
    block_widths = np.round(w0 * np.power(wm, exponents) / 8).astype(int) * 8
    widths, depths = np.unique(block_widths, return_counts=True)
    pairs = [adjust_compatibility(int(w), bottleneck_ratio, group_width) for w in widths]
    return {
        "depths": tuple(int(d) for d in depths),
        "widths": tuple(w for w, _ in pairs),
        "group_widths": tuple(g for _, g in pairs),
    }


def expand_aliases(fields: dict[str, Any]) -> dict[str, Any]:
    """Replace the paper's parameters (depth, w0, wa, wm, group_width) by stage lists."""
    given = [key for key in PAPER_KEYS if key in fields]
    if not given:
        return dict(fields)
    missing = [key for key in PAPER_KEYS if key not in fields]
    if missing:
        raise SpecError(missing[0], f"the paper's parameters need all of {', '.join(PAPER_KEYS)}")
    for key in ("depths", "widths", "group_widths"):
        if key in fields:
            raise SpecError(key, f"give either stage lists or the paper's {', '.join(PAPER_KEYS)}")
    fields = dict(fields)
    depth, w0, wa, wm, group_width = (fields.pop(key) for key in PAPER_KEYS)
    _check_paper(depth, w0, wa, wm, group_width)
    ratio = fields.get("bottleneck_ratio", 1.0)
    if not is_finite_number(ratio) or not 0 < ratio <= 64:
        raise SpecError("bottleneck_ratio", f"must be a number in (0, 64], got {shown(ratio)}")
    stages = stages_from_paper(depth, w0, wa, wm, group_width, ratio)
    fields.update({key: list(value) for key, value in stages.items()})
    return fields


def _check_paper(depth: Any, w0: Any, wa: Any, wm: Any, group_width: Any) -> None:
    def is_int(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    def is_number(value: Any) -> bool:
        return is_finite_number(value)

    if not is_int(depth) or not 1 <= depth <= MAX_DEPTH:
        raise SpecError(
            "depth", f"must be an integer between 1 and {MAX_DEPTH}, got {shown(depth)}"
        )
    if not is_int(w0) or not 8 <= w0 <= MAX_WIDTH or w0 % 8:
        raise SpecError(
            "w0", f"must be a positive multiple of 8 up to {MAX_WIDTH}, got {shown(w0)}"
        )
    if not is_number(wa) or not 0 <= wa <= MAX_WIDTH:
        raise SpecError("wa", f"must be a number between 0 and {MAX_WIDTH}, got {shown(wa)}")
    if not is_number(wm) or not 1 < wm <= 64:
        raise SpecError("wm", f"must be a number above 1 and at most 64, got {shown(wm)}")
    if not is_int(group_width) or not 1 <= group_width <= MAX_WIDTH:
        raise SpecError("group_width", f"must be a positive integer, got {shown(group_width)}")


def complexity(spec: RegNetSpec, convention: str = "paper") -> Costs:
    """The costs `build(spec)` counts to, in closed form from the spec's shapes."""
    stem = Tally("stem", convention)
    size = stem.conv_bn(3, spec.stem_width, spec.resolution, 3, 2)
    stages, size = stage_costs(spec, spec.stem_width, size, convention)
    head = Tally("head", convention)
    head.pool_linear_head(spec.widths[-1], size, spec.num_classes)
    return total([stem, *stages, head])


def scale(spec: RegNetSpec, factors: Factors) -> RegNetSpec:
    """Scale the stage form exactly as the paper's reference scaler does."""
    return spec.replace(**scaled_stage_fields(spec, factors))


def _paper(depth: int, w0: int, wa: float, wm: float, group_width: int, se: float = 0.0) -> dict:
    fields = {"depth": depth, "w0": w0, "wa": wa, "wm": wm, "group_width": group_width}
    return fields | ({"se_ratio": se} if se else {})


PRESETS: dict[str, dict[str, Any]] = {
    "regnetx_400mf": _paper(22, 24, 24.48, 2.54, 16),
    "regnetx_4gf": _paper(23, 96, 38.65, 2.43, 40),
    "regnety_400mf": _paper(16, 48, 27.89, 2.09, 8, se=0.25),
    "regnety_4gf": _paper(22, 96, 31.41, 2.24, 64, se=0.25),
    "regnety_16gf": _paper(18, 200, 106.23, 2.48, 112, se=0.25),
}

# The stage form (depths, widths, group widths) `compute_stages` gives each preset's
# (depth, w0, wa, wm, group width), written out so that loading a preset does not import numpy,
# which takes longer than counting a whole sweep; tests/test_startup.py keeps them equal.
PRESET_STAGES: dict[tuple[int, int, float, float, int], tuple[tuple[int, ...], ...]] = {
    (22, 24, 24.48, 2.54, 16): ((1, 2, 7, 12), (32, 64, 160, 384), (16, 16, 16, 16)),
    (23, 96, 38.65, 2.43, 40): ((2, 5, 14, 2), (80, 240, 560, 1360), (40, 40, 40, 40)),
    (16, 48, 27.89, 2.09, 8): ((1, 3, 6, 6), (48, 104, 208, 440), (8, 8, 8, 8)),
    (22, 96, 31.41, 2.24, 64): ((2, 6, 12, 2), (128, 192, 512, 1088), (64, 64, 64, 64)),
    (18, 200, 106.23, 2.48, 112): ((2, 4, 11, 1), (224, 448, 1232, 3024), (112, 112, 112, 112)),
}
