"""A device profile moved to another device by a few measured models: its level shifted by the
median log ratio of measured to predicted time, per family where that family was measured.

Why a shift and nothing more: across the shared timm files, the log time of one device against
another is close to a constant plus each model's own scatter, so one or a few measurements fix
the constant and the base profile's exponents keep ranking the models. A family measured
gets its own shift (EfficientNet's depthwise convolutions move differently from ResNet's dense
ones between GPUs); families not measured, and "other", get the median over all measured models.
"""

from __future__ import annotations

import dataclasses
import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from scalecalc.errors import ProfileError
from scalecalc.profile.document import profile_from_document, profile_to_json
from scalecalc.profile.model import Profile, Source, Validation, predict


@dataclass(frozen=True)
class Measured:
    """One model measured on the new device: its counts in the profile's convention, its
    family (None: none of scalecalc's) and its throughput."""

    name: str
    family: str | None
    flops: float
    params: float
    acts: float
    images_per_second: float


@dataclass(frozen=True)
class Shift:
    """A measured model's log ratio of measured to predicted time on the base profile."""

    model: Measured
    log_ratio: float
    extrapolated: bool


def shifts(base: Profile, measured: Sequence[Measured]) -> list[Shift]:
    """Each measured model's log(measured / predicted seconds per image) on `base`."""
    found = []
    for model in measured:
        got = predict(base, model.flops, model.params, model.acts, model.family)
        ratio = math.log(1.0 / model.images_per_second / got.seconds_per_image)
        found.append(Shift(model, ratio, got.extrapolated))
    return found


def stated_error(base_error_pct: float, log_ratios: Sequence[float]) -> float:
    """The median % error a calibrated profile can claim: the base's held-out error (the shape
    the shift keeps) and the error of a level set from N models, each carrying a model's own
    scatter, added in quadrature in log time: ε·√(1 + 1/N) with ε the base's error, or the
    ratios' own median deviation where 3 or more show a larger scatter."""
    base = math.log1p(base_error_pct / 100)
    scatter = base
    if len(log_ratios) >= 3:
        middle = statistics.median(log_ratios)
        scatter = max(base, statistics.median(abs(r - middle) for r in log_ratios))
    return math.expm1(math.sqrt(base**2 + scatter**2 / len(log_ratios))) * 100


def calibrate(
    base: Profile, measured: Sequence[Measured], *, name: str, device: str
) -> tuple[Profile, list[str]]:
    """`base` moved to `device` by `measured`, and one line per measured model for the report."""
    if not measured:
        raise ProfileError("calibrate: needs at least one --measured MODEL=IMAGES_PER_S")
    found = shifts(base, measured)
    overall = statistics.median(s.log_ratio for s in found)
    by_family: dict[str, list[float]] = {}
    for shift in found:
        if shift.model.family in base.intercepts:
            by_family.setdefault(shift.model.family, []).append(shift.log_ratio)
    level = {
        group: statistics.median(by_family[group]) if group in by_family else overall
        for group in base.intercepts
    }
    intercepts = {group: value + level[group] for group, value in base.intercepts.items()}
    # A roofline's time is a sum of three parts: each moves by the same factor.
    costs = {
        group: {measure: value + level[group] for measure, value in group_costs.items()}
        for group, group_costs in base.costs.items()
    }
    ratios = [s.log_ratio for s in found]
    names = ", ".join(s.model.name for s in found)
    v = base.validation
    models = f"{len(found)} model{'' if len(found) == 1 else 's'}"
    setting = base.setting
    calibrated = dataclasses.replace(
        base,
        name=name,
        device=device,
        setting=dataclasses.replace(
            setting, note=f"as measured for {base.name}: {setting.note}".removesuffix(": ")
        ),
        intercepts=intercepts,
        costs=costs,
        source=Source(
            f"profile {base.name} ({base.device}) calibrated from {models}: {names}",
            "",
            base.source.license,
            len(found),
            len(found),
            f"base fitted on {base.source.source}; {base.source.rows} rows, "
            f"{base.source.models} models",
        ),
        validation=Validation(
            "calibrated", stated_error(v.median_abs_pct_error, ratios), v.spearman, len(found)
        ),
        selection=(
            f"{base.name}'s form and exponents; level shifted by the median log ratio of "
            "measured to predicted time (per family where the family was measured); error: the "
            f"base's {v.method} {v.median_abs_pct_error:.1f}% and the level's from {models}, "
            "in quadrature"
        ),
        device_memory=None,
    )
    try:
        profile_from_document(json.loads(profile_to_json(calibrated)), "the calibrated profile")
    except ProfileError as error:
        raise ProfileError(f"calibrate: {error}") from None
    stated = calibrated.validation.median_abs_pct_error
    lines = [
        f"calibrated from {models}; stated error {stated:.1f}% (base {v.method} "
        + f"{v.median_abs_pct_error:.1f}% and the level from {models}, in quadrature)"
    ]
    for shift in found:
        group = shift.model.family if shift.model.family in by_family else "all groups"
        lines.append(
            f"measured {shift.model.name}: {shift.model.images_per_second:.4g} images/s, "
            f"{math.exp(shift.log_ratio):.3f}× the base's time ({group})"
            + (" — outside the base's fitted range" if shift.extrapolated else "")
        )
    return calibrated, lines
