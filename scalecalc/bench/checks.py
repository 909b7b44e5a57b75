"""How far a benchmark can be trusted: too few models, noisy timings, and whether the device
looked memory- or compute-bound (a heuristic over achieved rates). Pure arithmetic."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from scalecalc.bench.measurement import BenchRow
from scalecalc.step_options import DTYPE_BYTES

# Models in a random order have Spearman's ρ = ±1 with probability 2/n!: 1/3 for 3 models, 1/12
# for 4, 1/60 for 5. Above 20% spread, the timed iterations were disturbed.
MIN_MODELS = 5
MAX_SPREAD = 0.20
# One rate must vary this many times more (std. dev. of its logarithm) to call the device bound.
CLEAR_MARGIN = 1.25
# A log standard deviation this small is floating-point rounding of a constant rate.
ROUNDING = 1e-9


@dataclass(frozen=True)
class Caveat:
    """A reason to distrust a benchmark: `code` few_models or high_spread, the groups or keys
    it concerns, and the one-line message."""

    code: str
    subjects: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class Bound:
    """Achieved rates over a group's models and what they suggest: `verdict` is memory-bound,
    compute-bound, unclear, or too few models. Rates are (min, max) per second; `*_log_sd` the
    population standard deviation of the natural logarithm of the rate across models."""

    group: str
    verdict: str
    points: int
    flops_per_s: tuple[float, float]
    act_bytes_per_s: tuple[float, float]
    flops_log_sd: float
    act_bytes_log_sd: float


def model_groups(rows: Sequence[BenchRow]) -> dict[str, list[BenchRow]]:
    """Distinct models per base (in order), then all of them when there are several bases."""
    groups: dict[str, dict[object, BenchRow]] = {}
    for bench_row in rows:
        # A spec that appears twice (ResNet-50 `w` ×2 is ResNet-50) is one model, not two.
        groups.setdefault(bench_row.row.base, {}).setdefault(bench_row.row.spec, bench_row)
    result = {name: list(members.values()) for name, members in groups.items()}
    if len(result) > 1:
        result["all"] = list(_distinct(rows))
    return result


def _distinct(rows: Sequence[BenchRow]) -> list[BenchRow]:
    first: dict[object, BenchRow] = {}
    for bench_row in rows:
        first.setdefault(bench_row.row.spec, bench_row)
    return list(first.values())


def caveats(rows: Sequence[BenchRow]) -> list[Caveat]:
    """Groups correlated over fewer than MIN_MODELS models; models spread above MAX_SPREAD."""
    found = []
    few = {name: len(m) for name, m in model_groups(rows).items() if len(m) < MIN_MODELS}
    if few:
        listed = ", ".join(f"{name} ({count})" for name, count in few.items())
        found.append(
            Caveat(
                "few_models",
                tuple(few),
                f"correlations over fewer than {MIN_MODELS} models can reach ±1 by chance: "
                f"{listed}; add strategies or factors",
            )
        )
    noisy = [b for b in _distinct(rows) if b.measurement.spread > MAX_SPREAD]
    if noisy:
        worst = max(noisy, key=lambda b: b.measurement.spread)
        found.append(
            Caveat(
                "high_spread",
                tuple(b.row.key for b in noisy),
                f"{len(noisy)} of {len(_distinct(rows))} models have a timing spread above "
                f"{MAX_SPREAD:.0%} (worst {worst.row.key}: {worst.measurement.spread:.0%}): the "
                "timings were disturbed (other work on the machine?); rerun on an idle machine, "
                "with fewer CPU threads than idle cores (--threads 1 on a busy CPU), or with "
                "--rounds",
            )
        )
    return found


def _log_sd(values: Sequence[float]) -> float:
    return statistics.pstdev([math.log(v) for v in values])


def bound(group: str, members: Sequence[BenchRow], dtype: str) -> Bound:
    """Flops and activation bytes per second of each model; the device looked memory-bound
    when the activation rate was the steadier one across models (time tracks acts), and
    compute-bound when the flop rate was (time tracks flops)."""
    flop_rates, byte_rates = [], []
    for bench_row in members:
        images_per_s = bench_row.measurement.throughput
        flop_rates.append(bench_row.row.costs.flops * images_per_s)
        byte_rates.append(bench_row.row.costs.acts * DTYPE_BYTES[dtype] * images_per_s)
    flops_sd, bytes_sd = _log_sd(flop_rates), _log_sd(byte_rates)
    if len(members) < MIN_MODELS:
        verdict = "too few models"
    elif flops_sd > ROUNDING and flops_sd >= CLEAR_MARGIN * bytes_sd:
        verdict = "memory-bound"
    elif bytes_sd > ROUNDING and bytes_sd >= CLEAR_MARGIN * flops_sd:
        verdict = "compute-bound"
    else:
        verdict = "unclear"
    return Bound(
        group,
        verdict,
        len(members),
        (min(flop_rates), max(flop_rates)),
        (min(byte_rates), max(byte_rates)),
        flops_sd,
        bytes_sd,
    )


def bounds(rows: Sequence[BenchRow], dtype: str) -> list[Bound]:
    """The bound heuristic per group of model_groups."""
    return [bound(name, members, dtype) for name, members in model_groups(rows).items()]
