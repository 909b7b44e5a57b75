"""A roofline profile moved to another device term by term: its overhead, its cost per flop and
its cost per act each shifted (in log) to fit a few measured models; numpy is imported lazily.

Why: devices differ in their ratio of compute to memory bandwidth and in their fixed cost per
image, so one factor on the whole time misprices either the wide models or the narrow ones.
Models of different arithmetic intensity (flops per act) tell the two costs apart; the shifts
are pulled toward their common mean by a ridge, so that models of like intensity give one level.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING

from scalecalc.profile.model import OTHER, ROOFLINE_TERMS, Profile, blended

if TYPE_CHECKING:
    from scalecalc.profile.calibrate import Measured

# Ridge weight on each shift's squared distance from the shifts' mean, against the sum of
# squared log errors of the measured models: it keeps the three shifts together where the
# measured models cannot tell them apart (all alike in intensity, or the overhead a negligible
# part of every time). On the shared timm files 0.01 to 0.1 calibrate alike (3090 -> 4090 by
# five models 14.3-14.7%, the i9 profile onto this CPU by three 18.3-18.4%); 0.3 loses the CPU's
# gain (32%), and 0.01 recovers exact shifts closest.
SPREAD = 0.01
# Gauss-Newton steps from the common level; three parameters converge in a few.
STEPS = 50


def _parts(base: Profile, model: Measured) -> list[float]:
    """The log overhead, log compute time and log memory time of `model` on `base`."""
    group = model.family if model.family in base.intercepts else OTHER
    if group not in base.intercepts:  # no group of its own and no "other": each group's mean
        return [
            statistics.fmean(base.intercepts.values()),
            *(
                statistics.fmean(c[m] for c in base.costs.values()) + math.log(model.counts()[m])
                for m in ROOFLINE_TERMS
            ),
        ]
    costs = base.costs[group]
    return [base.intercepts[group]] + [
        costs[m] + math.log(model.counts()[m]) for m in ROOFLINE_TERMS
    ]


def shifted_log_seconds(base: Profile, model: Measured, shifts: Sequence[float]) -> float:
    """log seconds per image of `model` on `base` with each term's log shifted by `shifts`."""
    return blended([p + s for p, s in zip(_parts(base, model), shifts)], base.blend)


def term_shifts(base: Profile, measured: Sequence[Measured]) -> tuple[float, ...]:
    """The log shifts of the overhead, the cost per flop and the cost per act that fit the
    measured times of a roofline `base` in least squares of log time, with the SPREAD ridge."""
    import numpy as np

    parts = np.array([_parts(base, m) for m in measured])
    target = np.array([math.log(1.0 / m.images_per_second) for m in measured])
    unshifted = [shifted_log_seconds(base, m, (0.0, 0.0, 0.0)) for m in measured]
    shifts = np.full(3, float(np.median(target - np.array(unshifted))))
    centre = np.eye(3) - 1.0 / 3.0  # shifts minus their mean
    for _ in range(STEPS):
        terms = base.blend * (parts + shifts)
        top = terms.max(axis=1, keepdims=True)
        share = np.exp(terms - top)
        total = share.sum(axis=1)
        residual = (top[:, 0] + np.log(total)) / base.blend - target
        jacobian = share / total[:, None]
        normal = jacobian.T @ jacobian + SPREAD * centre + 1e-9 * np.eye(3)
        gradient = jacobian.T @ residual + SPREAD * centre @ shifts
        shifts = shifts - np.linalg.solve(normal, gradient)
    return tuple(float(s) for s in shifts)


def moved_terms(
    base: Profile, shifts: Sequence[float]
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """`base`'s intercepts and costs with every group's terms shifted by `shifts`."""
    overhead, *per_term = shifts
    intercepts = {group: value + overhead for group, value in base.intercepts.items()}
    moved = {
        group: {m: costs[m] + s for m, s in zip(ROOFLINE_TERMS, per_term)}
        for group, costs in base.costs.items()
    }
    return intercepts, moved
