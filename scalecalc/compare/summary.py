"""The equal-flops summary: per base and flops goal, the strategies ranked by activations
where their flops are equal (each within TOLERANCE of the goal)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scalecalc.compare.annotations import Measure
from scalecalc.compare.run import CompareRow
from scalecalc.solver import TOLERANCE

# What the strategies of a group were scaled to: the same factor handed to the scaler (flops
# then differ, as rounding moves each model away from it), or the same flops target, given in
# flops or as a multiple of the base's flops (each model solved for it).
GOAL_KINDS = ("factor", "target_flops", "target_factor")


@dataclass(frozen=True)
class Ranked:
    """One strategy of a group: its row; its rank by acts among the group's models at the goal
    (1 = fewest; ties share a rank; None when not ranked); its realized flops over the goal;
    its acts over the best's (None when not ranked); and the group's measures by name, with
    the fields each measure adds (a predicted time's error and extrapolation)."""

    rank: int | None
    row: CompareRow
    flops_vs_goal: float
    acts_vs_best: float | None
    extra: Mapping[str, Any]

    @property
    def best(self) -> bool:
        """Whether this strategy has the fewest acts of those ranked."""
        return self.rank == 1


@dataclass(frozen=True)
class EqualFlops:
    """The strategies of one base at one goal: those at the goal (within TOLERANCE of its
    flops) ranked, fewest acts first, when there are two or more; then the others, unranked."""

    base: str
    kind: str
    value: float
    goal_flops: int
    ranking: tuple[Ranked, ...]
    measures: tuple[Measure, ...] = ()

    @property
    def equal(self) -> bool:
        """Whether every model's flops are within TOLERANCE of the goal."""
        return all(at_goal(r.row.costs.flops, self.goal_flops) for r in self.ranking)

    @property
    def ranked(self) -> tuple[Ranked, ...]:
        """The models given a rank."""
        return tuple(r for r in self.ranking if r.rank is not None)

    @property
    def spread(self) -> float:
        """How far apart the realized flops are: largest over smallest, minus 1."""
        flops = [r.row.costs.flops for r in self.ranking]
        return max(flops) / min(flops) - 1


def at_goal(flops: int, goal: int) -> bool:
    """Whether `flops` count as at `goal`: within TOLERANCE of it, the bound included."""
    return abs(flops - goal) <= TOLERANCE * goal


def goal_of(row: CompareRow) -> tuple[str, float] | None:
    """(kind, value) of the flops a scaled row aimed at; None for a base or a time goal."""
    if row.strategy is None or row.time_goal is not None:  # equal time: equal_time.py
        return None
    if row.target_factor is not None:
        return "target_factor", row.target_factor
    if row.target_flops is not None:
        return "target_flops", float(row.target_flops)
    return "factor", row.factor


def equal_flops(rows: Sequence[CompareRow], measures: Sequence[Measure] = ()) -> list[EqualFlops]:
    """Per base and goal the strategies, ranked where their flops allow: first the groups
    solved for a flops target (equal flops), then those scaled by a nominal factor; within
    each, bases in sweep order, goals by kind as listed in GOAL_KINDS, then value. Each entry
    carries the `measures`' values under their names."""
    groups: dict[tuple[str, str, float], list[CompareRow]] = {}
    for row in rows:
        goal = goal_of(row)
        if goal is not None:
            groups.setdefault((row.base, *goal), []).append(row)
    order = {base: i for i, base in enumerate(dict.fromkeys(row.base for row in rows))}
    keys = sorted(
        groups,
        key=lambda k: (k[1] == "factor", order[k[0]], GOAL_KINDS.index(k[1]), k[2]),
    )
    return [_group(*key, groups[key], tuple(measures)) for key in keys]


def _group(
    base: str,
    kind: str,
    value: float,
    members: list[CompareRow],
    measures: tuple[Measure, ...],
) -> EqualFlops:
    first = members[0]
    if kind == "factor":
        goal = max(1, round(value * first.base_costs.flops))
    else:
        assert first.target_flops is not None
        goal = first.target_flops
    by_acts = sorted(members, key=lambda r: (r.costs.acts, r.costs.flops))
    near = [row for row in by_acts if at_goal(row.costs.flops, goal)]
    # One model at the goal has nothing to be ranked against.
    ranked = near if len(near) >= 2 else []
    fewest = ranked[0].costs.acts if ranked else 0
    keys = {row.key for row in ranked}
    ranking = tuple(
        Ranked(
            rank=1 + sum(other.costs.acts < row.costs.acts for other in ranked)
            if row.key in keys
            else None,
            row=row,
            flops_vs_goal=row.costs.flops / goal,
            acts_vs_best=row.costs.acts / fewest if row.key in keys else None,
            extra={
                name: value
                for m in measures
                for name, value in {
                    m.name: m.values.get(row.key),
                    **m.fields.get(row.key, {}),
                }.items()
            },
        )
        for row in ranked + [row for row in by_acts if row.key not in keys]
    )
    return EqualFlops(base, kind, value, goal, ranking, measures)
