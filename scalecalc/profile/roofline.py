"""The roofline form of a device profile, fitted: time per image = overhead + flops × seconds per
flop + acts × seconds per act, each per group and shrunk toward the shared cost, the three
blended as (Σ partᵖ)^(1/p); numpy is imported lazily.

Why this form: a log-linear law prices every kind of growth with the same exponents, so it
cannot tell widening (more flops per activation, faster on a GPU) from deepening or a larger
input (flops and acts grow together). Summing a compute time and a memory time per group does:
a wide model's time follows its flops, a narrow one's its acts. Each family's log overhead and
log costs are the shared ones (those of "other") plus its own deviation, pulled toward 0 by a
ridge, so that a family with few models stays near the shared costs. The blend p says how the
three parts add: 1 is their sum; below 1 a model that needs both compute and memory takes longer
than the sum (neither runs at its peak while the other waits), above 1 the parts overlap.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from scalecalc.profile.model import OTHER, ROOFLINE_TERMS

if TYPE_CHECKING:
    from numpy import ndarray

    from scalecalc.profile.fit import FitRecord

    Evaluate = Callable[[ndarray], tuple[ndarray, ndarray]]

# The candidate form's name among the forms a fit tries (the plain sum), and how a profile file
# describes its fit.
ROOFLINE = ("roofline",)
# The blends a fit tries, each a candidate form of its own kept only by its held-out error. On
# the RTX 3090/4090/5090 timm files 5-fold error falls from p = 1 to a minimum between 0.85 and
# 0.7 and rises again toward 0.5 (0.4 and p above 1 were worse still).
BLENDS = (1.0, 0.85, 0.7, 0.55)
ROOFLINE_FIT = (
    "least absolute deviations of log time; each family's overhead and costs pulled toward the "
    "shared ones by a ridge"
)
# Counts in these units keep the fitted parameters near 1, which keeps the fit well conditioned.
UNITS = {"flops": 1e9, "acts": 1e6}
# Ridge weights on each group's log deviation from the shared overhead, cost per flop and cost
# per act, against the sum of absolute log errors: a group moves a term by e^x only where that
# saves more than SHRINK²·x² of total log error. The overhead per image is the device's and the
# runtime's more than a family's, so it is held hardest. On the RTX 4090 file, weights (10, 2, 2)
# kept the 5-fold error of (1, 1, 1) within 0.2 points and cut the worst error of a width
# series' time ratio from 17% to 12%.
SHRINK = (10.0, 2.0, 2.0)
# Damped Gauss-Newton steps: first on plain squares, then per reweighting round of least
# absolute deviations. Fixed counts keep the fit deterministic.
FIRST_STEPS = 20
STEPS = 5
# Parameters stay within ±LIMIT (log scale) so that no exp() overflows on odd data.
LIMIT = 80.0


def roofline_form(blend: float) -> tuple[str, ...]:
    """The candidate form of the roofline with this blend: ROOFLINE for the plain sum."""
    return ROOFLINE if blend == 1.0 else (*ROOFLINE, f"blend {blend:g}")


def form_blend(form: Sequence[str]) -> float | None:
    """The blend of a roofline candidate form; None for a log-linear form."""
    if tuple(form[:1]) != ROOFLINE:
        return None
    return float(form[1].removeprefix("blend ")) if len(form) > 1 else 1.0


def fit_roofline(
    records: Sequence[FitRecord],
    groups: Sequence[str],
    rounds: int,
    floor: float,
    blend: float = 1.0,
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Each group's log overhead (seconds per image) and log seconds per flop and per act,
    blended by `blend`, minimising absolute log error by `rounds` of reweighting (residuals
    floored at `floor`); rounds 0: least squares of log time."""
    import numpy as np

    names = sorted(set(groups))
    own = [name for name in names if name != OTHER]
    deviates = np.array([[float(g == name) for name in own] for g in groups], dtype=float)
    deviates = deviates.reshape(len(groups), len(own))
    # log of each term's count in UNITS; the overhead's "count" is 1
    logs = np.log([[1.0] + [r.counts()[m] / UNITS[m] for m in ROOFLINE_TERMS] for r in records])
    target = np.array([math.log(r.seconds) for r in records])
    d = len(own)

    def unpack(theta: ndarray) -> list[ndarray]:
        """Each row's log overhead and log cost per unit of flops and of acts."""
        return [theta[j] + deviates @ theta[3 + j * d : 3 + (j + 1) * d] for j in range(3)]

    def shares(theta: ndarray) -> tuple[ndarray, ndarray]:
        """Each row's log time and each term's share of it (its derivative by the term's log)."""
        parts = blend * (np.stack(unpack(theta)) + logs.T)
        top = parts.max(axis=0)
        share = np.exp(parts - top)
        total = share.sum(axis=0)
        return (top + np.log(total)) / blend, share / total

    def evaluate(theta: ndarray) -> tuple[ndarray, ndarray]:
        model, share = shares(theta)
        jacobian = np.hstack([share.T] + [deviates * share[j][:, None] for j in range(3)])
        return model, jacobian

    ridge = np.zeros(3 + 3 * d)
    ridge[3:] = np.repeat(np.array(SHRINK) ** 2, d)
    theta = np.zeros(3 + 3 * d)
    theta[:3] = float(np.median(target - np.log(np.exp(logs).sum(axis=1))))
    weights = np.ones(len(records))

    def objective(theta: ndarray) -> float:
        residual = shares(theta)[0] - target
        return float(weights @ residual**2 + ridge @ theta**2)

    damping = 1e-3
    for round_ in range(rounds + 1):
        if round_:
            residual = shares(theta)[0] - target
            weights = 1.0 / np.maximum(np.abs(residual), floor)
        for _ in range(FIRST_STEPS if round_ == 0 else STEPS):
            theta, damping = _step(evaluate, objective, theta, target, weights, ridge, damping)
    per_row = unpack(theta)
    rows = {g: i for i, g in enumerate(groups)}
    intercepts = {name: float(per_row[0][rows[name]]) for name in names}
    per_unit = {
        name: {
            m: float(per_row[j + 1][rows[name]] - math.log(UNITS[m]))
            for j, m in enumerate(ROOFLINE_TERMS)
        }
        for name in names
    }
    return intercepts, per_unit


def _step(
    evaluate: Evaluate,
    objective: Callable[[ndarray], float],
    theta: ndarray,
    target: ndarray,
    weights: ndarray,
    ridge: ndarray,
    damping: float,
) -> tuple[ndarray, float]:
    """One damped Gauss-Newton (Levenberg-Marquardt) step of weighted squares plus the ridge:
    the new parameters and damping; the old parameters when no damping lowers the objective."""
    import numpy as np

    model, jacobian = evaluate(theta)
    normal = jacobian.T @ (weights[:, None] * jacobian) + np.diag(ridge)
    gradient = jacobian.T @ (weights * (model - target)) + ridge * theta
    current = objective(theta)
    scale = np.diag(normal) + 1e-12
    while damping < 1e12:
        try:
            step = np.linalg.solve(normal + damping * np.diag(scale), gradient)
        except np.linalg.LinAlgError:  # singular on degenerate data: damp more
            damping *= 4
            continue
        trial = np.clip(theta - step, -LIMIT, LIMIT)
        if objective(trial) <= current:
            return trial, max(damping / 3, 1e-9)
        damping *= 4
    return theta, 1e-3
