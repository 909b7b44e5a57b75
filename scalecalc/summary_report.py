"""Pure renderers of the equal-flops summary: markdown, JSON records and rich tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from scalecalc.compare import CompareRow
from scalecalc.report import giga, markdown_table, mega, rich_table
from scalecalc.summary import EqualFlops, Ranked

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
# Extra measures a summary may carry, by name: header and how a value (SI units) is shown.
EXTRA_COLUMNS: Mapping[str, tuple[str, Callable[[float], str]]] = {
    "median_s": ("median (ms)", lambda seconds: f"{seconds * 1e3:.1f}"),
    "predicted_s": ("pred. time (ms)", lambda seconds: f"{seconds * 1e3:.3g}"),
}


def title(group: EqualFlops) -> str:
    """One line saying what a summary table holds and whether its flops are equal."""
    if not group.equal:
        factors = [r.row.ratio("flops") for r in group.ranking]
        return (
            f"{group.base} at s = {group.value:g}, fewest acts first: flops NOT equal, "
            f"{min(factors):.2f}× to {max(factors):.2f}× base ({group.spread:.0%} apart)"
        )
    misses = [r.flops_vs_goal - 1 for r in group.ranking]
    goal = f"{giga(group.goal_flops)} GF"
    if group.kind == "target_factor":
        goal = f"{group.value:g}× its flops ({goal})"
    return (
        f"{group.base} at {goal}, fewest acts first: flops {min(misses):+.1%} to "
        f"{max(misses):+.1%} off the goal"
    )


def _extra_names(groups: Sequence[EqualFlops]) -> list[str]:
    return list(dict.fromkeys(name for g in groups for r in g.ranking for name in r.extra))


def _headers(groups: Sequence[EqualFlops]) -> tuple[tuple[str, ...], str]:
    extra = tuple(EXTRA_COLUMNS[name][0] for name in _extra_names(groups))
    return HEADERS + extra, ALIGN + "r" * len(extra)


def _cells(entry: Ranked, names: Sequence[str], strategy: str) -> list[str]:
    row = entry.row
    cells = [
        str(entry.rank),
        strategy,
        f"{row.factor:.3g}",
        giga(row.costs.flops),
        f"{entry.flops_vs_goal:.3f}",
        mega(row.costs.params),
        mega(row.costs.acts),
        f"{entry.acts_vs_best:.2f}",
    ]
    for name in names:
        value = entry.extra.get(name)
        cells.append("n/a" if value is None else EXTRA_COLUMNS[name][1](value))
    return cells


def to_markdown(groups: Sequence[EqualFlops]) -> str:
    """Per base and goal a one-line heading and the ranking; the best in bold."""
    headers, align = _headers(groups)
    names = _extra_names(groups)
    sections = []
    for group in groups:
        lines = [
            _cells(r, names, f"**{r.row.strategy}** (best)" if r.best else str(r.row.strategy))
            for r in group.ranking
        ]
        sections.append(f"### {title(group)}\n\n" + markdown_table(headers, lines, align))
    return "\n".join(sections)


def to_rich(groups: Sequence[EqualFlops]) -> list[Any]:
    """Per base and goal a rich table of the ranking, titled by `title`; the best in bold."""
    headers, align = _headers(groups)
    names = _extra_names(groups)
    tables: list[Any] = []
    for group in groups:
        lines = [
            _cells(r, names, f"{r.row.strategy} (best)" if r.best else str(r.row.strategy))
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
