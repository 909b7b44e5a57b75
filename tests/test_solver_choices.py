"""The solvers choose the models they chose before their search was made cheaper, and report
for each the shortest factor that gives it (checked here with decimal arithmetic)."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path

from scalecalc.api import load, scale
from scalecalc.compare.run import run
from scalecalc.sweep import DEFAULT_SWEEP, expand

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import solverchoices  # noqa: E402


def test_every_solve_chooses_the_stored_model() -> None:
    # tests/data/solver_choices.json holds the models chosen by the search of 48 factors over
    # [estimate/4, 4 x estimate] with 30 bisection steps, before it was made cheaper.
    stored = json.loads(solverchoices.CHOICES.read_text(encoding="utf-8"))
    assert len(stored) == 580
    assert solverchoices.differences(solverchoices.all_choices(), stored) == []


def neighbours(factor: float) -> tuple[Decimal, Decimal, Decimal, int]:
    """The factor as its shortest decimal; the decimal one unit of its last digit below; the
    two decimals with one digit fewer on either side of it; and its number of digits."""
    value = Decimal(repr(factor)).normalize()
    digits = len(value.as_tuple().digits)
    unit = Decimal(1).scaleb(value.adjusted() - digits + 1)
    shorter = unit * 10
    below = (value // shorter) * shorter
    # One digit below 1, 10 or 0.1 is 0.9, 9 or 0.09.
    lower = value - unit / 10 if value.as_tuple().digits == (1,) else value - unit
    return lower, below, below + shorter, digits


def test_neighbouring_decimals_by_hand() -> None:
    assert neighbours(2.1) == (Decimal("2.0"), Decimal(2), Decimal(3), 2)
    assert neighbours(0.177) == (Decimal("0.176"), Decimal("0.17"), Decimal("0.18"), 3)
    assert neighbours(1.0)[0] == Decimal("0.9") and neighbours(30.0)[0] == Decimal("2E+1")


def test_the_default_sweeps_factors_are_the_shortest_that_give_each_model() -> None:
    rows = [row for row in run(expand(DEFAULT_SWEEP)) if row.target_flops]
    assert len(rows) == 120
    for row in rows:
        base = load(row.base).spec
        lower, shorter_below, shorter_above, digits = neighbours(row.factor)
        assert scale(base, row.strategy, row.factor) == row.spec, row.key
        # Not one unit lower, nor with a digit fewer (the factors giving a model lie together,
        # so the shorter decimals next to the factor are the ones to try).
        others = [lower, shorter_below, shorter_above] if digits > 1 else [lower]
        assert all(scale(base, row.strategy, float(s)) != row.spec for s in others), row.key
