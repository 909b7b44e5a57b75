"""The equal-flops summary: per base and flops goal, the strategies ranked by activations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scalecalc.compare import CompareRow

# What the strategies of a group were scaled to: the same factor handed to the scaler (flops
# then differ, as rounding moves each model away from it), or the same flops target, given in
# flops or as a multiple of the base's flops (each model solved for it).
GOAL_KINDS = ("factor", "target_flops", "target_factor")


@dataclass(frozen=True)
class Ranked:
    """One strategy of a group: its row, rank by acts (1 = fewest; ties share a rank), its
    realized flops over the group's goal, its acts over the best's, and any extra measures by
    name (such as measured runtime; None where a model has none)."""

    rank: int
    row: CompareRow
    flops_vs_goal: float
    acts_vs_best: float
    extra: Mapping[str, float | None]

    @property
    def best(self) -> bool:
        """Whether this strategy has the fewest acts of its group."""
        return self.rank == 1


@dataclass(frozen=True)
class EqualFlops:
    """The strategies of one base at one goal, fewest acts first."""

    base: str
    kind: str
    value: float
    goal_flops: int
    ranking: tuple[Ranked, ...]

    @property
    def equal(self) -> bool:
        """Whether every model was solved for the same flops (not merely the same factor)."""
        return self.kind != "factor"

    @property
    def spread(self) -> float:
        """How far apart the realized flops are: largest over smallest, minus 1."""
        flops = [r.row.costs.flops for r in self.ranking]
        return max(flops) / min(flops) - 1


def goal_of(row: CompareRow) -> tuple[str, float] | None:
    """(kind, value) of the flops a scaled row aimed at; None for a base or a time goal."""
    if row.strategy is None or row.time_goal is not None:  # equal time: equal_time.py
        return None
    if row.target_factor is not None:
        return "target_factor", row.target_factor
    if row.target_flops is not None:
        return "target_flops", float(row.target_flops)
    return "factor", row.factor


def equal_flops(
    rows: Sequence[CompareRow], extra: Mapping[str, Mapping[str, float]] | None = None
) -> list[EqualFlops]:
    """Per base and goal (in sweep order; goals by kind as listed in GOAL_KINDS, then value),
    the strategies ranked by acts. `extra` maps a measure's name to its values by row key; each
    ranked entry carries them under that name."""
    groups: dict[tuple[str, str, float], list[CompareRow]] = {}
    for row in rows:
        goal = goal_of(row)
        if goal is not None:
            groups.setdefault((row.base, *goal), []).append(row)
    order = {base: i for i, base in enumerate(dict.fromkeys(row.base for row in rows))}
    keys = sorted(groups, key=lambda k: (order[k[0]], GOAL_KINDS.index(k[1]), k[2]))
    return [_group(*key, groups[key], extra or {}) for key in keys]


def _group(
    base: str,
    kind: str,
    value: float,
    members: list[CompareRow],
    extra: Mapping[str, Mapping[str, float]],
) -> EqualFlops:
    first = members[0]
    if kind == "factor":
        goal = round(value * first.base_costs.flops)
    else:
        assert first.target_flops is not None
        goal = first.target_flops
    ordered = sorted(members, key=lambda r: (r.costs.acts, r.costs.flops))
    fewest = ordered[0].costs.acts
    ranking = tuple(
        Ranked(
            rank=1 + sum(other.costs.acts < row.costs.acts for other in ordered),
            row=row,
            flops_vs_goal=row.costs.flops / goal,
            acts_vs_best=row.costs.acts / fewest,
            extra={name: values.get(row.key) for name, values in extra.items()},
        )
        for row in ordered
    )
    return EqualFlops(base, kind, value, goal, ranking)
