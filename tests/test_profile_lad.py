"""Held-out fits stacked over folds (profile/lad.py) against fit_form fold by fold."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from scalecalc.profile.data import BUILTINS
from scalecalc.profile.fit import Fit, FitRecord, fit_form, folds, held_out
from scalecalc.profile.lad import held_out_fits

DATA = Path(__file__).resolve().parent.parent / "data" / "published"


def one_by_one(records: list[FitRecord], measures: tuple[str, ...], method: str) -> list[float]:
    """The held-out prediction of each record by fit_form on the other folds, fold by fold."""
    fold_of = folds(records, method)
    fits: dict[int, Fit] = {}
    for fold in set(fold_of):
        fits[fold] = fit_form([r for r, f in zip(records, fold_of) if f != fold], measures)
    return [math.exp(fits[f].predict_log(r)) for r, f in zip(records, fold_of)]


@pytest.mark.parametrize("method", ["5-fold", "leave-one-out"])
@pytest.mark.parametrize("measures", [("flops",), ("flops", "acts"), ("flops", "acts", "params")])
def test_stacked_folds_match_fit_form_fold_by_fold(method: str, measures: tuple[str, ...]) -> None:
    records = BUILTINS["v100-pycls-infer"].records(DATA)
    # the stated tolerance: held-out predictions agree to 1e-9 relative (float rounding of the
    # normal equations against least squares; measured: at most 6e-11)
    assert held_out(records, measures, method) == pytest.approx(
        one_by_one(records, measures, method), rel=1e-9
    )


def test_a_family_at_the_threshold_changes_groups_in_the_folds_that_hold_it_out() -> None:
    # three vit models: in the fold holding one out, vit has two and joins "other", as in fit_form
    records = [
        FitRecord(f"o{i}", None, 1e9 * (i + 1), 1e7, 1e6 * (i + 1) ** 1.3, 1e-3 * (i + 1) ** 0.9)
        for i in range(6)
    ]
    records += [
        FitRecord(f"v{i}", "vit", 2e9 * (i + 1), 1e7, 1e6 * (i + 2), 2e-3 * (i + 1.5))
        for i in range(3)
    ]
    fold_of = folds(records, "leave-one-out")
    fits = held_out_fits(records, ("flops", "acts"), fold_of)
    for fold, fit in fits.items():
        train = [r for r, f in zip(records, fold_of) if f != fold]
        expected = fit_form(train, ("flops", "acts"))
        assert set(fit.intercepts) == set(expected.intercepts)
        assert fit.intercepts == pytest.approx(expected.intercepts, rel=1e-9, abs=1e-9)
        assert fit.coefficients == pytest.approx(expected.coefficients, rel=1e-9, abs=1e-9)
    assert set(fits[fold_of[-1]].intercepts) == {"other"}


def test_rank_deficient_folds_get_fit_form_s_least_squares_answer() -> None:
    # flops and acts move together exactly: the normal equations are singular, and the
    # minimum-norm least-squares answer of fit_form is kept fold by fold
    records = [
        FitRecord(f"m{i}", None, 1e9 * 2**i, 1e7, 1e6 * 2**i, 1e-3 * 2 ** (0.8 * i))
        for i in range(6)
    ]
    got = held_out(records, ("flops", "acts"), "leave-one-out")
    assert got == pytest.approx(one_by_one(records, ("flops", "acts"), "leave-one-out"), rel=1e-9)
    # exact power law of flops^0.8: the held-out predictions are the measured times
    assert got == pytest.approx([r.seconds for r in records], rel=1e-6)


def lstsq_rounds(records: list[FitRecord], measures: tuple[str, ...]) -> list[float]:
    """The solver fit_form had before normal equations: numpy least squares, round by round,
    on the same design (intercept per group, then log measures); all records in "other"."""
    import numpy as np

    design = np.array([[1.0, *(math.log(r.counts()[m]) for m in measures)] for r in records])
    target = np.array([math.log(r.seconds) for r in records])
    solution = np.linalg.lstsq(design, target, rcond=None)[0]
    for _ in range(50):
        root = np.sqrt(1.0 / np.maximum(np.abs(design @ solution - target), 1e-3))
        solution = np.linalg.lstsq(design * root[:, None], target * root, rcond=None)[0]
    return [float(v) for v in solution]


@pytest.mark.parametrize("measures", [("flops",), ("flops", "acts"), ("flops", "acts", "params")])
def test_fit_form_matches_least_squares_round_by_round(measures: tuple[str, ...]) -> None:
    records = BUILTINS["v100-pycls-train"].records(DATA)
    fit = fit_form(records, measures, families=False)
    expected = lstsq_rounds(records, measures)
    assert [fit.intercepts["other"], *fit.coefficients.values()] == pytest.approx(
        expected, rel=1e-9, abs=1e-12
    )
