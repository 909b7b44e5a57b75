"""Pure renderers of the equal-flops summary: markdown, JSON records and rich tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scalecalc.compare.run import CompareRow
from scalecalc.tables import decimals, giga, markdown_table, mega, rich_table
from scalecalc.solver import TOLERANCE
from scalecalc.compare.annotations import Measure
from scalecalc.compare.summary import EqualFlops, Ranked

HEADERS = (
    "rank",
    "scaling",
    "s",
    "flops (G)",
    "flops / goal",
    "params (M)",
    "acts (M)",
    "acts / best",
)
ALIGN = "rlrrrrrr"
# The rank cell of a model that is not ranked (its flops are too far from the goal).
UNRANKED = "–"


def title(group: EqualFlops) -> str:
    """One line saying what a summary table holds: the goal, and how the models are ranked,
    or why they are not (flops farther than TOLERANCE from the goal)."""
    goal = f"{giga(group.goal_flops)} GF"
    if group.kind == "target_factor":
        goal = f"{group.base} at {group.value:g}× its flops ({goal})"
    elif group.kind == "factor":
        goal = f"{group.base} at s = {group.value:g} ({goal})"
    else:
        goal = f"{group.base} at {goal}"
    ratios = [r.flops_vs_goal for r in group.ranking]
    if len(ratios) == 1:
        return f"{goal}: one model, flops {_off(ratios)}"
    within = f"±{TOLERANCE:.0%}"
    if not group.ranked:
        return f"{goal}: not ranked, flops {_off(ratios)} (ranking needs {within})"
    unranked = len(ratios) - len(group.ranked)
    if unranked:
        return f"{goal}, fewest acts first; {unranked} over {within} off goal, not ranked"
    return f"{goal}, fewest acts first: flops {_off(ratios)}"


def _off(ratios: Sequence[float]) -> str:
    """How far realized flops are from the goal: percentages, or multiples when far off."""
    low, high = min(ratios), max(ratios)
    if high >= 10:
        return f"{low:.3g}× goal" if low == high else f"{low:.3g}× to {high:.3g}× goal"
    if low == high:
        return f"{low - 1:+.1%} off goal"
    return f"{low - 1:+.1%} to {high - 1:+.1%} off goal"


def _measures(groups: Sequence[EqualFlops]) -> list[Measure]:
    """The measures of the groups, once each by name, in first-seen order."""
    return list({m.name: m for g in groups for m in g.measures}.values())


def _headers(measures: Sequence[Measure]) -> tuple[tuple[str, ...], str]:
    return HEADERS + tuple(m.header for m in measures), ALIGN + "r" * len(measures)


def _cells(entry: Ranked, measures: Sequence[Measure], strategy: str) -> list[str]:
    row = entry.row
    return [
        UNRANKED if entry.rank is None else str(entry.rank),
        strategy,
        f"{row.factor:.3g}",
        giga(row.costs.flops),
        f"{entry.flops_vs_goal:.3f}",
        mega(row.costs.params),
        mega(row.costs.acts),
        decimals(entry.acts_vs_best, 2),
        *(m.cells.get(row.key, "n/a") for m in measures),
    ]


def to_markdown(groups: Sequence[EqualFlops]) -> str:
    """Per base and goal a one-line heading and the ranking; the best in bold."""
    measures = _measures(groups)
    headers, align = _headers(measures)
    sections = []
    for group in groups:
        lines = [
            _cells(r, measures, f"**{r.row.strategy}** (best)" if r.best else str(r.row.strategy))
            for r in group.ranking
        ]
        sections.append(f"### {title(group)}\n\n" + markdown_table(headers, lines, align))
    return "\n".join(sections)


def to_rich(groups: Sequence[EqualFlops]) -> list[Any]:
    """Per base and goal a rich table of the ranking, titled by `title`; the best in bold."""
    measures = _measures(groups)
    headers, align = _headers(measures)
    tables: list[Any] = []
    for group in groups:
        lines = [
            _cells(r, measures, f"{r.row.strategy} (best)" if r.best else str(r.row.strategy))
            for r in group.ranking
        ]
        best = [i for i, r in enumerate(group.ranking) if r.best]
        tables += [rich_table(title(group), headers, align, lines, {"scaling"}, bold=best), ""]
    return tables


def records(groups: Sequence[EqualFlops]) -> list[dict[str, Any]]:
    """The summary as JSON-ready dicts: raw integer counts, full-precision ratios."""
    return [
        {
            "base": group.base,
            "goal": group.kind,
            "value": group.value,
            "goal_flops": group.goal_flops,
            "equal_flops": group.equal,
            "flops_spread": group.spread,
            "flops_tolerance": TOLERANCE,
            "ranking": [_record(entry) for entry in group.ranking],
        }
        for group in groups
    ]


def ranked_record(rank: int, best: bool, row: CompareRow) -> dict[str, Any]:
    """What every summary entry says of its row in JSON: rank, key, strategy, factor, counts."""
    return {
        "rank": rank,
        "best": best,
        "key": row.key,
        "strategy": row.strategy,
        "factor": row.factor,
        "flops": row.costs.flops,
        "params": row.costs.params,
        "acts": row.costs.acts,
    }


def _record(entry: Ranked) -> dict[str, Any]:
    return {
        **ranked_record(entry.rank, entry.best, entry.row),
        "flops_vs_goal": entry.flops_vs_goal,
        "acts_vs_best": entry.acts_vs_best,
        **entry.extra,
    }
