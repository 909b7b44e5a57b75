"""Correlation coefficients for runtime against cost measures: Pearson on logs and Spearman."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r; None with fewer than two points or when either side is constant."""
    if len(xs) != len(ys):
        raise ValueError(f"xs and ys must have the same length, got {len(xs)} and {len(ys)}")
    if len(xs) < 2:
        return None
    mean_x, mean_y = math.fsum(xs) / len(xs), math.fsum(ys) / len(ys)
    dx = [x - mean_x for x in xs]
    dy = [y - mean_y for y in ys]
    sxx, syy = math.fsum(d * d for d in dx), math.fsum(d * d for d in dy)
    # Relative to the values' size, a spread this small is rounding noise around a constant.
    if sxx <= 1e-24 * max(1.0, mean_x * mean_x) * len(xs):
        return None
    if syy <= 1e-24 * max(1.0, mean_y * mean_y) * len(ys):
        return None
    r = math.fsum(a * b for a, b in zip(dx, dy)) / math.sqrt(sxx * syy)
    return max(-1.0, min(1.0, r))


def pearson_log(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r of log(x) and log(y): how straight a log-log plot is; values must be > 0."""
    for value in (*xs, *ys):
        if not value > 0:
            raise ValueError(f"log correlation needs positive values, got {value!r}")
    return pearson([math.log(x) for x in xs], [math.log(y) for y in ys])


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks in ascending order; tied values share the average of their ranks."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        shared = (start + end) / 2 + 1  # mean of ranks start+1 .. end+1
        for position in range(start, end + 1):
            result[order[position]] = shared
        start = end + 1
    return result


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rho: Pearson's r of the ranks (average ranks for ties); None as for pearson."""
    if len(xs) != len(ys):
        raise ValueError(f"xs and ys must have the same length, got {len(xs)} and {len(ys)}")
    return pearson(ranks(xs), ranks(ys))


@dataclass(frozen=True)
class Correlation:
    """How well one measure predicts runtime over a group of models."""

    group: str
    measure: str
    pearson_log: float | None
    spearman: float | None
    points: int


def correlate(
    group: str, measures: Mapping[str, Sequence[float]], runtimes: Sequence[float]
) -> list[Correlation]:
    """For each measure (in order), its Pearson (log) and Spearman correlation with runtime."""
    return [
        Correlation(
            group, name, pearson_log(values, runtimes), spearman(values, runtimes), len(values)
        )
        for name, values in measures.items()
    ]
