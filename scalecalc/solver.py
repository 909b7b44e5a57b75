"""Target-flops solver: the factor whose scaled model comes closest to a flops target.

The search (bracket, grid, bisection) finds the model; the factor reported with it does not
depend on the search: of the factors that give that model, the one with the fewest significant
decimal digits, and of those the smallest (`canonical_factor`). Every factor that gives the
model gives the same counts, so the shortest is the one to show and to pass back to `--factor`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass

from scalecalc.config import ModelConfig
from scalecalc.errors import ScalecalcError, StrategyError, shown
from scalecalc.families.spec import BaseSpec
from scalecalc.inputs import is_finite_number
from scalecalc.scaling import Strategy, check_factor, parse_strategy, scaling_factors
from scalecalc.units import MAX_COUNT, parse_count

# Factors searched: far beyond any sensible model, short of sizes the specs refuse.
MIN_FACTOR, MAX_FACTOR = 2.0**-12, 2.0**16
# The search starts from the factors within SPAN of the estimate (widened by SPAN until they
# straddle the goal), tries the factors 2^(j / GRID_OCTAVE) between them (one grid for every
# goal, with the exact halvings and doublings, where rounding ties) and bisects each step of
# the measure across the goal.
SPAN = 1.25
GRID_OCTAVE = 12
# Each step across the goal is bisected until its ends are this close (relative): a model that
# only a narrower band of factors gives may be passed over.
PRECISION = 1e-6
MAX_TARGET = MAX_COUNT
# How far a model may be from a goal and still count as at it: a target this far beyond every
# model a strategy gives is out of reach, and the equal-flops summary ranks only models this
# close to their goal.
TOLERANCE = 0.05


class UnreachableTarget(StrategyError):
    """A goal beyond every model a strategy gives within the spec limits."""


@dataclass(frozen=True)
class Solution:
    """The spec chosen, its flops and the factor reported for it (`canonical_factor`)."""

    factor: float
    spec: BaseSpec
    flops: int
    target_flops: int


class Evaluator:
    """Scaled spec and flops (or any measure that grows with the model, such as predicted
    time) for a factor, counting each distinct spec once."""

    def __init__(self, spec: BaseSpec, strategy: Strategy, flops_of: Callable[[BaseSpec], float]):
        from scalecalc.api import scale_by

        self._scale = lambda s: scale_by(spec, scaling_factors(strategy, s))
        self._flops_of = flops_of
        self._flops: dict[BaseSpec, float] = {}
        self._specs: dict[float, BaseSpec | None] = {}
        self.tried: list[tuple[float, BaseSpec, float]] = []

    def spec_at(self, s: float) -> BaseSpec | None:
        """The scaled spec at factor s, or None where it is invalid (too large)."""
        if s not in self._specs:
            try:
                self._specs[s] = self._scale(s)
            except ScalecalcError:
                self._specs[s] = None
        return self._specs[s]

    def __call__(self, s: float) -> float | None:
        """Flops at factor s, or None where the scaled spec is invalid (too large)."""
        spec = self.spec_at(s)
        if spec is None:
            return None
        flops = self._flops.get(spec)
        if flops is None:
            flops = self._flops[spec] = self._flops_of(spec)
        self.tried.append((s, spec, flops))
        return flops


def solve(
    spec: BaseSpec,
    strategy: Strategy | str,
    target_flops: int,
    convention: str = "paper",
    flops_of: Callable[[BaseSpec], int] | None = None,
) -> Solution:
    """The factor (and spec) of `strategy` whose realized flops are closest to `target_flops`."""
    if isinstance(strategy, str):
        strategy = parse_strategy(strategy)
    target_flops = check_target(target_flops)
    if flops_of is None:
        from scalecalc.api import count

        flops_of = lambda s: count(s, convention).flops  # noqa: E731
    evaluate = Evaluator(spec, strategy, flops_of)
    search(evaluate, target_flops, target_flops / flops_of(spec))
    if not evaluate.tried:
        raise StrategyError(
            f"strategy {shown(strategy.name)} gives no model within the spec limits at any factor "
            f"tried from {MIN_FACTOR:g} to {MAX_FACTOR:g}"
        )
    best = min(evaluate.tried, key=lambda t: (abs(t[2] - target_flops), abs(math.log(t[0]))))
    reached = [flops for _, _, flops in evaluate.tried]
    check_reachable(target_flops, best[2], reached, f"strategy {shown(strategy.name)}", _flops)
    factor = canonical_factor(evaluate.spec_at, best[1], best[0])
    return Solution(factor=factor, spec=best[1], flops=int(best[2]), target_flops=target_flops)


def search(evaluate: Evaluator, target: float, estimate: float) -> None:
    """Evaluate factors around `estimate` until they straddle `target`, then bisect every step
    of the measure across it (rounding makes it a staircase, not always a monotone one)."""
    low, high = _bracket(evaluate, target, estimate)
    first, last = (math.floor(GRID_OCTAVE * math.log2(s)) + 1 for s in (low, high))
    grid = [low, *(2.0 ** (j / GRID_OCTAVE) for j in range(first, last)), high]
    values = [evaluate(s) for s in grid]
    # Refine every step across the target: a breakpoint lies between each such pair.
    for (s_a, f_a), (s_b, f_b) in zip(zip(grid, values), zip(grid[1:], values[1:])):
        if f_a is not None and f_b is not None and f_a < target <= f_b:
            _bisect(evaluate, target, s_a, s_b)


def canonical_factor(
    spec_at: Callable[[float], BaseSpec | None], spec: BaseSpec, s: float
) -> float:
    """The factor reported for `spec`, found at factor `s`: of the factors from MIN_FACTOR to
    MAX_FACTOR that give `spec`, the one with the fewest significant decimal digits, and of
    those the smallest. Found by comparing specs only (nothing is counted), from the decimals
    next to `s`: every dimension is rounded from a multiplier that grows with the factor, so
    the factors that give one spec lie together, around `s`."""

    def gives(decimal: tuple[int, int]) -> bool:
        value = _value(decimal)
        return MIN_FACTOR <= value <= MAX_FACTOR and spec_at(value) == spec

    digits = 0
    while True:  # ends by 17 digits, where the decimal at or below `s` is `s` itself
        digits += 1
        below = _decimal_at_or_below(s, digits)
        if gives(below):
            while gives(lower := _next_decimal(below, digits, -1)):
                below = lower
            return _value(below)
        above = _next_decimal(below, digits, 1)
        if gives(above):
            return _value(above)


def _decimal_at_or_below(s: float, digits: int) -> tuple[int, int]:
    """(m, e): the largest m·10^e <= s with m of exactly `digits` digits (exact arithmetic)."""
    numerator, denominator = s.as_integer_ratio()
    exponent = math.floor(math.log10(s)) - digits + 1
    while True:
        if exponent >= 0:
            mantissa = numerator // (denominator * 10**exponent)
        else:
            mantissa = numerator * 10**-exponent // denominator
        if mantissa >= 10**digits:
            exponent += 1
        elif mantissa < 10 ** (digits - 1):
            exponent -= 1
        else:
            return mantissa, exponent


def _next_decimal(decimal: tuple[int, int], digits: int, step: int) -> tuple[int, int]:
    """The `digits`-digit decimal one place above (step 1) or below (step -1) `decimal`."""
    mantissa, exponent = decimal[0] + step, decimal[1]
    if mantissa == 10**digits:
        return 10 ** (digits - 1), exponent + 1
    if mantissa < 10 ** (digits - 1):
        return 10**digits - 1, exponent - 1
    return mantissa, exponent


def _value(decimal: tuple[int, int]) -> float:
    """The float nearest m·10^e."""
    return float(f"{decimal[0]}e{decimal[1]}")


def check_reachable(
    target: float,
    closest: float,
    reached: Collection[float],
    who: str,
    show: Callable[[float], str],
) -> None:
    """UnreachableTarget when `target` lies outside the values `reached` (by the models a
    strategy gives within the spec limits) and `closest` misses it by more than TOLERANCE.
    Inside that range the closest model is at most one rounding step away, and stands."""
    low, high = min(reached), max(reached)
    if low <= target <= high or abs(closest - target) <= TOLERANCE * target:
        return
    extreme = "smallest" if target < low else "largest"
    raise UnreachableTarget(
        f"{who} cannot reach the target of {show(target)}: the {extreme} model it gives within "
        f"the spec limits and factors searched has {show(closest)}, {closest / target:.3g}x the "
        f"target (more than {TOLERANCE:.0%} off)"
    )


def _flops(value: float) -> str:
    return f"{value:.4g} flops"


def check_target(target_flops: float) -> int:
    """`target_flops` as an int if it is a whole number from 1 to MAX_TARGET (16e9 is fine)."""
    whole = is_finite_number(target_flops) and target_flops == int(target_flops)
    if not whole or not 1 <= target_flops <= MAX_TARGET:
        raise StrategyError(
            f"target flops must be a whole number from 1 to {MAX_TARGET:.0e}, "
            f"got {shown(target_flops)}"
        )
    return int(target_flops)


def target_from_factor(base_flops: int, factor: float) -> int:
    """The flops target `factor` times `base_flops`, refused beyond what `solve` aims for."""
    check_factor(factor)
    if base_flops * factor > MAX_TARGET:
        raise StrategyError(
            f"--target-factor: {shown(factor)} times the base's {base_flops:.3g} flops is above "
            f"the {MAX_TARGET:.0e} flops the solver aims for"
        )
    return max(1, round(base_flops * factor))


def _bracket(evaluate: Evaluator, target: float, estimate: float) -> tuple[float, float]:
    """Factors [low, high] around the estimate, widened until they straddle the target."""
    clamp = lambda s: min(MAX_FACTOR, max(MIN_FACTOR, s))  # noqa: E731
    low, high = clamp(estimate / SPAN), clamp(estimate * SPAN)
    # Down while too large or invalid (beyond the spec limits), so a valid model is in range.
    while low > MIN_FACTOR and (evaluate(low) is None or evaluate(low) > target):
        low = clamp(low / SPAN)
    while high < MAX_FACTOR:
        flops = evaluate(high)
        if flops is None or flops >= target:
            break
        high = clamp(high * SPAN)
    return low, high


def _bisect(evaluate: Evaluator, target: float, low: float, high: float) -> None:
    """Narrow [low, high] (flops below / at-or-above target) onto the step between them."""
    while high > low * (1 + PRECISION):
        middle = math.sqrt(low * high)
        flops = evaluate(middle)
        if flops is None or flops >= target:
            high = middle
        else:
            low = middle


@dataclass(frozen=True)
class ScaledModel:
    """What `scalecalc scale` reports: the scaled spec, its name and how close it came."""

    name: str
    spec: BaseSpec
    factor: float
    flops: int
    target_flops: float
    base_flops: int

    def summary(self) -> str:
        """One line: the factor used, the target and the realized flops, as G and as ×."""
        target, base = self.target_flops, self.base_flops
        return (
            f"{self.name}: factor {self.factor:.4g}; target flops {target / 1e9:.3f} G "
            f"({target / base:.3f}x); realized {self.flops / 1e9:.3f} G "
            f"({self.flops / base:.3f}x, {100 * (self.flops - target) / target:+.1f}%)"
        )


def scale_to(
    model: ModelConfig,
    strategy: str,
    convention: str,
    factor: float | None = None,
    target_flops: str | None = None,
    target_factor: float | None = None,
) -> ScaledModel:
    """`model` scaled with `strategy` by exactly one of: a flops factor, a flops target (text
    with an optional K/M/G/T suffix), or a target as a multiple of the model's own flops."""
    from scalecalc.api import count, scale

    chosen = [o for o in (factor, target_flops, target_factor) if o is not None]
    if len(chosen) != 1:
        raise StrategyError("give exactly one of --factor, --target-flops, --target-factor")
    parsed = parse_strategy(strategy)
    base_flops = count(model.spec, convention).flops
    if factor is not None:
        spec = scale(model.spec, parsed, check_factor(factor))
        target, used, flops = base_flops * factor, factor, count(spec, convention).flops
    else:
        if target_flops is not None:
            target = parse_count(target_flops, "--target-flops")
        else:
            target = target_from_factor(base_flops, target_factor)
        try:
            solution = solve(model.spec, parsed, target, convention)
        except UnreachableTarget as error:
            raise UnreachableTarget(f"{model.name}: {error}") from None
        spec, flops, used = solution.spec, solution.flops, solution.factor
    name = f"{model.name}_{parsed.name.replace(':', '')}_x{used:.4g}"
    return ScaledModel(name, spec, used, flops, target, base_flops)
