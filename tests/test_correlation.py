"""Pearson (log) and Spearman against hand-computed values and known cases."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scalecalc.correlation import Correlation, correlate, pearson, pearson_log, ranks, spearman


def test_pearson_hand_computed() -> None:
    # Deviations (-1.5, -0.5, 0.5, 1.5) and (-0.5, -1.5, 1.5, 0.5): sum of products 3, squares 5, 5.
    assert pearson([1, 2, 3, 4], [2, 1, 4, 3]) == pytest.approx(0.6)


def test_pearson_of_exact_lines() -> None:
    assert pearson([1, 2, 3], [5, 7, 9]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [9, 7, 5]) == pytest.approx(-1.0)


def test_pearson_none_when_undefined() -> None:
    assert pearson([1.0], [2.0]) is None
    assert pearson([], []) is None
    assert pearson([3, 3, 3], [1, 2, 3]) is None
    assert pearson([1, 2, 3], [0.1, 0.1, 0.1]) is None


def test_pearson_log_is_pearson_of_the_exponents() -> None:
    # log(e^k) = k: the same data as the hand-computed case above.
    xs = [math.e**k for k in (1, 2, 3, 4)]
    ys = [math.e**k for k in (2, 1, 4, 3)]
    assert pearson_log(xs, ys) == pytest.approx(0.6)


def test_pearson_log_of_a_power_law_is_one_where_plain_pearson_is_not() -> None:
    xs = [1, 2, 4, 8, 16, 32]
    ys = [3 * x**2.5 for x in xs]
    assert pearson_log(xs, ys) == pytest.approx(1.0)
    plain = pearson(xs, ys)
    assert plain is not None and plain < 0.97


def test_pearson_log_refuses_non_positive_values() -> None:
    with pytest.raises(ValueError, match="positive"):
        pearson_log([1, 0, 2], [1, 2, 3])


def test_ranks_average_ties() -> None:
    assert ranks([10, 20, 20, 30]) == [1, 2.5, 2.5, 4]
    assert ranks([5, 5, 5]) == [2, 2, 2]
    assert ranks([3.0, 1.0, 2.0]) == [3, 1, 2]
    assert ranks([]) == []


def test_spearman_of_monotone_nonlinear_data_is_one() -> None:
    xs = [1, 2, 3, 4, 5]
    assert spearman(xs, [math.exp(x) for x in xs]) == pytest.approx(1.0)
    assert spearman(xs, [1 / x for x in xs]) == pytest.approx(-1.0)


def test_spearman_matches_the_classic_formula_without_ties() -> None:
    # 1 - 6·Σd²/(n(n²-1)) with rank differences (-1, 1, -1, 1, 0): 1 - 6·4/120 = 0.8.
    assert spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)


def test_spearman_with_ties_hand_computed() -> None:
    # Ranks (1, 2, 3, 4) and (1, 2.5, 2.5, 4): Σ products 4.5, squares 5 and 4.5 -> sqrt(0.9).
    assert spearman([1, 2, 3, 4], [1, 2, 2, 3]) == pytest.approx(math.sqrt(0.9))


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError, match="same length"):
        spearman([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="same length"):
        pearson([1, 2], [1])


def test_correlate_one_record_per_measure_in_order() -> None:
    measures = {"flops": [1.0, 2.0, 4.0], "acts": [4.0, 2.0, 1.0]}
    result = correlate("g", measures, [10.0, 20.0, 40.0])
    assert [c.measure for c in result] == ["flops", "acts"]
    assert result[0] == Correlation("g", "flops", pytest.approx(1.0), pytest.approx(1.0), 3)
    assert result[1].pearson_log == pytest.approx(-1.0)
    assert result[1].spearman == pytest.approx(-1.0)


@given(
    st.lists(st.integers(1, 1000), min_size=3, max_size=12),
    st.lists(st.integers(1, 1000), min_size=12, max_size=12),
)
def test_spearman_is_unchanged_by_monotone_transforms(xs: list[int], ys: list[int]) -> None:
    ys = ys[: len(xs)]
    before = spearman(xs, ys)
    # Exact (integer) and strictly increasing float transforms keep every order and every tie.
    after = spearman([x**3 + 7 for x in xs], [math.exp(y / 100) for y in ys])
    assert (before is None) == (after is None)
    if before is not None and after is not None:
        assert after == pytest.approx(before, abs=1e-9)
