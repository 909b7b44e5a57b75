"""The house style of every report (markdown and terminal tables, units) and the renderers of
`scalecalc count`. Units exist only in renderers; data carries raw integers."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from scalecalc.config import ModelConfig
from scalecalc.costs import Costs

FORMATS = ("table", "md", "json", "csv")


@dataclass(frozen=True)
class CountRow:
    """One counted model: its config, the convention used and the costs."""

    model: ModelConfig
    convention: str
    costs: Costs


def giga(value: int) -> str:
    """Flops as billions with three decimals (4089184256 -> '4.089')."""
    return f"{value / 1e9:.3f}"


def mega(value: int) -> str:
    """Params or acts as millions with three decimals (25557032 -> '25.557')."""
    return f"{value / 1e6:.3f}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> str:
    """A GitHub markdown table; `align` has one letter per column, 'l' or 'r'."""
    rules = [":---" if a == "l" else "---:" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(rules) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def rich_header(header: str) -> str:
    """Narrow headers for a terminal, on two lines: units or the last word on the second line,
    ratio columns as a bare ×."""
    if header.endswith(" ×"):
        return "×"
    if " (" in header or ", " in header:
        return header.replace(" (", "\n(").replace(", ", ",\n")
    return "\n".join(header.rsplit(" ", 1))


def rich_table(
    title: str,
    headers: Sequence[str],
    align: str,
    lines: Sequence[Sequence[str]],
    folding: Collection[str] = (),
    caption: str | None = None,
    bold: Collection[int] = (),
) -> Any:
    """A rich table for a terminal. Cells are never cut: each column keeps the width of its
    longest cell, except the columns named in `folding` (labels, and lists such as stage
    widths), which fold between their words or items on a narrow terminal, never narrower than
    the longest of them. Rows whose index is in `bold` stand out."""
    from rich import box
    from rich.table import Table

    table = Table(
        title=title,
        caption=caption,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 0),
        show_edge=False,
    )
    for index, (header, side) in enumerate(zip(headers, align)):
        folds = header in folding
        cells = [line[index] for line in lines]
        longest = max(map(len, cells), default=0)
        words = [word for cell in cells for word in cell.replace("-", " ").split()]
        table.add_column(
            rich_header(header),
            justify="left" if side == "l" else "right",
            no_wrap=not folds,
            overflow="fold",
            min_width=max(map(len, words + header.split())) if folds else longest,
        )
    for index, line in enumerate(lines):
        # Spaces let a list fold between its items rather than inside a number.
        table.add_row(
            *(cell.replace("-", " ") if h in folding else cell for cell, h in zip(line, headers)),
            style="bold" if index in bold else None,
        )
    return table


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
