"""Scaling strategies (Dollár et al., 2021) as pure math: grammar, factors, rounding rules."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from scalecalc.errors import StrategyError, shown
from scalecalc.inputs import is_finite_number

GRAMMAR = (
    "a strategy is letters from d, w, r (e.g. w, dw, dwr), weights such as d1_w8_g8_r1 "
    "(d depth, w width, g group width, r resolution; non-negative numbers, d+w+r > 0), "
    "dWr (fast compound, alpha 0.8), fast:ALPHA with ALPHA in [0, 1], or effnet"
)

# EfficientNet's compound rule per doubling of flops: depth 1.2, width 1.1, resolution 1.15.
# As weights: e_d = log2(1.2), e_w = 2*log2(1.1), e_r = 2*log2(1.15) (their sum is ~1).
_EFFNET_WEIGHTS = (math.log2(1.2), 2 * math.log2(1.1), 2 * math.log2(1.15))

# Only ratios of weights matter; larger ones are typos (and 400-digit ones overflow a float).
MAX_WEIGHT = 1000.0
_WEIGHTED = re.compile(r"^([dwgr])(\d+(?:\.\d+)?)$")
_LETTERS = re.compile(r"^(?=.)(d?)(w?)(r?)$")


@dataclass(frozen=True)
class Strategy:
    """A named scaling strategy: relative weights of depth, width, group width, resolution."""

    name: str
    depth: float
    width: float
    group: float
    resolution: float

    @property
    def total(self) -> float:
        """Sum of the flops-bearing weights (group width does not change flops)."""
        return self.depth + self.width + self.resolution


@dataclass(frozen=True)
class Factors:
    """Multipliers for each dimension; depth * width**2 * resolution**2 equals the flops factor."""

    depth: float = 1.0
    width: float = 1.0
    group: float = 1.0
    resolution: float = 1.0


def parse_strategy_list(values: Sequence[str], what: str = "strategies") -> list[str]:
    """Strategy texts from repeated, comma-separated values ("w,dwr", "dWr"); none may be empty."""
    names = [part.strip() for value in values for part in value.split(",")]
    if not names or not all(names):
        raise StrategyError(
            f"{what}: {shown(','.join(values))} has an empty strategy; "
            "give a comma-separated list such as w,dwr,dWr"
        )
    return names


def parse_strategy(text: str) -> Strategy:
    """Parse a strategy string of the grammar in GRAMMAR into weights."""
    if not isinstance(text, str) or not text.strip():
        raise StrategyError(f"strategy {shown(text)} is empty; {GRAMMAR}")
    text = text.strip()
    if text == "dWr":
        return Strategy("dWr", 1.0, 8.0, 8.0, 1.0)
    if text == "effnet":
        d, w, r = _EFFNET_WEIGHTS
        return Strategy("effnet", d, w, 0.0, r)
    if text.startswith("fast:"):
        return _parse_fast(text)
    letters = _LETTERS.match(text)
    if letters:
        d, w, r = (1.0 if group else 0.0 for group in letters.groups())
        return Strategy(text, d, w, 0.0, r)
    return _parse_weighted(text)


def _parse_fast(text: str) -> Strategy:
    try:
        alpha = float(text[len("fast:") :])
    except ValueError:
        alpha = math.nan
    if not 0.0 <= alpha <= 1.0:  # also rejects NaN
        raise StrategyError(f"strategy {shown(text)}: ALPHA must be a number in [0, 1]; {GRAMMAR}")
    # e_w = alpha, e_d = e_r = (1 - alpha) / 2; group width follows width as in dWr.
    return Strategy(text, (1 - alpha) / 2, alpha, alpha, (1 - alpha) / 2)


def _parse_weighted(text: str) -> Strategy:
    weights = {"d": 0.0, "w": 0.0, "g": 0.0, "r": 0.0}
    seen: set[str] = set()
    for part in text.split("_"):
        match = _WEIGHTED.match(part)
        if not match or match.group(1) in seen:
            raise StrategyError(f"strategy {shown(text)} is not understood; {GRAMMAR}")
        seen.add(match.group(1))
        weights[match.group(1)] = float(match.group(2))
        if weights[match.group(1)] > MAX_WEIGHT:
            raise StrategyError(
                f"strategy {shown(text)}: weights must be at most {MAX_WEIGHT:g}; {GRAMMAR}"
            )
    if weights["d"] + weights["w"] + weights["r"] <= 0:
        raise StrategyError(f"strategy {shown(text)} has all-zero d, w, r weights; {GRAMMAR}")
    return Strategy(text, weights["d"], weights["w"], weights["g"], weights["r"])


def check_factor(s: float) -> float:
    """Return s if it is a usable flops factor (finite, > 0), else raise StrategyError."""
    if not is_finite_number(s) or s <= 0:
        raise StrategyError(f"factor {shown(s)} must be a finite number > 0")
    return float(s)


def scaling_factors(strategy: Strategy | str, s: float) -> Factors:
    """Per-dimension multipliers for flops factor s: d = s^(e_d), w = s^(e_w/2), r = s^(e_r/2)."""
    if isinstance(strategy, str):
        strategy = parse_strategy(strategy)
    s = check_factor(s)
    total = strategy.total
    return Factors(
        depth=s ** (strategy.depth / total),
        width=s ** (strategy.width / (2 * total)),
        group=s ** (strategy.group / (2 * total)),
        resolution=s ** (strategy.resolution / (2 * total)),
    )


# Rounding rules of the paper's reference scaler. `round` is Python's (half to even) on purpose:
# half-up rounding gives different networks for some of the reference models.


def scale_depth(depth: int, factor: float) -> int:
    """Blocks in a stage after scaling: at least one."""
    return max(1, round(depth * factor))


def scale_width(width: int, factor: float, quantum: int = 8) -> int:
    """A channel width after scaling, on a multiple of `quantum` (at least one quantum)."""
    return max(1, round(width * factor / quantum)) * quantum


def scale_group_width(group_width: int, factor: float) -> int:
    """A group width after scaling: 1 or 2 stay, up to 5 becomes 4, else a multiple of 8."""
    g = max(1, round(group_width * factor))
    if g <= 2:
        return g
    if g <= 5:
        return 4
    return round(g / 8) * 8


def scale_resolution(resolution: int, factor: float, quantum: int = 4) -> int:
    """An input size after scaling, on a multiple of `quantum` (at least one quantum)."""
    return max(1, round(resolution * factor / quantum)) * quantum


# Cached: a flops solve snaps the same few (width, group width) pairs thousands of times.
@functools.lru_cache(maxsize=4096)
def adjust_compatibility(width: int, bottleneck_ratio: float, group_width: int) -> tuple[int, int]:
    """Snap a stage's width so its bottleneck width is a multiple of its group width."""
    bottleneck = max(1, int(width * bottleneck_ratio))
    group_width = min(group_width, bottleneck)
    if bottleneck_ratio > 1:
        multiple = math.lcm(group_width, int(bottleneck_ratio))
    else:
        multiple = group_width
    bottleneck = max(multiple, int(round(bottleneck / multiple) * multiple))
    return int(bottleneck / bottleneck_ratio), group_width
