"""Device profiles: a fitted model of time per image from a model's counts, and its predictions.

A profile is a small JSON document (scalecalc.profile.document reads and writes it). Its model
has one of two forms. log-linear: log(seconds per image) = intercept(group) + Σ coefficient ×
log(measure), the measures being flops, acts and params in the profile's convention. roofline:
seconds per image = e^intercept(group) + flops × e^cost(group, flops) + acts × e^cost(group,
acts), an overhead plus a compute and a memory time, added as (Σ partᵖ)^(1/p) with the profile's
blend p (1: their sum). A group is a model family with its own
intercept (resnet, regnet, ...) or "other". This module is pure Python: loading a profile and
predicting never import numpy or torch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scalecalc.errors import ProfileError
from scalecalc.units import MAX_MODEL_COUNT

if TYPE_CHECKING:
    from scalecalc.profile.regions import ErrorRegions

# costs.MEASURES in the order of a profile's terms: the forms a fit tries, the selection it
# records in a profile and the ranges a report shows all follow it, so it stays as published.
TERMS = ("flops", "acts", "params")
OTHER = "other"
# The roofline form's terms: a time per flop and a time per act of each group.
ROOFLINE_TERMS = ("flops", "acts")
FORMS = ("log-linear", "roofline")
MODES = ("inference", "train")
METHODS = ("5-fold", "leave-one-out", "calibrated")
# What a profile's numbers may be (inclusive). Time never falls with more work, and no device
# measured takes time growing faster than the 4th power of a count; with counts of at most
# MAX_COUNT and |intercept| <= 100, log time stays far inside what a float's exp can hold.
EXPONENTS = (0.0, 4.0)
INTERCEPTS = (-100.0, 100.0)
MAX_COUNT = float(MAX_MODEL_COUNT)
# A predicted time per image outside this band (a femtosecond to 30 million years) is no
# time at all but the overflow of an extrapolation; it is refused rather than printed.
PREDICTED_SECONDS = (1e-15, 1e15)


@dataclass(frozen=True)
class Setting:
    """How the fitted times were measured: mode, batch size, dtype, mixed precision, and where
    known the memory layout and whether the model ran under torch.compile."""

    mode: str
    batch_size: int | None
    dtype: str
    amp: bool
    note: str = ""
    channels_last: bool | None = None
    compiled: bool | None = None

    def describe(self) -> str:
        """What is predicted: "a training step, float16 AMP, batch 512" or "inference, ...",
        then "channels-last"/"NCHW" and "torch.compile"/"eager" where known."""
        step = "a training step" if self.mode == "train" else "inference"
        batch = "varies" if self.batch_size is None else str(self.batch_size)
        known = [
            *(
                []
                if self.channels_last is None
                else ["channels-last" if self.channels_last else "NCHW"]
            ),
            *([] if self.compiled is None else ["torch.compile" if self.compiled else "eager"]),
        ]
        return f"{step}, {self.dtype}{' AMP' if self.amp else ''}, batch {batch}" + "".join(
            f", {item}" for item in known
        )


@dataclass(frozen=True)
class Source:
    """Where the fitted data came from and how many distinct models and rows it had."""

    source: str
    commit: str
    license: str
    models: int
    rows: int
    filters: str = ""


@dataclass(frozen=True)
class Validation:
    """Held-out error of the profile's form on its own data."""

    method: str
    median_abs_pct_error: float
    spearman: float
    rows: int


