"""Fitting device profiles to measured times, with held-out validation; numpy is imported lazily."""

from __future__ import annotations

import itertools
import json
import math
import statistics
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from scalecalc import correlation
from scalecalc.errors import ProfileError
from scalecalc.profile.document import profile_from_document, profile_to_json
from scalecalc.profile.regions import error_regions, group_ranges
from scalecalc.profile.model import (
    EXPONENTS,
    INTERCEPTS,
    MAX_COUNT,
    TERMS,
    OTHER,
    Profile,
    Setting,
    Source,
    Validation,
    log_seconds,
)
from scalecalc.profile.roofline import (
    BLENDS,
    ROOFLINE_FIT,
    fit_roofline,
    form_blend,
    roofline_form,
)

# Candidate forms: every non-empty set of measures (log-linear), fewest terms first, then the
# roofline form at each blend; fit_profile keeps the plausible one with the lowest held-out
# error. A constant time per image is no candidate: it ranks no model above another, which is
# what a profile is for.
CANDIDATES = tuple(
    form for size in range(1, len(TERMS) + 1) for form in itertools.combinations(TERMS, size)
) + tuple(roofline_form(blend) for blend in BLENDS)
# A measured time per image outside this (1 ns to 1 hour) is a unit mistake, not a timing.
SECONDS = (1e-9, 3600.0)
# exp() of more than this overflows a float; a held-out prediction is capped there.
MAX_LOG = 700.0
# An exponent this close to 0 is 0: the rounding of an exact fit, not a falling time.
ROUNDING = 1e-9
FOLDS = 5
# A family needs this many distinct models for an intercept of its own; fewer join "other".
MIN_GROUP_MODELS = 3
# Iteratively reweighted least squares for least absolute deviations: a fixed number of
# rounds (deterministic) and a floor on residuals so that exact fits do not get infinite weight.
IRLS_ROUNDS = 50
IRLS_FLOOR = 1e-3


@dataclass(frozen=True)
class FitRecord:
    """One measured model: a name (rows of one name share a fold), its family or None, its
    counts and its measured seconds per image."""

    name: str
    family: str | None
    flops: float
    params: float
    acts: float
    seconds: float

    def counts(self) -> dict[str, float]:
        """The three counts by measure name."""
        return {"flops": self.flops, "params": self.params, "acts": self.acts}


@dataclass(frozen=True)
class Fit:
    """A fitted form: coefficients per measure and an intercept per group; the roofline form
    has no coefficients but each group's log costs per flop and per act, and its blend."""

    coefficients: dict[str, float]
    intercepts: dict[str, float]
    costs: dict[str, dict[str, float]] = field(default_factory=dict)
    blend: float = 1.0

    def predict_log(self, record: FitRecord) -> float:
        """log seconds per image of `record` under this fit."""
        counts, family = record.counts(), record.family
        found = log_seconds(
            self.coefficients, self.intercepts, counts, family, self.costs, self.blend
        )
        return found[0]


def _groups(records: Sequence[FitRecord], families: bool) -> list[str]:
    """Each record's group: its family if that family has enough models, else "other"."""
    if not families:
        return [OTHER] * len(records)
    models: dict[str, set[str]] = {}
    for record in records:
        if record.family is not None:
            models.setdefault(record.family, set()).add(record.name)
    big = {f for f, names in models.items() if len(names) >= MIN_GROUP_MODELS}
    return [r.family if r.family in big else OTHER for r in records]


def fit_form(
    records: Sequence[FitRecord],
    measures: Sequence[str],
    families: bool = True,
    robust: bool = True,
) -> Fit:
    """Fit log seconds = intercept(group) + Σ b·log(measure), or the roofline form when
    `measures` is one (roofline_form); robust: least absolute deviations of log time."""
    import numpy as np

    groups = _groups(records, families)
    blend = form_blend(measures)
    if blend is not None:
        rounds = IRLS_ROUNDS if robust else 0
        return Fit({}, *fit_roofline(records, groups, rounds, IRLS_FLOOR, blend), blend)
    names = sorted(set(groups))
    columns = [[float(g == name) for g in groups] for name in names]
    columns += [[math.log(r.counts()[m]) for r in records] for m in measures]
    design = np.array(columns, dtype=float).T
    target = np.array([math.log(r.seconds) for r in records])
    from scalecalc.profile.lad import stacked  # lad builds on this module's constants

    solution = stacked(design, target, np.ones((1, len(records))), robust)[0]
    if not np.isnan(solution).any():
        return fit_from_solution(measures, names, solution)
    # Rank-deficient data: least squares' minimum-norm answer, round by round.
    solution = np.linalg.lstsq(design, target, rcond=None)[0]
    for _ in range(IRLS_ROUNDS if robust else 0):
        residual = np.abs(design @ solution - target)
        root = np.sqrt(1.0 / np.maximum(residual, IRLS_FLOOR))
        solution = np.linalg.lstsq(design * root[:, None], target * root, rcond=None)[0]
    return fit_from_solution(measures, names, solution)


