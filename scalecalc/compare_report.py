"""Pure renderers of sweep rows and fitted exponents: markdown, JSON, CSV and rich tables."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scalecalc.compare import CompareRow, Exponent
from scalecalc.costs import MEASURES
from scalecalc.report import giga, markdown_table, mega, rich_table
from scalecalc.sweep import format_count

ROW_HEADERS = (
    "scaling",
    "s",
    "res",
    "depths",
    "widths",
    "flops (G)",
    "flops ×",
    "params (M)",
    "params ×",
    "acts (M)",
    "acts ×",
)
ROW_ALIGN = "lrrllrrrrrr"
STAGE_HEADERS = ("depths", "widths")
EXPONENT_HEADERS = (
    "base",
    "strategy",
    "acts k",
    "acts k, plain net",
    "params k",
    "params k, plain net",
    "points",
)
EXPONENT_ALIGN = "llrrrrr"
EXPONENT_NOTE = (
    "k fitted by least squares of log(measure) on log(flops) over each base and its scaled "
    "models; *plain net* is the paper's prediction for a network with flops ∝ d·w²·r², "
    "params ∝ d·w², acts ∝ d·w·r²."
)
CSV_COLUMNS = (
    "key",
    "base",
    "family",
    "strategy",
    "factor",
    "target_flops",
    "resolution",
    "depths",
    "widths",
    "flops",
    "params",
    "acts",
    "flops_ratio",
    "params_ratio",
    "acts_ratio",
)
RUNTIME_HEADERS = ("median (ms)", "images/s")
RUNTIME_CSV_COLUMNS = ("median_s", "throughput")


@dataclass(frozen=True)
class Runtimes:
    """Runtime measured by `scalecalc bench`, by row key: (median seconds per iteration,
    images per second); `setup` says how it was measured."""

    setup: str
    by_key: Mapping[str, tuple[float, float]]


def _dashed(values: Sequence[int]) -> str:
    return "-".join(str(v) for v in values)


def scaling_label(row: CompareRow) -> str:
    """How a row was scaled: "base", the strategy, or the strategy and its flops target."""
    if row.strategy is None:
        return "base"
    if row.target_flops is not None:
        return f"{row.strategy} @{format_count(row.target_flops)}"
    return row.strategy


def _row_cells(row: CompareRow) -> list[str]:
    return [
        scaling_label(row),
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


def _headers(runtimes: Runtimes | None) -> tuple[tuple[str, ...], str]:
    """Row headers and alignment, with the runtime columns when there are runtimes."""
    if runtimes is None:
        return ROW_HEADERS, ROW_ALIGN
    return ROW_HEADERS + RUNTIME_HEADERS, ROW_ALIGN + "rr"


def _cells(row: CompareRow, runtimes: Runtimes | None) -> list[str]:
    if runtimes is None:
        return _row_cells(row)
    measured = runtimes.by_key.get(row.key)
    if measured is None:
        return _row_cells(row) + ["n/a", "n/a"]
    return _row_cells(row) + [f"{measured[0] * 1e3:.1f}", f"{measured[1]:.1f}"]


def _runtime_note(runtimes: Runtimes) -> str:
    return f"Runtime measured by `scalecalc bench`: {runtimes.setup}.\n"


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


def to_markdown(
    rows: Sequence[CompareRow], fits: Sequence[Exponent], runtimes: Runtimes | None = None
) -> str:
    """Per base a heading and a table of its models (with runtime columns when given); then the
    fitted exponents."""
    headers, align = _headers(runtimes)
    sections = [
        f"### {base_title(group)}\n\n"
        + markdown_table(headers, [_cells(r, runtimes) for r in group], align)
        for group in by_base(rows).values()
    ]
    if runtimes is not None:
        sections.append(_runtime_note(runtimes))
    if fits:
        sections.append(
            "### Fitted exponents: measure ∝ flops^k\n\n"
            + markdown_table(EXPONENT_HEADERS, [_exponent_cells(f) for f in fits], EXPONENT_ALIGN)
            + "\n"
            + EXPONENT_NOTE
            + "\n"
        )
    return "\n".join(sections)


def row_record(row: CompareRow) -> dict[str, Any]:
    """A row as a JSON-ready dict of raw integers and ratios."""
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


def _with_runtime(record: dict[str, Any], runtimes: Runtimes | None) -> dict[str, Any]:
    if runtimes is None:
        return record
    measured = runtimes.by_key.get(record["key"])
    runtime = None if measured is None else {"median_s": measured[0], "throughput": measured[1]}
    return {**record, "runtime": runtime}


def to_json(
    rows: Sequence[CompareRow],
    fits: Sequence[Exponent],
    convention: str,
    runtimes: Runtimes | None = None,
) -> str:
    """Rows (raw integers, in sweep order) and exponents under their own key; keys sorted.
    With runtimes, each row has `runtime` (null where not measured) and `runtime_setup`."""
    document: dict[str, Any] = {
        "convention": convention,
        "rows": [_with_runtime(row_record(r), runtimes) for r in rows],
        "exponents": [_exponent_record(f) for f in fits],
    }
    if runtimes is not None:
        document["runtime_setup"] = runtimes.setup
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def to_csv(rows: Sequence[CompareRow], runtimes: Runtimes | None = None) -> str:
    """One line per model, raw integers; ratios as full-precision floats; with runtimes, also
    median seconds and images per second (empty where not measured)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS + (() if runtimes is None else RUNTIME_CSV_COLUMNS))
    for row in rows:
        line = [
            row.key,
            row.base,
            row.family,
            row.strategy or "",
            row.factor,
            "" if row.target_flops is None else row.target_flops,
            row.spec.resolution,
            _dashed(row.depths),
            _dashed(row.widths),
            row.costs.flops,
            row.costs.params,
            row.costs.acts,
            row.ratio("flops"),
            row.ratio("params"),
            row.ratio("acts"),
        ]
        if runtimes is not None:
            line += list(runtimes.by_key.get(row.key, ("", "")))
        writer.writerow(line)
    return out.getvalue()


def to_rich(
    rows: Sequence[CompareRow], fits: Sequence[Exponent], runtimes: Runtimes | None = None
) -> list[Any]:
    """Rich tables for a terminal: one per base (with runtime columns when given), then the
    exponents."""

    def table(title: str, headers: Sequence[str], align: str, lines: list[list[str]]) -> Any:
        return rich_table(title, headers, align, lines, folding=STAGE_HEADERS)

    tables: list[Any] = []
    headers, align = _headers(runtimes)
    for group in by_base(rows).values():
        lines = [_cells(r, runtimes) for r in group]
        tables += [table(base_title(group), headers, align, lines), ""]
    if runtimes is not None:
        tables.append(_runtime_note(runtimes))
    if fits:
        lines = [_exponent_cells(f) for f in fits]
        tables.append(
            table("Fitted exponents: measure ∝ flops^k", EXPONENT_HEADERS, EXPONENT_ALIGN, lines)
        )
    return tables


def renderer(
    fmt: str,
    rows: Sequence[CompareRow],
    fits: Sequence[Exponent],
    convention: str,
    runtimes: Runtimes | None = None,
) -> Callable[[], Any]:
    """The renderer of format `fmt` (one of report.FORMATS) over a compare run."""
    renderers: dict[str, Callable[[], Any]] = {
        "json": lambda: to_json(rows, fits, convention, runtimes),
        "csv": lambda: to_csv(rows, runtimes),
        "md": lambda: to_markdown(rows, fits, runtimes),
        "table": lambda: to_rich(rows, fits, runtimes),
    }
    return renderers[fmt]
