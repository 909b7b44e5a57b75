"""Pure renderers of sweep rows and fitted exponents: markdown, JSON, CSV and rich tables."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from scalecalc.compare import MEASURES, CompareRow, Exponent
from scalecalc.report import giga, markdown_table, mega
from scalecalc.sweep import format_count

ROW_HEADERS = (
    "scaling", "s", "res", "depths", "widths",
    "flops (G)", "flops ×", "params (M)", "params ×", "acts (M)", "acts ×",
)
ROW_ALIGN = "lrrllrrrrrr"
STAGE_HEADERS = ("depths", "widths")
EXPONENT_HEADERS = (
    "base", "strategy", "acts k", "acts k, plain net", "params k", "params k, plain net", "points"
)
EXPONENT_ALIGN = "llrrrrr"
EXPONENT_NOTE = (
    "k fitted by least squares of log(measure) on log(flops) over each base and its scaled "
    "models; *plain net* is the paper's prediction for a network with flops ∝ d·w²·r², "
    "params ∝ d·w², acts ∝ d·w·r²."
)
CSV_COLUMNS = (
    "key", "base", "family", "strategy", "factor", "target_flops", "resolution", "depths",
    "widths", "flops", "params", "acts", "flops_ratio", "params_ratio", "acts_ratio",
)


def _dashed(values: Sequence[int]) -> str:
    return "-".join(str(v) for v in values)


def _scaling_label(row: CompareRow) -> str:
    if row.strategy is None:
        return "base"
    if row.target_flops is not None:
        return f"{row.strategy} @{format_count(row.target_flops)}"
    return row.strategy


def _row_cells(row: CompareRow) -> list[str]:
    return [
        _scaling_label(row),
        f"{row.factor:.3g}",
        str(row.spec.resolution),
        _dashed(row.depths),
        _dashed(row.widths),
        giga(row.costs.flops),
        f"{row.ratio('flops'):.2f}",
        mega(row.costs.params),
        f"{row.ratio('params'):.2f}",
        mega(row.costs.acts),
        f"{row.ratio('acts'):.2f}",
    ]


def _exponent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _exponent_cells(fit: Exponent) -> list[str]:
    return [
        fit.base,
        fit.strategy,
        _exponent(fit.acts),
        _exponent(fit.predicted_acts),
        _exponent(fit.params),
        _exponent(fit.predicted_params),
        str(fit.points),
    ]


def _by_base(rows: Sequence[CompareRow]) -> dict[str, list[CompareRow]]:
    groups: dict[str, list[CompareRow]] = {}
    for row in rows:
        groups.setdefault(row.base, []).append(row)
    return groups


def _title(base_rows: Sequence[CompareRow]) -> str:
    first = base_rows[0]
    costs = first.base_costs
    return (
        f"{first.base} ({first.family}, {first.convention} convention): base "
        f"{giga(costs.flops)} GF, {mega(costs.params)} M params, {mega(costs.acts)} M acts"
    )


def to_markdown(rows: Sequence[CompareRow], fits: Sequence[Exponent]) -> str:
    """Per base a heading and a table of its models; then the fitted exponents."""
    sections = [
        f"### {_title(group)}\n\n"
        + markdown_table(ROW_HEADERS, [_row_cells(r) for r in group], ROW_ALIGN)
        for group in _by_base(rows).values()
    ]
    if fits:
        sections.append(
            "### Fitted exponents: measure ∝ flops^k\n\n"
            + markdown_table(EXPONENT_HEADERS, [_exponent_cells(f) for f in fits], EXPONENT_ALIGN)
            + "\n"
            + EXPONENT_NOTE
            + "\n"
        )
    return "\n".join(sections)


def _row_record(row: CompareRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "base": row.base,
        "family": row.family,
        "strategy": row.strategy,
        "factor": row.factor,
        "target_flops": row.target_flops,
        "resolution": row.spec.resolution,
        "depths": list(row.depths),
        "widths": list(row.widths),
        "flops": row.costs.flops,
        "params": row.costs.params,
        "acts": row.costs.acts,
        "ratios": {m: row.ratio(m) for m in MEASURES},
        "unsupported_ops": dict(row.costs.unsupported),
    }


def _rounded(value: float | None) -> float | None:
    # Six decimals: far below what the fit can tell, and stable across libm implementations.
    return None if value is None else round(value, 6)


def _exponent_record(fit: Exponent) -> dict[str, Any]:
    return {
        "base": fit.base,
        "strategy": fit.strategy,
        "acts": _rounded(fit.acts),
        "params": _rounded(fit.params),
        "predicted_acts": _rounded(fit.predicted_acts),
        "predicted_params": _rounded(fit.predicted_params),
        "points": fit.points,
    }


def to_json(rows: Sequence[CompareRow], fits: Sequence[Exponent], convention: str) -> str:
    """Rows (raw integers, in sweep order) and exponents under their own key; keys sorted."""
    document = {
        "convention": convention,
        "rows": [_row_record(r) for r in rows],
        "exponents": [_exponent_record(f) for f in fits],
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def to_csv(rows: Sequence[CompareRow]) -> str:
    """One line per model, raw integers; ratios as full-precision floats."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.key, row.base, row.family, row.strategy or "", row.factor,
                "" if row.target_flops is None else row.target_flops, row.spec.resolution,
                _dashed(row.depths), _dashed(row.widths),
                row.costs.flops, row.costs.params, row.costs.acts,
                row.ratio("flops"), row.ratio("params"), row.ratio("acts"),
            ]
        )
    return out.getvalue()


def _rich_header(header: str) -> str:
    """Narrow headers for a terminal: units on a second line, ratio columns as a bare ×."""
    if header.endswith(" ×"):
        return "×"
    return header.replace(" (", "\n(").replace(", ", ",\n")


def to_rich(rows: Sequence[CompareRow], fits: Sequence[Exponent]) -> list[Any]:
    """Rich tables for a terminal: one per base, then the exponents."""
    from rich import box
    from rich.table import Table

    def table(title: str, headers: Sequence[str], align: str, lines: list[list[str]]) -> Table:
        result = Table(
            title=title, box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 0), show_edge=False
        )
        folds = [header in STAGE_HEADERS for header in headers]
        for header, side, fold in zip(headers, align, folds):
            # Numbers never wrap; on a narrow terminal the stage lists fold instead.
            result.add_column(
                _rich_header(header),
                justify="left" if side == "l" else "right",
                no_wrap=not fold,
                overflow="fold" if fold else "ellipsis",
                min_width=7 if fold else None,
            )
        for line in lines:
            # Spaces let a stage list wrap between stages rather than inside a number.
            result.add_row(*(c.replace("-", " ") if f else c for c, f in zip(line, folds)))
        return result

    tables: list[Any] = []
    for group in _by_base(rows).values():
        lines = [_row_cells(r) for r in group]
        tables += [table(_title(group), ROW_HEADERS, ROW_ALIGN, lines), ""]
    if fits:
        lines = [_exponent_cells(f) for f in fits]
        tables.append(
            table("Fitted exponents: measure ∝ flops^k", EXPONENT_HEADERS, EXPONENT_ALIGN, lines)
        )
    return tables
