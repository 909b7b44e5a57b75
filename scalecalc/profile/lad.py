"""Least absolute deviations of log time for fit.fit_form, and for every held-out fold at once.

Every fit is an ordinary least-squares start, then fit.IRLS_ROUNDS rounds of weights
1 / max(|residual|, IRLS_FLOOR), each solving the weighted normal equations (Xᵀ W X) b = Xᵀ W y.
With the rows' outer products x xᵀ laid out once as an n × p(p+1)/2 matrix (their upper
triangles), Xᵀ W X of every fold is one product (folds × n) @ (n × p(p+1)/2); a held-out row has weight 0 in its own fold. Leave-one-out
over 1,000 models is then 51 products instead of 51,000 least-squares solves, and the results
are those of least squares round by round to float rounding (tests/test_profile_lad.py: 1e-9).
Folds whose design differs (a family that falls below fit.MIN_GROUP_MODELS without the held-out
models) are stacked with the folds of the same design. Normal equations that are
ill-conditioned (rank-deficient data) are left to fit_form's least squares, whose
minimum-norm answer they would not give.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from scalecalc.profile import fit as profile_fit
from scalecalc.profile.model import OTHER

if TYPE_CHECKING:
    import numpy as np

# Normal equations square the design's condition number; past this, a fold is refitted by
# fit_form's least squares instead (real profiles stay below 1e8).
MAX_CONDITION = 1e12


def _group_sets(
    records: Sequence[profile_fit.FitRecord], fold_of: Sequence[int], families: bool
) -> dict[int, frozenset[str]]:
    """Per fold, the families with enough models outside it for an intercept of their own."""
    folds = sorted(set(fold_of))
    if not families:
        return {fold: frozenset() for fold in folds}
    models: dict[str, set[str]] = {}
    held: dict[int, dict[str, set[str]]] = {fold: {} for fold in folds}
    for record, fold in zip(records, fold_of):
        if record.family is not None:
            models.setdefault(record.family, set()).add(record.name)
            held[fold].setdefault(record.family, set()).add(record.name)
    result = {}
    for fold in folds:
        kept = {
            family
            for family, names in models.items()
            if len(names - held[fold].get(family, set())) >= profile_fit.MIN_GROUP_MODELS
        }
        result[fold] = frozenset(kept)
    return result


def _solve(normal: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Each fold's solution of normal · b = right (stacked), NaN where ill-conditioned."""
    import numpy as np

    condition = np.linalg.cond(normal)
    fine = np.isfinite(condition) & (condition < MAX_CONDITION)
    solution = np.full(right.shape, np.nan)
    if fine.any():
        solution[fine] = np.linalg.solve(normal[fine], right[fine][..., None])[..., 0]
    return solution


def stacked(design: np.ndarray, target: np.ndarray, inside: np.ndarray, robust: bool) -> np.ndarray:
    """The IRLS rounds for every fold at once: `inside` (folds × rows) is 1 where a row is
    fitted in that fold, 0 where it is held out; a row of NaN where the normal equations are
    ill-conditioned and least squares must answer instead."""
    import numpy as np

    width = design.shape[1]
    # Xᵀ W X is symmetric: only its upper triangle is multiplied out, then mirrored.
    upper, lower = np.triu_indices(width)
    outer = design[:, upper] * design[:, lower]
    moment = design * target[:, None]
    refit = np.zeros(len(inside), dtype=bool)

    def solve(weights: np.ndarray) -> np.ndarray:
        normal = np.empty((len(weights), width, width))
        normal[:, upper, lower] = normal[:, lower, upper] = weights @ outer
        solution = _solve(normal, weights @ moment)
        refit[np.isnan(solution).any(axis=1)] = True
        solution[refit] = 0.0  # carried along, then refitted by fit_form
        return solution

    solution = solve(inside)
    for _ in range(profile_fit.IRLS_ROUNDS if robust else 0):
        residual = solution @ design.T
        residual -= target
        np.abs(residual, out=residual)
        np.maximum(residual, profile_fit.IRLS_FLOOR, out=residual)
        solution = solve(np.divide(inside, residual, out=residual))
    solution[refit] = np.nan
    return solution


def held_out_fits(
    records: Sequence[profile_fit.FitRecord],
    measures: Sequence[str],
    fold_of: Sequence[int],
    families: bool = True,
    robust: bool = True,
) -> dict[int, profile_fit.Fit]:
    """Per fold, fit_form's fit on the records outside it, all folds of one design at once."""
    import numpy as np

    sets = _group_sets(records, fold_of, families)
    logs = np.array([[math.log(r.counts()[m]) for m in measures] for r in records], dtype=float)
    logs = logs.reshape(len(records), len(measures))
    target = np.array([math.log(r.seconds) for r in records])
    fold_array = np.array(fold_of)
    fits: dict[int, profile_fit.Fit] = {}
    for kept in sorted(set(sets.values()), key=sorted):
        folds = [fold for fold, value in sets.items() if value == kept]
        groups = [r.family if r.family in kept else OTHER for r in records]
        inside = np.array([fold_array != fold for fold in folds], dtype=float)
        # A group with no row fitted in a fold gets no intercept there, as in fit_form.
        names = sorted(set(groups))
        indicator = np.array([[float(g == name) for name in names] for g in groups])
        design = np.hstack([indicator.reshape(len(records), len(names)), logs])
        present = (inside @ indicator) > 0
        usable = present.all(axis=1)
        solution = np.full((len(folds), design.shape[1]), np.nan)
        if usable.any():
            solution[usable] = stacked(design, target, inside[usable], robust)
        for index, fold in enumerate(folds):
            values = solution[index]
            if np.isnan(values).any():
                train = [r for r, f in zip(records, fold_of) if f != fold]
                fits[fold] = profile_fit.fit_form(train, measures, families, robust)
                continue
            fits[fold] = profile_fit.fit_from_solution(measures, names, values)
    return fits
