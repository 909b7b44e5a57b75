"""A device profile moved to another device by a few measured models: its level shifted by the
median log ratio of measured to predicted time, per family where that family was measured; or,
for a roofline profile measured on three or more models, its terms moved separately.

Why a shift: across the shared timm files, the log time of one device against another is close
to a constant plus each model's own scatter, so one or a few measurements fix the constant and
the base profile's exponents keep ranking the models. A family measured gets its own shift
(EfficientNet's depthwise convolutions move differently from ResNet's dense ones between GPUs);
families not measured, and "other", get the median over all measured models. Where devices
differ in their ratio of compute to bandwidth (a CPU against the GPU-like CPU a profile was
fitted on), models of different intensity move by different factors: scalecalc.profile.termshift
moves the overhead, the cost per flop and the cost per act separately, kept only where it
predicts each measured model from the others better than the levels do.

The error a calibrated profile states adds, in quadrature in log time, to each error of the base
(the whole profile's and each region's): the device change's transfer term (models do not all
move by one factor between devices) and the error of the level set from the measured models.
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
from scalecalc.profile.termshift import moved_terms, shifted_log_seconds, term_shifts

# Moving a roofline's terms separately is tried from this many measured models: it is chosen by
# predicting each measured model from the others, which two models cannot tell from one level.
MIN_TERM_MODELS = 3
# The transfer term, in log time: how much a change of device adds to a base profile's own
# held-out error once the best single level is set, √(best-level error² - base error²) in log
# time, measured by benchmarks/calibration.py on the shared timm GPU files (the rtx3090, rtx4090
# and rtx5090 profiles on one another's files and the rtx3090 on torch 1.13): the largest of the
# seven, rtx3090 on the 4090 (0.115; the others 0 to 0.089). Held out pair by pair (the largest
# of the other pairs), the stated error covers what calibration achieves on every pair.
GPU_TRANSFER = 0.115
# The only CPU pair there is: the i9 profile (14 cores, torch.compile) on this machine's CPU
# (benchmarks/data/bench-cpu-threads1.json, one eager thread): 0.212, measured on the same file
# that judges it (no other CPU file to hold out).
CPU_TRANSFER = 0.212


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

    def counts(self) -> dict[str, float]:
        """The three counts by measure name."""
        return {"flops": self.flops, "params": self.params, "acts": self.acts}


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


def transfer_term(base: Profile) -> float:
    """The transfer term (log time) of a base: the CPU pair's for a CPU profile (its device
    names a CPU), the GPU pairs' otherwise."""
    return CPU_TRANSFER if _on_cpu(base) else GPU_TRANSFER


def _on_cpu(base: Profile) -> bool:
    return "cpu" in base.device.lower()


def added_error(base_error_pct: float, log_ratios: Sequence[float], transfer: float) -> float:
    """What calibration adds to an error in quadrature, as a squared log error: the transfer
    term τ² and the level's error from N measured models, s²/N, where each model's own scatter
    s is the base's error and the transfer together, √(ε² + τ²), or the ratios' own median
    deviation where 3 or more show a larger scatter."""
    base = math.log1p(base_error_pct / 100)
    scatter = math.hypot(base, transfer)
    if len(log_ratios) >= 3:
        middle = statistics.median(log_ratios)
        scatter = max(scatter, statistics.median(abs(r - middle) for r in log_ratios))
    return transfer**2 + scatter**2 / len(log_ratios)


def combined_error(error_pct: float, added: float) -> float:
    """A % error combined in log time with a squared log error `added` (added_error)."""
    return math.expm1(math.sqrt(math.log1p(error_pct / 100) ** 2 + added)) * 100


def stated_error(base_error_pct: float, log_ratios: Sequence[float], transfer: float) -> float:
    """The median % error a calibrated profile states: the base's held-out error (the shape the
    shift keeps) with the transfer term and the level's error added in quadrature in log time,
    √(ε² + τ² + s²/N) (added_error)."""
    return combined_error(base_error_pct, added_error(base_error_pct, log_ratios, transfer))


def family_levels(base: Profile, found: Sequence[Shift]) -> tuple[dict[str, float], float]:
    """Each group's log shift (the median ratio of its measured models, else of all models)
    and the median over all models."""
    overall = statistics.median(s.log_ratio for s in found)
    by_family: dict[str, list[float]] = {}
    for shift in found:
        if shift.model.family in base.intercepts:
            by_family.setdefault(shift.model.family, []).append(shift.log_ratio)
    levels = {
        group: statistics.median(by_family[group]) if group in by_family else overall
        for group in base.intercepts
    }
    return levels, overall


def held_out_errors(base: Profile, found: Sequence[Shift]) -> tuple[float, float]:
    """Median absolute log error of each measured model predicted from the others: by one level
    per family, and by the roofline's terms moved separately (termshift)."""
    by_level, by_terms = [], []
    for index, shift in enumerate(found):
        rest = [*found[:index], *found[index + 1 :]]
        levels, overall = family_levels(base, rest)
        by_level.append(abs(levels.get(shift.model.family or "", overall) - shift.log_ratio))
        moved = term_shifts(base, [s.model for s in rest])
        measured = math.log(1.0 / shift.model.images_per_second)
        by_terms.append(abs(shifted_log_seconds(base, shift.model, moved) - measured))
    return statistics.median(by_level), statistics.median(by_terms)


