"""The target-flops solver finds the best model the rounding rules allow."""

from __future__ import annotations

import functools

import pytest
from conftest import PRESETS

from scalecalc.api import count, load, scale
from scalecalc.errors import ScalecalcError, StrategyError
from scalecalc.solver import solve

STRATEGIES = ("w", "d", "r", "dwr", "dWr")
TARGETS = (2, 4, 16)
DENSE = 240  # log-spaced factors per decade pair for the brute-force check


@functools.cache
def flops(spec) -> int:  # noqa: ANN001
    return count(spec).flops


def brute_force_error(spec, strategy: str, target: int, around: float) -> float:  # noqa: ANN001
    """Smallest |flops - target| / target over a dense independent grid of factors."""
    best = float("inf")
    for i in range(DENSE + 1):
        s = around * 16 ** (2 * i / DENSE - 1)  # around / 16 ... around * 16
        try:
            scaled = scale(spec, strategy, s)
        except ScalecalcError:
            continue
        best = min(best, abs(flops(scaled) - target) / target)
    return best


@pytest.mark.parametrize("name", PRESETS)
def test_solver_is_at_least_as_close_as_a_dense_search(name: str) -> None:
    spec = load(name).spec
    base = flops(spec)
    for strategy in STRATEGIES:
        for multiple in TARGETS:
            target = base * multiple
            solution = solve(spec, strategy, target, flops_of=flops)
            assert (
                solution.flops
                == flops(solution.spec)
                == flops(scale(spec, strategy, solution.factor))
            )
            error = abs(solution.relative_error)
            assert error <= brute_force_error(spec, strategy, target, multiple) + 1e-12, (
                strategy,
                multiple,
                solution.factor,
            )


def test_solution_by_hand_for_depth_scaling() -> None:
    # ViT-B/16 has 12 identical layers plus a small stem and head: 24 layers is 2x flops to
    # within the stem and head, and no other layer count is closer.
    spec = load("vit_b16").spec
    solution = solve(spec, "d", 2 * flops(spec))
    assert solution.spec.num_layers == 24


def test_bad_targets() -> None:
    with pytest.raises(StrategyError, match="target flops must be a positive integer"):
        solve(load("resnet50").spec, "w", 0)
