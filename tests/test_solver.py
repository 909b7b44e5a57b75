"""The target-flops solver finds the best model the rounding rules allow."""

from __future__ import annotations

import functools
import math
import re

import pytest
from conftest import PRESETS

from scalecalc import solver
from scalecalc.api import count, load, scale
from scalecalc.errors import ScalecalcError, StrategyError
from scalecalc.solver import MIN_FACTOR, Solution, UnreachableTarget, solve

STRATEGIES = ("w", "d", "r", "dwr", "dWr")
TARGETS = (2, 4, 16)
DENSE = 240  # log-spaced factors per decade pair for the brute-force check


@functools.cache
def flops(spec) -> int:  # noqa: ANN001
    return count(spec).flops


def relative_error(solution: Solution) -> float:
    """(realized - target) / target of a solution."""
    return (solution.flops - solution.target_flops) / solution.target_flops


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
            error = abs(relative_error(solution))
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


@pytest.mark.parametrize("name", ["resnet50", "vit_b16", "regnety_400mf", "efficientnet_b0"])
def test_down_scaling_is_as_close_as_a_dense_search(name: str) -> None:
    spec = load(name).spec
    for strategy in STRATEGIES:
        for multiple in (0.5, 0.25):
            target = round(flops(spec) * multiple)
            closest = brute_force_error(spec, strategy, target, multiple)
            try:
                solution = solve(spec, strategy, target, flops_of=flops)
            except UnreachableTarget:
                # Refused only where no factor of the dense search comes within 5% either
                # (depth scaling stops at one block per stage).
                assert closest > 0.05, (name, strategy, multiple)
                continue
            assert solution.factor < 1 and scale(spec, strategy, solution.factor) == solution.spec
            assert abs(relative_error(solution)) <= closest + 1e-12


def test_down_scaling_factor_by_hand() -> None:
    # Depth scaling ViT-B/16 rounds 12 x s layers (half to even): 6 layers for s from 5.5/12 to
    # 6.5/12. Aimed at the flops of that 6-layer model exactly, the solver must return it, with
    # the shortest factor in that band: 0.5.
    spec = load("vit_b16").spec
    six = scale(spec, "d", 0.5)
    assert six.num_layers == 6
    solution = solve(spec, "d", flops(six), flops_of=flops)
    assert solution.spec == six and relative_error(solution) == 0
    assert solution.factor == 0.5


def test_the_factor_reported_is_the_shortest_that_gives_the_model() -> None:
    # 25 layers of ViT-B/16 for s strictly between 24.5/12 = 2.042 and 25.5/12 = 2.125 (ties go
    # to the even 24 and 26): no one-digit factor, and 2.1 is the smallest two-digit one.
    spec = load("vit_b16").spec
    solution = solve(spec, "d", flops(scale(spec, "d", 2.1)), flops_of=flops)
    assert solution.spec.num_layers == 25 and solution.factor == 2.1
    # 24 layers for s from 23.5/12 = 1.958 to 24.5/12 = 2.042: the factor is 2.
    assert solve(spec, "d", 2 * flops(spec)).factor == 2


@pytest.mark.parametrize(("span", "octave", "precision"), [(4.0, 8, 1e-9), (1.1, 24, 1e-4)])
def test_the_factor_reported_does_not_depend_on_the_search(
    monkeypatch: pytest.MonkeyPatch, span: float, octave: int, precision: float
) -> None:
    # Other brackets, grids and bisection ends try other factors and find the same models; the
    # factor reported with each stays the same to the last digit.
    cases = [(name, strategy, m) for name in ("resnet50", "regnety_4gf") for strategy in
             ("w", "dw", "dWr") for m in (2, 4, 8)]  # fmt: skip
    specs = {name: load(name).spec for name in ("resnet50", "regnety_4gf")}
    before = [solve(specs[n], s, m * flops(specs[n]), flops_of=flops) for n, s, m in cases]
    monkeypatch.setattr(solver, "SPAN", span)
    monkeypatch.setattr(solver, "GRID_OCTAVE", octave)
    monkeypatch.setattr(solver, "PRECISION", precision)
    after = [solve(specs[n], s, m * flops(specs[n]), flops_of=flops) for n, s, m in cases]
    assert [(a.spec, a.factor) for a in after] == [(b.spec, b.factor) for b in before]


# The largest width-scaled ResNet-50: its last stage at the width limit, 2048 x 64 = 131072 =
# MAX_WIDTH, at flops factor 64^2 = 4096 (w keeps the group widths: 8.54 T flops, not 4096 x).
LARGEST_W = (16384, 32768, 65536, 131072)


def test_a_target_within_tolerance_above_the_largest_model_gives_it() -> None:
    spec = load("resnet50").spec
    largest = scale(spec, "w", 4096)
    assert largest.widths == LARGEST_W
    solution = solve(spec, "w", round(flops(largest) * 1.04))
    assert solution.spec.widths == LARGEST_W and solution.flops == flops(largest)
    assert scale(spec, "w", solution.factor) == largest


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (10**17, "the largest model it gives within the spec limits and factors searched has 8.54"),
        (9_000_000_000_000, "the largest model it gives"),  # 5.4% above it
        (1_000, "the smallest model it gives within the spec limits and factors searched has 1.21"),
        (1, "the smallest model it gives"),
    ],
)
def test_an_unreachable_target_is_refused(target: int, message: str) -> None:
    # Beyond every model w gives by more than 5%: refused, not answered with the nearest one.
    spec = load("resnet50").spec
    with pytest.raises(UnreachableTarget, match=re.escape(message)) as error:
        solve(spec, "w", target)
    assert str(error.value).startswith(f"strategy 'w' cannot reach the target of {target:.4g}")
    assert str(error.value).endswith("x the target (more than 5% off)")
    assert isinstance(error.value, StrategyError)


def test_the_smallest_model_w_gives_by_hand() -> None:
    # At the smallest factor searched, 2^-12, w scales widths by 2^-6: 256 / 64 = 4, up to the
    # floor of 8, then 8, 16, 32. A target at its flops is reached; 6% under it is refused.
    spec = load("resnet50").spec
    smallest = scale(spec, "w", MIN_FACTOR)
    assert MIN_FACTOR == 2.0**-12 and smallest.widths == (8, 8, 16, 32)
    assert solve(spec, "w", flops(smallest)).flops == flops(smallest)
    with pytest.raises(UnreachableTarget, match="the smallest model it gives"):
        solve(spec, "w", math.floor(flops(smallest) / 1.06))
