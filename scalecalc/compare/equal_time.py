"""The equal-time summary: per base and time goal, the strategies ranked by what the time buys
(flops, then params, largest first), with acts and predicted time beside; and its renderers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scalecalc.compare.annotations import Measure
from scalecalc.compare.run import CompareRow
from scalecalc.tables import giga, markdown_table, mega, rich_table
from scalecalc.compare.summary_report import ranked_record
from scalecalc.compare.time_goals import KINDS, TimeGoal

HEADERS = (
    "rank",
    "scaling",
    "s",
    "flops (G)",
    "flops / best",
    "params (M)",
    "acts (M)",
    "pred. time (ms)",
    "time / goal",
)
ALIGN = "rlrrrrrrr"


@dataclass(frozen=True)
class TimeRanked:
    """One strategy of a group: its row, rank by flops then params (1 = most; ties share a
    rank), its flops over the group's most, its predicted seconds per image and over the goal,
    that time as its table cell shows it (extrapolation mark and error) and the prediction's
    JSON fields (extrapolated, time_error_pct, time_error_region)."""

    rank: int
    row: CompareRow
    flops_vs_best: float
    seconds: float
    time_vs_goal: float
    cell: str
    fields: Mapping[str, Any]

    @property
    def best(self) -> bool:
        """Whether this strategy buys the most flops (then params) in the time."""
        return self.rank == 1


@dataclass(frozen=True)
class EqualTime:
    """The strategies of one base at one time goal, most flops first."""

    base: str
    goal: TimeGoal
    ranking: tuple[TimeRanked, ...]


def equal_time(rows: Sequence[CompareRow], predicted: Measure) -> list[EqualTime]:
    """Per base and time goal (in sweep order; times, then multiples, each ascending), the
    strategies ranked by flops then params; `predicted` is each row's time per image."""
    groups: dict[tuple[str, str, float], list[CompareRow]] = {}
    for row in rows:
        if row.time_goal is not None:
            key = (row.base, row.time_goal.kind, row.time_goal.value)
            groups.setdefault(key, []).append(row)
    order = {base: i for i, base in enumerate(dict.fromkeys(row.base for row in rows))}
    keys = sorted(groups, key=lambda k: (order[k[0]], KINDS.index(k[1]), k[2]))
    return [_group(groups[key], predicted) for key in keys]


def _group(members: list[CompareRow], predicted: Measure) -> EqualTime:
    goal = members[0].time_goal
    assert goal is not None
    buys = lambda row: (row.costs.flops, row.costs.params)  # noqa: E731
    ordered = sorted(members, key=buys, reverse=True)
    most = ordered[0].costs.flops
    ranking = tuple(
        TimeRanked(
            rank=1 + sum(buys(other) > buys(row) for other in ordered),
            row=row,
            flops_vs_best=row.costs.flops / most,
            seconds=predicted.values[row.key],
            time_vs_goal=predicted.values[row.key] / goal.seconds_per_image,
            cell=predicted.cells[row.key],
            fields=predicted.fields.get(row.key, {}),
        )
        for row in ordered
    )
    return EqualTime(members[0].base, goal, ranking)


def title(group: EqualTime) -> str:
    """One line: the base, the goal in time per image and how close the models came."""
    goal = group.goal
    per_image = f"{goal.seconds_per_image * 1e3:.4g} ms per image"
    if goal.kind == "target_time_factor":
        what = f"{goal.value:g}× its predicted time ({per_image})"
    elif goal.per_run:
        what = f"a run of {goal.label[1:]} ({per_image})"
    else:
        what = per_image
    misses = [r.time_vs_goal - 1 for r in group.ranking]
    return (
        f"{group.base} at {what}, most flops first: predicted time {min(misses):+.1%} to "
        f"{max(misses):+.1%} off the goal"
    )


def _cells(entry: TimeRanked, strategy: str) -> list[str]:
    row = entry.row
    return [
        str(entry.rank),
        strategy,
        f"{row.factor:.3g}",
        giga(row.costs.flops),
        f"{entry.flops_vs_best:.3f}",
        mega(row.costs.params),
        mega(row.costs.acts),
        entry.cell,
        f"{entry.time_vs_goal:.3f}",
    ]


def to_markdown(groups: Sequence[EqualTime]) -> str:
    """Per base and goal a one-line heading and the ranking; the best in bold."""
    sections = []
    for group in groups:
        lines = [
            _cells(r, f"**{r.row.strategy}** (best)" if r.best else str(r.row.strategy))
            for r in group.ranking
        ]
        sections.append(f"### {title(group)}\n\n" + markdown_table(HEADERS, lines, ALIGN))
    return "\n".join(sections)


def to_rich(groups: Sequence[EqualTime]) -> list[Any]:
    """Per base and goal a rich table of the ranking, titled by `title`; the best in bold."""
    tables: list[Any] = []
    for group in groups:
        lines = [
            _cells(r, f"{r.row.strategy} (best)" if r.best else str(r.row.strategy))
            for r in group.ranking
        ]
        best = [i for i, r in enumerate(group.ranking) if r.best]
        tables += [rich_table(title(group), HEADERS, ALIGN, lines, {"scaling"}, bold=best), ""]
    return tables


def records(groups: Sequence[EqualTime]) -> list[dict[str, Any]]:
    """The summary as JSON-ready dicts, beside the equal-flops ones in `summary`: `goal` is
    target_time or target_time_factor; raw integer counts, full-precision times."""
    return [
        {
            "base": group.base,
            "goal": group.goal.kind,
            "value": group.goal.value,
            "per_run": group.goal.per_run,
            "goal_seconds_per_image": group.goal.seconds_per_image,
            "equal_time": True,
            "ranking": [_record(entry) for entry in group.ranking],
        }
        for group in groups
    ]


def _record(entry: TimeRanked) -> dict[str, Any]:
    return {
        **ranked_record(entry.rank, entry.best, entry.row),
        "flops_vs_best": entry.flops_vs_best,
        "predicted_s": entry.seconds,
        **entry.fields,
        "time_vs_goal": entry.time_vs_goal,
    }
