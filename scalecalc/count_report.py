"""The renderers of `scalecalc count`: per model, its parts (stem, stages, head) and total."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scalecalc.config import ModelConfig
from scalecalc.costs import Costs
from scalecalc.tables import giga, markdown_table, mega, rich_table


@dataclass(frozen=True)
class CountRow:
    """One counted model: its config, the convention used and the costs."""

    model: ModelConfig
    convention: str
    costs: Costs


def _count_record(row: CountRow) -> dict[str, Any]:
    costs = row.costs
    return {
        "name": row.model.name,
        "family": row.model.family,
        "resolution": row.model.spec.resolution,
        "convention": row.convention,
        "flops": costs.flops,
        "params": costs.params,
        "acts": costs.acts,
        "stages": [
            {"name": s.name, "flops": s.flops, "params": s.params, "acts": s.acts}
            for s in costs.stages
        ],
        "unsupported_ops": dict(costs.unsupported),
    }


def counts_to_json(rows: Sequence[CountRow]) -> str:
    """Raw integers, stable sorted keys, one object per model in input order."""
    return json.dumps([_count_record(r) for r in rows], indent=2, sort_keys=True) + "\n"


def counts_to_csv(rows: Sequence[CountRow]) -> str:
    """One line per model part plus a `total` line per model, raw integers."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["name", "family", "resolution", "convention", "part", "flops", "params", "acts"]
    )
    for row in rows:
        head = [row.model.name, row.model.family, row.model.spec.resolution, row.convention]
        for stage in row.costs.stages:
            writer.writerow(head + [stage.name, stage.flops, stage.params, stage.acts])
        writer.writerow(head + ["total", row.costs.flops, row.costs.params, row.costs.acts])
    return out.getvalue()


def _part_lines(row: CountRow) -> list[list[str]]:
    lines = [[s.name, giga(s.flops), mega(s.params), mega(s.acts)] for s in row.costs.stages]
    costs = row.costs
    lines.append(["**total**", giga(costs.flops), mega(costs.params), mega(costs.acts)])
    return lines


COUNT_HEADERS = ("part", "flops (G)", "params (M)", "acts (M)")


def counts_to_markdown(rows: Sequence[CountRow]) -> str:
    """Per model: a heading and a table of stem, stages, head and total."""
    sections = []
    for row in rows:
        title = (
            f"### {row.model.name} ({row.model.family}, {row.model.spec.resolution}px, "
            f"{row.convention} convention)\n\n"
        )
        sections.append(title + markdown_table(COUNT_HEADERS, _part_lines(row), "lrrr"))
    return "\n".join(sections)


def counts_to_rich(rows: Sequence[CountRow]) -> list[Any]:
    """Rich tables for a terminal, one per model."""
    return [
        rich_table(
            f"{row.model.name} ({row.model.family}, {row.model.spec.resolution}px, "
            f"{row.convention})",
            COUNT_HEADERS,
            "lrrr",
            [[cell.replace("**", "") for cell in line] for line in _part_lines(row)],
        )
        for row in rows
    ]


COUNT_RENDERERS = {
    "json": counts_to_json,
    "csv": counts_to_csv,
    "md": counts_to_markdown,
    "table": counts_to_rich,
}