@dataclass(frozen=True)
class Move:
    """How a calibration moves the base: the new intercepts and costs, in words, and the
    held-out comparison that chose it ("" when there was no choice)."""

    intercepts: dict[str, float]
    costs: dict[str, dict[str, float]]
    how: str
    chose: str
    by_terms: bool


def move(base: Profile, found: Sequence[Shift]) -> Move:
    """A roofline base measured on MIN_TERM_MODELS or more models has its terms moved
    separately where that predicts each measured model from the others better than one level
    per family; otherwise every group's level is shifted."""
    chose = ""
    if base.form == "roofline" and len(found) >= MIN_TERM_MODELS:
        level_error, terms_error = held_out_errors(base, found)
        chose = (
            f"each measured model predicted from the others: {math.expm1(terms_error) * 100:.1f}% "
            f"median error with the terms moved separately, {math.expm1(level_error) * 100:.1f}% "
            "with one level per family"
        )
        if terms_error < level_error:
            moved = term_shifts(base, [s.model for s in found])
            factors = ", ".join(f"{math.exp(x):.3g}" for x in moved)
            how = (
                "overhead, cost per flop and cost per act shifted separately to fit the "
                f"measured models (factors {factors})"
            )
            return Move(*moved_terms(base, moved), how, chose, True)
    levels, _ = family_levels(base, found)
    intercepts = {group: value + levels[group] for group, value in base.intercepts.items()}
    # A roofline's time is a sum of three parts: each moves by the same factor.
    costs = {
        group: {measure: value + levels[group] for measure, value in group_costs.items()}
        for group, group_costs in base.costs.items()
    }
    how = (
        "level shifted by the median log ratio of measured to predicted time (per family "
        "where the family was measured)"
    )
    return Move(intercepts, costs, how, chose, False)


def calibrate(
    base: Profile,
    measured: Sequence[Measured],
    *,
    name: str,
    device: str,
    transfer: float | None = None,
) -> tuple[Profile, list[str]]:
    """`base` moved to `device` by `measured` (see move), and the report's lines: how it was
    moved and one line per measured model. `transfer` (log time) replaces the base's transfer
    term (benchmarks/calibration.py judges held-out pairs with it)."""
    if not measured:
        raise ProfileError("calibrate: needs at least one --measured MODEL=IMAGES_PER_S")
    found = shifts(base, measured)
    moved = move(base, found)
    ratios = [s.log_ratio for s in found]
    names = ", ".join(s.model.name for s in found)
    v = base.validation
    transfer = transfer_term(base) if transfer is None else transfer
    added = added_error(v.median_abs_pct_error, ratios, transfer)
    pairs = "the only CPU pair" if _on_cpu(base) else "the GPU pairs"
    terms = (
        f"the base's {v.method} {v.median_abs_pct_error:.1f}%, the device change's "
        f"{math.expm1(transfer) * 100:.1f}% ({pairs} of the shared files) and the "
        f"level's from {len(found)} model{'' if len(found) == 1 else 's'}, in quadrature"
    )
    models = f"{len(found)} model{'' if len(found) == 1 else 's'}"
    setting = base.setting
    calibrated = dataclasses.replace(
        base,
        name=name,
        device=device,
        setting=dataclasses.replace(
            setting, note=f"as measured for {base.name}: {setting.note}".removesuffix(": ")
        ),
        intercepts=moved.intercepts,
        costs=moved.costs,
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
            "calibrated", combined_error(v.median_abs_pct_error, added), v.spearman, len(found)
        ),
        regions=(
            None
            if base.regions is None
            else base.regions.with_errors(lambda error: combined_error(error, added))
        ),
        selection=(
            f"{base.name}'s form and exponents; {moved.how}"
            + (f" ({moved.chose})" if moved.chose else "")
            + f"; error (whole and by region): {terms}"
        ),
        device_memory=None,
    )
    try:
        profile_from_document(json.loads(profile_to_json(calibrated)), "the calibrated profile")
    except ProfileError as error:
        raise ProfileError(f"calibrate: {error}") from None
    stated = calibrated.validation.median_abs_pct_error
    lines = [f"calibrated from {models}; stated error {stated:.1f}% ({terms})"]
    if moved.chose:
        kept = "terms moved separately" if moved.by_terms else "one level per family"
        lines.append(f"{kept}: {moved.chose}")
    for shift in found:
        group = (
            "terms"
            if moved.by_terms
            else shift.model.family
            if shift.model.family in base.intercepts
            else "all groups"
        )
        lines.append(
            f"measured {shift.model.name}: {shift.model.images_per_second:.4g} images/s, "
            f"{math.exp(shift.log_ratio):.3f}× the base's time ({group})"
            + (" — outside the base's fitted range" if shift.extrapolated else "")
        )
    return calibrated, lines
