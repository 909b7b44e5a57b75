"""Target-time solver: the largest scaled model whose predicted time per image meets a goal.

Predicted time is exp(intercept) · Π count^coefficient (log-linear profiles) or an overhead plus
positive costs per flop and per act (roofline profiles). With every coefficient ≥ 0 it never
falls when a count grows; the counts of a grammar strategy grow with the factor s except where
rounding (widths to ×8, group compatibility) makes a small step back. So the solver does not
assume monotonicity: it searches like the flops solver (bracket, grid, bisection of every step
across the goal), keeps the largest predicted time at or under the goal among all models it
tried, and refuses a goal it misses by more than 3%. A profile with a negative coefficient is
refused for time goals. The factor reported is the flops solver's for the chosen model
(solver.canonical_factor: the shortest decimal that gives it), independent of the search.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from scalecalc.errors import StrategyError, shown
from scalecalc.families.spec import BaseSpec
from scalecalc.profile.model import Prediction, Profile, predict
from scalecalc.scaling import Strategy, parse_strategy
from scalecalc.solver import MAX_FACTOR, MIN_FACTOR, Evaluator, canonical_factor, search

# A solved model's predicted time lies within this band around its goal: never above it.
TOLERANCE = 0.03


@dataclass(frozen=True)
class TimeSolution:
    """The chosen factor, the spec it gives, its predicted seconds per image and the goal, and
    the profile's prediction for that spec (its held-out error and extrapolation mark)."""

    factor: float
    spec: BaseSpec
    seconds: float
    target_seconds: float
    prediction: Prediction


def predict_spec(profile: Profile, spec: BaseSpec) -> Prediction:
    """The profile's prediction for `spec`, counted in the profile's convention."""
    from scalecalc.api import count

    costs = count(spec, profile.convention)
    return predict(profile, costs.flops, costs.params, costs.acts, spec.family)


def predicted_seconds(profile: Profile, spec: BaseSpec) -> float:
    """Predicted seconds per image of `spec` on `profile` (counted in the profile's convention)."""
    return predict_spec(profile, spec).seconds_per_image


def check_growing(profile: Profile) -> None:
    """StrategyError if the profile predicts less time for more work (a negative coefficient)."""
    negative = {m: c for m, c in profile.coefficients.items() if c < 0}
    if negative:
        listed = ", ".join(f"{m} {c:.3g}" for m, c in negative.items())
        raise StrategyError(
            f"profile {shown(profile.name)}: a negative exponent ({listed}) makes predicted time "
            "fall as the model grows; time goals need exponents >= 0"
        )


def solve_time(
    spec: BaseSpec,
    strategy: Strategy | str,
    target_seconds: float,
    profile: Profile,
    time_of: Callable[[BaseSpec], float] | None = None,
) -> TimeSolution:
    """The factor (and spec) of `strategy` whose predicted seconds per image on `profile` are
    the largest at or under `target_seconds`, within TOLERANCE; StrategyError naming the
    strategy when no factor gets that close."""
    if isinstance(strategy, str):
        strategy = parse_strategy(strategy)
    if not (isinstance(target_seconds, (int, float)) and 0 < target_seconds < math.inf):
        raise StrategyError(f"target time must be a positive number, got {shown(target_seconds)}")
    check_growing(profile)
    if time_of is None:
        time_of = lambda s: predicted_seconds(profile, s)  # noqa: E731
    evaluate = Evaluator(spec, strategy, time_of)
    search(evaluate, target_seconds, target_seconds / time_of(spec))
    under = [t for t in evaluate.tried if t[2] <= target_seconds]
    best = max(under, key=lambda t: (t[2], -abs(math.log(t[0]))), default=None)
    if best is None or best[2] < target_seconds * (1 - TOLERANCE):
        raise StrategyError(_unreachable(strategy, target_seconds, evaluate, best))
    factor = canonical_factor(evaluate.spec_at, best[1], best[0])
    return TimeSolution(
        factor=factor,
        spec=best[1],
        seconds=best[2],
        target_seconds=target_seconds,
        prediction=predict_spec(profile, best[1]),
    )


def _unreachable(
    strategy: Strategy,
    target: float,
    evaluate: Evaluator,
    best: tuple[float, BaseSpec, float] | None,
) -> str:
    """Why no model of `strategy` reached the goal: the nearest times it gave."""
    goal = f"{target * 1e3:.4g} ms per image"
    if not evaluate.tried:
        return (
            f"strategy {shown(strategy.name)} cannot reach {goal}: no model within the spec "
            f"limits at any factor from {MIN_FACTOR:g} to {MAX_FACTOR:g}"
        )
    times = [t[2] for t in evaluate.tried]
    if best is None:
        reach = f"its smallest model predicts {min(times) * 1e3:.4g} ms"
    elif max(times) < target:
        reach = f"its largest model within the spec limits predicts {max(times) * 1e3:.4g} ms"
    else:
        above = min(t for t in times if t > target)
        reach = (
            f"one step of its rounding jumps from {best[2] * 1e3:.4g} ms "
            f"({best[2] / target - 1:+.1%}) to {above * 1e3:.4g} ms ({above / target - 1:+.1%})"
        )
    return (
        f"strategy {shown(strategy.name)} cannot reach {goal} within -{TOLERANCE:.0%}…0%: {reach}"
    )