def fit_from_solution(
    measures: Sequence[str], groups: Sequence[str], solution: Sequence[float]
) -> Fit:
    """A fit from its solution vector: the groups' intercepts, then the measures' exponents."""
    values = [float(v) for v in solution]
    exponents = [0.0 if abs(v) < ROUNDING else v for v in values[len(groups) :]]
    return Fit(dict(zip(measures, exponents)), dict(zip(groups, values[: len(groups)])))


def folds(records: Sequence[FitRecord], method: str) -> list[int]:
    """The fold of each record, by model name: crc32 mod 5 for 5-fold, one per name for LOO."""
    if method == "5-fold":
        return [zlib.crc32(r.name.encode()) % FOLDS for r in records]
    order = {name: index for index, name in enumerate(sorted({r.name for r in records}))}
    return [order[r.name] for r in records]


def held_out(
    records: Sequence[FitRecord],
    measures: Sequence[str],
    method: str,
    families: bool = True,
    robust: bool = True,
) -> list[float]:
    """Predicted seconds per image of each record by a fit on the other folds."""
    from scalecalc.profile.lad import held_out_fits  # lad builds on this module's fit_form

    fold_of = folds(records, method)
    if form_blend(measures) is not None:
        # The roofline is no linear design for lad to stack: each fold is fitted on its own.
        fits = {
            fold: fit_form(
                [r for r, f in zip(records, fold_of) if f != fold], measures, families, robust
            )
            for fold in sorted(set(fold_of))
        }
    else:
        fits = held_out_fits(records, measures, fold_of, families, robust)
    return [
        math.exp(min(fits[fold].predict_log(record), MAX_LOG))
        for record, fold in zip(records, fold_of)
    ]


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation (tie-averaged ranks); 0 where either side is constant."""
    return correlation.spearman(a, b) or 0.0


def validate(
    records: Sequence[FitRecord],
    measures: Sequence[str],
    method: str,
    families: bool = True,
    robust: bool = True,
) -> Validation:
    """Held-out median absolute % error and Spearman of predicted vs measured time."""
    predicted = held_out(records, measures, method, families, robust)
    measured = [r.seconds for r in records]
    errors = [abs(p / m - 1) * 100 for p, m in zip(predicted, measured)]
    return Validation(
        method, statistics.median(errors), spearman(predicted, measured), len(records)
    )


def check_records(records: Sequence[FitRecord], method: str) -> None:
    """ValueError unless the records can be fitted and validated by `method`: enough models,
    counts from 1 to MAX_COUNT and times per image within SECONDS."""
    models = len({r.name for r in records})
    least = FOLDS if method == "5-fold" else 4
    if models < least:
        raise ValueError(f"need at least {least} distinct models to fit and validate, got {models}")
    fastest, slowest = SECONDS
    for record in records:
        for measure, value in record.counts().items():
            if not (math.isfinite(value) and 1 <= value <= MAX_COUNT):
                raise ValueError(
                    f"{record.name}: {measure} {value:.4g} is outside 1 to {MAX_COUNT:g}"
                )
        if not (math.isfinite(record.seconds) and fastest <= record.seconds <= slowest):
            raise ValueError(
                f"{record.name}: {record.seconds:.4g} s per image is outside {fastest:g} to "
                f"{slowest:g} s"
            )


@dataclass(frozen=True)
class Trial:
    """One candidate form: its fit on all records, its held-out validation (None when the fit
    was implausible) and why it cannot be kept ("" when it can)."""

    form: tuple[str, ...]
    fit: Fit
    validation: Validation | None
    refused: str

    def describe(self) -> str:
        """The form's name and its held-out numbers, or why it was refused."""
        if self.validation is None:
            return f"{form_name(self.form)}: {self.refused}"
        v = self.validation
        numbers = f"{form_name(self.form)} {v.median_abs_pct_error:.1f}%, Spearman {v.spearman:.3f}"
        return numbers + (f" ({self.refused})" if self.refused else "")


def form_name(form: Sequence[str]) -> str:
    """A form as its terms joined by " + ", "roofline (...)" or "constant"."""
    blend = form_blend(form)
    if blend is not None:
        return "roofline (overhead + flops + acts, costs per family" + (
            ")" if blend == 1.0 else f", blend {blend:g})"
        )
    return " + ".join(form) or "constant"


def profile_form(profile: Profile) -> tuple[str, ...]:
    """The form a profile was fitted with, as fit_form takes it: a roofline form or its
    measures."""
    return (
        roofline_form(profile.blend) if profile.form == "roofline" else tuple(profile.coefficients)
    )


