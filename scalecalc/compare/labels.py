"""What each row, base and spec field is called in every table, file and plot of a compare run,
and how rows group by base."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scalecalc.compare.run import CompareRow, changed_fields
from scalecalc.sweep import format_count
from scalecalc.tables import giga, mega

# Spec fields the shape columns already show (a ViT's depth and width are its layers and size).
SHOWN_FIELDS = ("family", "resolution", "depths", "widths", "num_layers", "hidden_size")
FIELD_HEADERS = {
    "se_ratio": "SE ratio",
    "num_heads": "heads",
    "mlp_size": "MLP size",
    "mlp_ratio": "MLP ratio",
    "num_classes": "classes",
    "patch_size": "patch (px)",
}


def dashed(values: Sequence[int]) -> str:
    """Integers joined by dashes, as tables and CSV cells write depths and widths."""
    return "-".join(str(v) for v in values)


def scaling_label(row: CompareRow) -> str:
    """How a row was scaled: "base", the strategy, or the strategy and its flops target."""
    if row.strategy is None:
        return "base"
    if row.time_goal is not None:
        return f"{row.strategy} {row.time_goal.label}"
    target = target_label(row)
    return row.strategy if target is None else f"{row.strategy} {target}"


def target_label(row: CompareRow) -> str | None:
    """A solved row's flops target as every table and plot writes it: a multiple of the base's
    flops (`@4x`) or flops (`@16G`); None for a row scaled by a factor."""
    if row.target_factor is not None:
        return f"@{row.target_factor:g}x"
    if row.target_flops is not None:
        return f"@{format_count(row.target_flops)}"
    return None


def field_value(value: Any) -> str:
    """A spec field's value in a table cell: lists dashed, numbers short, booleans yes/no."""
    if isinstance(value, (list, tuple)):
        return dashed(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def shown_changes(rows: Sequence[CompareRow]) -> list[str]:
    """Spec fields that differ between the rows, beyond those the shape columns show."""
    return [name for name in changed_fields(rows) if name not in SHOWN_FIELDS]


def field_header(name: str) -> str:
    """A spec field's column header: `group_widths` -> "group widths"."""
    return FIELD_HEADERS.get(name, name.replace("_", " "))


def by_base(rows: Sequence[CompareRow]) -> dict[str, list[CompareRow]]:
    """Rows grouped by base model, in first-seen order."""
    groups: dict[str, list[CompareRow]] = {}
    for row in rows:
        groups.setdefault(row.base, []).append(row)
    return groups


def base_title(base_rows: Sequence[CompareRow]) -> str:
    """The heading of one base's table: name, family, convention and base costs."""
    first = base_rows[0]
    costs = first.base_costs
    return (
        f"{first.base} ({first.family}, {first.convention} convention): base "
        f"{giga(costs.flops)} GF, {mega(costs.params)} M params, {mega(costs.acts)} M acts"
    )
