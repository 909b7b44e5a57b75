"""Fitting device profiles to measured times, with held-out validation; numpy is imported lazily."""

from __future__ import annotations

import math
import statistics
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from scalecalc import correlation
from scalecalc.profile import (
    MEASURES,
    OTHER,
    Profile,
    Setting,
    Source,
    Validation,
    log_seconds,
)

# Candidate terms, simplest first; fit_profile keeps the one with the lowest held-out error.
# The empty form (a constant time per image) is the fallback when overheads or noise swamp
# the counts, as with tiny models on a busy CPU.
CANDIDATES = ((), ("flops",), ("flops", "acts"), ("flops", "acts", "params"))
FOLDS = 5
# A family needs this many distinct models for an intercept of its own; fewer join "other".
MIN_GROUP_MODELS = 3
# Iteratively reweighted least squares for least absolute deviations: a fixed number of
# rounds (deterministic) and a floor on residuals so that exact fits do not get infinite weight.
IRLS_ROUNDS = 50
IRLS_FLOOR = 1e-3


@dataclass(frozen=True)
class Record:
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
    """A fitted form: coefficients per measure and an intercept per group."""

    coefficients: dict[str, float]
    intercepts: dict[str, float]

    def predict_log(self, record: Record) -> float:
        """log seconds per image of `record` under this fit."""
        return log_seconds(self.coefficients, self.intercepts, record.counts(), record.family)[0]


def _groups(records: Sequence[Record], families: bool) -> list[str]:
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
    records: Sequence[Record], measures: Sequence[str], families: bool = True, robust: bool = True
) -> Fit:
    """Fit log seconds = intercept(group) + Σ b·log(measure); robust: least absolute deviations."""
    import numpy as np

    groups = _groups(records, families)
    names = sorted(set(groups))
    columns = [[float(g == name) for g in groups] for name in names]
    columns += [[math.log(r.counts()[m]) for r in records] for m in measures]
    design = np.array(columns, dtype=float).T
    target = np.array([math.log(r.seconds) for r in records])
    solution = np.linalg.lstsq(design, target, rcond=None)[0]
    for _ in range(IRLS_ROUNDS if robust else 0):
        residual = np.abs(design @ solution - target)
        root = np.sqrt(1.0 / np.maximum(residual, IRLS_FLOOR))
        solution = np.linalg.lstsq(design * root[:, None], target * root, rcond=None)[0]
    values = [float(v) for v in solution]
    return Fit(dict(zip(measures, values[len(names) :])), dict(zip(names, values[: len(names)])))


def folds(records: Sequence[Record], method: str) -> list[int]:
    """The fold of each record, by model name: crc32 mod 5 for 5-fold, one per name for LOO."""
    if method == "5-fold":
        return [zlib.crc32(r.name.encode()) % FOLDS for r in records]
    order = {name: index for index, name in enumerate(sorted({r.name for r in records}))}
    return [order[r.name] for r in records]


def held_out(
    records: Sequence[Record],
    measures: Sequence[str],
    method: str,
    families: bool = True,
    robust: bool = True,
) -> list[float]:
    """Predicted seconds per image of each record by a fit on the other folds."""
    fold_of = folds(records, method)
    predicted = [0.0] * len(records)
    for fold in sorted(set(fold_of)):
        train = [r for r, f in zip(records, fold_of) if f != fold]
        fit = fit_form(train, measures, families, robust)
        for index, f in enumerate(fold_of):
            if f == fold:
                predicted[index] = math.exp(fit.predict_log(records[index]))
    return predicted


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation (tie-averaged ranks); 0 where either side is constant."""
    return correlation.spearman(a, b) or 0.0


def validate(
    records: Sequence[Record],
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


def check_records(records: Sequence[Record], method: str) -> None:
    """ValueError unless the records can be fitted and validated by `method`."""
    models = len({r.name for r in records})
    least = FOLDS if method == "5-fold" else 4
    if models < least:
        raise ValueError(f"need at least {least} distinct models to fit and validate, got {models}")
    for record in records:
        values = (*record.counts().values(), record.seconds)
        if not all(math.isfinite(v) and v > 0 for v in values):
            raise ValueError(f"{record.name}: counts and time must be positive, got {values}")


def fit_profile(
    records: Sequence[Record],
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
    """Fit a profile; without `measures`, keep the candidate terms with the lowest held-out error
    (ties: fewer terms); `source`'s model and row counts are taken from `records`. Validation is by `method`: "5-fold" or "leave-one-out" over models."""
    check_records(records, method)
    candidates = [tuple(measures)] if measures is not None else list(CANDIDATES)
    fits = {c: fit_form(records, c, families) for c in candidates}
    # More work must never predict less time: a form with a negative exponent is not kept.
    plausible = [c for c in candidates if all(v >= 0 for v in fits[c].coefficients.values())]
    if not plausible:
        raise ValueError(f"the fit has a negative exponent: {fits[candidates[0]].coefficients}")
    scored = [(validate(records, c, method, families), c) for c in plausible]
    validation, chosen = min(scored, key=lambda s: (s[0].median_abs_pct_error, len(s[1])))
    fit = fits[chosen]
    ranges = {
        m: (min(r.counts()[m] for r in records), max(r.counts()[m] for r in records))
        for m in MEASURES
    }
    return Profile(
        name=name,
        device=device,
        convention=convention,
        setting=setting,
        coefficients=fit.coefficients,
        intercepts=fit.intercepts,
        ranges=ranges,
        source=replace(source, models=len({r.name for r in records}), rows=len(records)),
        validation=validation,
    )