@dataclass(frozen=True)
class Profile:
    """A fitted time-per-image model for one device and setting, with provenance and error."""

    name: str
    device: str
    convention: str
    setting: Setting
    coefficients: Mapping[str, float]
    intercepts: Mapping[str, float]
    ranges: Mapping[str, tuple[float, float]]
    source: Source
    validation: Validation
    fit: str = "least absolute deviations of log time"
    selection: str = ""  # why this form was kept over the others tried; "" if not recorded
    device_memory: int | None = None  # bytes the device holds; None: not stated (a CPU)
    regions: ErrorRegions | None = None  # held-out error by region; None: not stored
    group_ranges: Mapping[str, Mapping[str, tuple[float, float]]] = field(default_factory=dict)
    form: str = "log-linear"
    # roofline form: each group's log seconds per flop and per act (log-linear: empty)
    costs: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    blend: float = 1.0  # roofline form: the p of (Σ partᵖ)^(1/p); 1 is the parts' sum

    def describe(self) -> str:
        """One line: name, device, setting, convention and validation error."""
        v = self.validation
        return (
            f"{self.name}: {self.device}, {self.setting.describe()}, {self.convention} convention; "
            f"{v.method} median error {v.median_abs_pct_error:.1f}%, Spearman {v.spearman:.3f}"
        )


@dataclass(frozen=True)
class Prediction:
    """Predicted time per image; `extrapolated` when a count lies outside its group's fitted
    range or the family is unseen; the held-out % error that applies and its region."""

    seconds_per_image: float
    extrapolated: bool
    error_pct: float
    error_region: str

    @property
    def images_per_second(self) -> float:
        """Throughput at the predicted time."""
        return 1.0 / self.seconds_per_image


def predict(
    profile: Profile, flops: float, params: float, acts: float, family: str | None = None
) -> Prediction:
    """Predicted seconds per image of a model with these counts (in the profile's convention)."""
    counts = {"flops": flops, "params": params, "acts": acts}
    if any(not value > 0 for value in counts.values()):
        raise ValueError(f"counts must be positive, got {counts}")
    log_time, unseen = log_seconds(
        profile.coefficients, profile.intercepts, counts, family, profile.costs, profile.blend
    )
    low, high = PREDICTED_SECONDS
    if not math.log(low) <= log_time <= math.log(high):
        raise ProfileError(
            f"{profile.name}: predicts e^{log_time:.4g} s per image for a model of "
            f"{flops:.4g} flops, {acts:.4g} acts, {params:.4g} params, outside {low:g} to "
            f"{high:g} s: the model lies too far outside the profile's fitted range "
            + ", ".join(f"{m} {a:.4g}-{b:.4g}" for m, (a, b) in profile.ranges.items())
        )
    from scalecalc.profile import regions  # it imports this module's names

    error, region = regions.applied_error(profile, family, flops)
    outside = regions.outside(profile, counts, family)
    return Prediction(math.exp(log_time), outside or unseen, error, region)


def log_seconds(
    coefficients: Mapping[str, float],
    intercepts: Mapping[str, float],
    counts: Mapping[str, float],
    family: str | None,
    costs: Mapping[str, Mapping[str, float]] | None = None,
    blend: float = 1.0,
) -> tuple[float, bool]:
    """log(seconds per image) of a model with these counts, log-linear or (with `costs`)
    roofline, its parts blended by `blend`; also whether the family was unseen (no group of its
    own and no "other" group to fall back on: then the mean of every group's parameters is
    used)."""
    group = family if family in intercepts else OTHER if OTHER in intercepts else None

    def of(table: Mapping[str, float]) -> float:
        return table[group] if group is not None else sum(table.values()) / len(table)

    if costs:
        own = costs[group] if group is not None else None
        parts = [of(intercepts)] + [
            (own[m] if own is not None else of({g: c[m] for g, c in costs.items()}))
            + math.log(counts[m])
            for m in ROOFLINE_TERMS
        ]
        return blended(parts, blend), group is None
    log_time = sum(c * math.log(counts[m]) for m, c in coefficients.items())
    return of(intercepts) + log_time, group is None


def blended(parts: Sequence[float], blend: float) -> float:
    """log (Σ e^(blend·part))^(1/blend): the log of the roofline's parts added with its blend."""
    top = max(parts)
    return top + math.log(sum(math.exp(blend * (p - top)) for p in parts)) / blend