def form_terms(form: Sequence[str]) -> int:
    """How many terms a form fits: the roofline's are an overhead, flops and acts, and a
    blend other than the plain sum is one more."""
    blend = form_blend(form)
    if blend is None:
        return len(form)
    return 3 if blend == 1.0 else 4


def _implausible(fit: Fit) -> str:
    """Why a fit cannot be a profile: an exponent or an intercept outside what profiles allow."""
    for measure, value in fit.coefficients.items():
        if value < EXPONENTS[0]:
            return f"negative {measure} exponent {value:.3g}"
        if value > EXPONENTS[1]:
            return f"{measure} exponent {value:.3g} above {EXPONENTS[1]:g}"
    for group, value in fit.intercepts.items():
        if not INTERCEPTS[0] <= value <= INTERCEPTS[1]:
            return f"{group} intercept {value:.4g} outside {INTERCEPTS[0]:g} to {INTERCEPTS[1]:g}"
    for group, costs in fit.costs.items():
        for measure, value in costs.items():
            if not INTERCEPTS[0] <= value <= INTERCEPTS[1]:
                low, high = INTERCEPTS
                return f"{group} log cost per {measure} {value:.4g} outside {low:g} to {high:g}"
    return ""


def trial(
    records: Sequence[FitRecord], form: tuple[str, ...], method: str, families: bool = True
) -> Trial:
    """Fit `form` on all records and, if plausible, validate it held out by `method`."""
    fit = fit_form(records, form, families)
    refused = _implausible(fit)
    if refused:
        return Trial(form, fit, None, refused)
    validation = validate(records, form, method, families)
    if not validation.spearman > 0:
        refused = "Spearman <= 0"
    return Trial(form, fit, validation, refused)


def _rank(trial: Trial) -> tuple[float, int]:
    """Lowest held-out median error first; errors equal to 1e-9 points are a tie that the form
    with fewer terms wins, so that an exact law is not beaten by rounding."""
    assert trial.validation is not None
    return round(trial.validation.median_abs_pct_error, 9), form_terms(trial.form)


def choose(trials: Sequence[Trial]) -> tuple[Trial, str]:
    """The trial kept, lowest held-out median error among those not refused (ties: fewer
    terms), and a line saying why; ValueError naming every trial when none can be kept."""
    kept = [t for t in trials if not t.refused]
    tried = "; ".join(t.describe() for t in trials)
    if not kept:
        raise ValueError(
            "no form of time per image follows the measured times, so no profile was written "
            f"(held-out error and Spearman of each: {tried}); measure more models over a wider "
            "range of sizes on a quiet machine"
        )
    best = min(kept, key=_rank)
    assert best.validation is not None
    reason = (
        f"{form_name(best.form)}: the lowest {best.validation.method} median error of the "
        f"{len(kept)} form(s) with exponents from {EXPONENTS[0]:g} to {EXPONENTS[1]:g} and a "
        f"held-out Spearman above 0; tried: {tried}"
    )
    return best, reason


def fit_profile(
    records: Sequence[FitRecord],
    *,
    name: str,
    device: str,
    convention: str,
    setting: Setting,
    source: Source,
    method: str = "5-fold",
    measures: Sequence[str] | None = None,
    families: bool = True,
) -> Profile:
    """Fit a profile; without `measures`, try every form in CANDIDATES and keep the one
    `choose` picks; `source`'s model and row counts are taken from `records`. Validation is
    by `method`: "5-fold" or "leave-one-out" over models; the kept form's held-out predictions
    give the error of each region (scalecalc.profile.regions). ValueError when nothing can be
    kept."""
    check_records(records, method)
    forms = [tuple(measures)] if measures is not None else list(CANDIDATES)
    best, reason = choose([trial(records, form, method, families) for form in forms])
    assert best.validation is not None
    ranges = {
        m: (min(r.counts()[m] for r in records), max(r.counts()[m] for r in records)) for m in TERMS
    }
    groups = list(best.fit.intercepts)
    predicted = held_out(records, best.form, method, families)
    profile = Profile(
        name=name,
        device=device,
        convention=convention,
        setting=setting,
        coefficients=best.fit.coefficients,
        intercepts=best.fit.intercepts,
        ranges=ranges,
        source=replace(source, models=len({r.name for r in records}), rows=len(records)),
        validation=best.validation,
        selection=reason,
        regions=error_regions(records, predicted, groups),
        group_ranges=group_ranges(records, groups),
        costs=best.fit.costs,
    )
    if best.fit.costs:
        profile = replace(profile, form="roofline", fit=ROOFLINE_FIT, blend=best.fit.blend)
    # Never write a profile that loading would refuse.
    try:
        profile_from_document(json.loads(profile_to_json(profile)), "the fitted profile")
    except ProfileError as error:
        raise ValueError(str(error)) from None
    return profile
