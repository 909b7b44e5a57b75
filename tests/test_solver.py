"""The target-flops solver finds the best model the rounding rules allow."""

from __future__ import annotations

import functools
import math

import pytest
from conftest import PRESETS

from scalecalc.api import count, load, scale
from scalecalc.errors import ScalecalcError, SpecError, StrategyError
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


@pytest.mark.parametrize("target", [0, -5, 16.5e0, math.nan, math.inf, 10**400, 2e18, True, "16G"])
def test_bad_targets(target: object) -> None:
    with pytest.raises(StrategyError, match="target flops must be a whole number from 1 to 1e"):
        solve(load("resnet50").spec, "w", target)  # type: ignore[arg-type]


def test_an_integral_float_target_is_the_integer_target() -> None:
    spec = load("resnet50").spec
    solution = solve(spec, "dWr", 16e9)
    assert solution.target_flops == 16_000_000_000 and type(solution.target_flops) is int
    assert solution.spec == solve(spec, "dWr", 16_000_000_000).spec


def test_a_target_beyond_the_limits_gives_the_largest_valid_model() -> None:
    # w scaling of ResNet-50 ends where its last stage reaches the width limit: 2048 x 64 =
    # 131072 = MAX_WIDTH at flops factor 64^2 = 4096; no valid model comes closer to 1e17.
    solution = solve(load("resnet50").spec, "w", 10**17)
    assert solution.spec.widths == (16384, 32768, 65536, 131072)
    assert solution.factor == pytest.approx(4096, rel=0.01)


def test_no_valid_model_at_any_factor_is_one_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def invalid(spec: object, factors: object) -> None:
        raise SpecError("widths", "too wide")

    monkeypatch.setattr("scalecalc.api.scale_by", invalid)
    with pytest.raises(StrategyError, match="gives no model within the spec limits"):
        solve(load("resnet50").spec, "w", 8 * 10**9)
