"""What a count is: the cost records, the measures and the two flops conventions. Pure data.

Convention (see README): flops are multiply-adds of convolutions, matrix products and attention
products (one fused multiply-add = 1); acts are the elements those ops output, at batch 1;
params are parameter elements (buffers excluded). The `fvcore` convention adds fvcore's norm,
pooling and upsampling flops.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scalecalc.errors import shown

MEASURES = ("flops", "params", "acts")
CONVENTIONS = ("paper", "fvcore")
# analytic: closed form from the spec (default); meta: traced on the meta device; fvcore: reference.
COUNTERS = ("analytic", "meta", "fvcore")

# Flops per input element that the `fvcore` convention adds: eval batch norm, layer or group
# norm (and training batch norm), each with an affine transform or without ("_plain"), and a
# global average pool (`mean`). The traced counters (scalecalc.nn.counting) and the analytic
# one (scalecalc.families.block_costs) both charge through `convention_flops`.
FVCORE_FLOPS_PER_ELEMENT = {
    "batch_norm": 2,
    "batch_norm_plain": 1,
    "norm": 5,
    "norm_plain": 4,
    "mean": 1,
}


def convention_flops(op: str, elements: int, convention: str) -> int:
    """Flops `convention` charges for `op` (a key of FVCORE_FLOPS_PER_ELEMENT) over `elements`."""
    return elements * FVCORE_FLOPS_PER_ELEMENT[op] if convention == "fvcore" else 0


def check_convention(convention: str) -> None:
    """Raise ValueError unless `convention` is one of CONVENTIONS."""
    if convention not in CONVENTIONS:
        raise ValueError(
            f"convention must be one of {', '.join(CONVENTIONS)}, got {shown(convention)}"
        )


@dataclass(frozen=True)
class StageCosts:
    """Costs of one part of a network (stem, stageN or head)."""

    name: str
    flops: int
    params: int
    acts: int


@dataclass(frozen=True)
class Costs:
    """Total and per-part costs, and the ops the counter did not know (name, calls)."""

    flops: int
    params: int
    acts: int
    stages: tuple[StageCosts, ...]
    unsupported: tuple[tuple[str, int], ...] = ()


def costs_from_stages(
    stages: Sequence[StageCosts], unsupported: Iterable[tuple[str, int]] = ()
) -> Costs:
    """Costs whose totals are the sums over `stages`, with the unsupported ops sorted by name."""
    return Costs(
        flops=sum(s.flops for s in stages),
        params=sum(s.params for s in stages),
        acts=sum(s.acts for s in stages),
        stages=tuple(stages),
        unsupported=tuple(sorted(unsupported)),
    )
