"""The house style of every report: markdown and terminal tables, and units. Units exist only in
renderers; data carries raw integers."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any


FORMATS = ("table", "md", "json", "csv")


def giga(value: int) -> str:
    """Flops as billions with three decimals (4089184256 -> '4.089')."""
    return f"{value / 1e9:.3f}"


def mega(value: int) -> str:
    """Params or acts as millions with three decimals (25557032 -> '25.557')."""
    return f"{value / 1e6:.3f}"


def decimals(value: float | None, places: int) -> str:
    """`value` to `places` decimals, or n/a where there is none (a fit of too few points)."""
    return "n/a" if value is None else f"{value:.{places}f}"


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
