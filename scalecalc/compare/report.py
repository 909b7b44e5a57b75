"""Pure renderers of sweep rows and fitted exponents: markdown, JSON, CSV and rich tables."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

from scalecalc.compare import equal_time
from scalecalc.compare import summary_report
from scalecalc.compare.annotations import Annotation
from scalecalc.compare.labels import (
    base_title,
    by_base,
    dashed,
    field_header,
    field_value,
    scaling_label,
    shown_changes,
)
from scalecalc.compare.run import CompareRow, Exponent
from scalecalc.costs import MEASURES
from scalecalc.tables import decimals, giga, markdown_table, mega, rich_table
from scalecalc.compare.summary import EqualFlops, equal_flops

SHAPE_HEADERS = ("scaling", "s", "res (px)", "depths", "widths")
SHAPE_ALIGN = "lrrll"
COST_HEADERS = (
    "flops (G)",
    "flops ×",
    "params (M)",
    "params ×",
    "acts (M)",
    "acts ×",
)
COST_ALIGN = "rrrrrr"
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
EXPONENT_NOTE = textwrap.fill(
    "k fitted by least squares of log(measure) on log(flops) over each base and its scaled "
    "models; *plain net* is the paper's prediction for a network with flops ∝ d·w²·r², "
    "params ∝ d·w², acts ∝ d·w·r².",
    width=100,
)
CSV_COLUMNS = (
    "key",
    "base",
    "family",
    "strategy",
    "factor",
    "target_flops",
    "target_factor",
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


def _row_cells(row: CompareRow, fields: Sequence[str]) -> list[str]:
    spec = row.spec.to_dict()
    return [
        scaling_label(row),
        f"{row.factor:.3g}",
        str(row.spec.resolution),
        dashed(row.depths),
        dashed(row.widths),
        *(field_value(spec[name]) for name in fields),
        giga(row.costs.flops),
        f"{row.ratio('flops'):.2f}",
        mega(row.costs.params),
        f"{row.ratio('params'):.2f}",
        mega(row.costs.acts),
        f"{row.ratio('acts'):.2f}",
    ]


def _headers(
    fields: Sequence[str], annotations: Sequence[Annotation]
) -> tuple[tuple[str, ...], str]:
    """Row headers and alignment: shape, changed spec fields, costs, then each annotation's
    columns (measured or predicted runtime, predicted memory)."""
    headers = SHAPE_HEADERS + tuple(field_header(f) for f in fields) + COST_HEADERS
    align = SHAPE_ALIGN + "l" * len(fields) + COST_ALIGN
    for annotation in annotations:
        headers += annotation.headers
        align += "r" * len(annotation.headers)
    return headers, align


def _cells(row: CompareRow, fields: Sequence[str], annotations: Sequence[Annotation]) -> list[str]:
    cells = _row_cells(row, fields)
    for annotation in annotations:
        cells += annotation.row_cells(row.key)
    return cells


def _list_headers(group: Sequence[CompareRow], fields: Sequence[str]) -> set[str]:
    """Headers of the columns that may fold on a narrow terminal: the label and lists."""
    spec = group[0].spec.to_dict()
    lists = [f for f in fields if isinstance(spec.get(f), list)]
    return {"scaling", "depths", "widths", *(field_header(f) for f in lists)}


def summary(rows: Sequence[CompareRow], annotations: Sequence[Annotation] = ()) -> list[EqualFlops]:
    """The equal-flops summary of the rows, with the annotations' measures (measured median,
    predicted time per image, predicted peak memory) when there are any."""
    return equal_flops(rows, [a.summary for a in annotations if a.summary is not None])


def time_summary(
    rows: Sequence[CompareRow], annotations: Sequence[Annotation]
) -> list[equal_time.EqualTime]:
    """The equal-time summary of the rows scaled to a time goal, with the predicted times of
    the runtime annotation."""
    if not any(row.time_goal is not None for row in rows):
        return []
    # Rows solved for a time goal always come with the profile's predictions.
    (predicted,) = [a.summary for a in annotations if a.summary and a.summary.name == "predicted_s"]
    return equal_time.equal_time(rows, predicted)


def _notes(annotations: Sequence[Annotation]) -> list[str]:
    return [annotation.note + "\n" for annotation in annotations]


def _exponent_cells(fit: Exponent) -> list[str]:
    return [
        fit.base,
        fit.strategy,
        decimals(fit.acts, 2),
        decimals(fit.predicted_acts, 2),
        decimals(fit.params, 2),
        decimals(fit.predicted_params, 2),
        str(fit.points),
    ]


def _base_table(group: Sequence[CompareRow], annotations: Sequence[Annotation]) -> str:
    fields = shown_changes(group)
    headers, align = _headers(fields, annotations)
    lines = [_cells(r, fields, annotations) for r in group]
    return f"### {base_title(group)}\n\n" + markdown_table(headers, lines, align)


def to_markdown(
    rows: Sequence[CompareRow], fits: Sequence[Exponent], annotations: Sequence[Annotation] = ()
) -> str:
    """The equal-time and equal-flops summaries; per base a heading and a table of its models
    (with the spec fields that change, and the annotations' columns); their notes; the fitted
    exponents."""
    summaries = (
        equal_time.to_markdown(time_summary(rows, annotations)),
        summary_report.to_markdown(summary(rows, annotations)),
    )
    sections = [text for text in summaries if text]
    sections += [_base_table(group, annotations) for group in by_base(rows).values()]
    sections += _notes(annotations)
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
        "target_factor": row.target_factor,
        "spec": row.spec.to_dict(),
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


def _annotated(record: dict[str, Any], annotations: Sequence[Annotation]) -> dict[str, Any]:
    for annotation in annotations:
        record[annotation.name] = annotation.records.get(record["key"])
    return record


def to_json(
    rows: Sequence[CompareRow],
    fits: Sequence[Exponent],
    convention: str,
    annotations: Sequence[Annotation] = (),
) -> str:
    """Rows (raw integers, with the full spec, in sweep order), the equal-flops summary and
    the exponents under their own keys; keys sorted. Each annotation adds its object to every
    row (null where a row has none, e.g. `runtime`), its time to the summary entries (e.g.
    `median_s`) and its top-level keys (e.g. `runtime_setup`)."""
    document: dict[str, Any] = {
        "convention": convention,
        "rows": [_annotated(row_record(r), annotations) for r in rows],
        "summary": equal_time.records(time_summary(rows, annotations))
        + summary_report.records(summary(rows, annotations)),
        "exponents": [_exponent_record(f) for f in fits],
    }
    for annotation in annotations:
        document.update(annotation.document)
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _csv_value(value: Any) -> Any:
    if isinstance(value, list):
        return dashed(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def to_csv(rows: Sequence[CompareRow], annotations: Sequence[Annotation] = ()) -> str:
    """One line per model, raw integers; ratios as full-precision floats; then every spec
    field of the rows' families (empty where a family has no such field); then each
    annotation's raw values (e.g. median seconds and images per second; empty where none)."""
    specs = [row.spec.to_dict() for row in rows]
    fields = [f for f in dict.fromkeys(f for s in specs for f in s) if f not in CSV_COLUMNS]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    extra_columns = tuple(c for a in annotations for c in a.csv_columns)
    writer.writerow(CSV_COLUMNS + tuple(fields) + extra_columns)
    for row, spec in zip(rows, specs):
        line = [
            row.key,
            row.base,
            row.family,
            row.strategy or "",
            row.factor,
            "" if row.target_flops is None else row.target_flops,
            "" if row.target_factor is None else row.target_factor,
            row.spec.resolution,
            dashed(row.depths),
            dashed(row.widths),
            row.costs.flops,
            row.costs.params,
            row.costs.acts,
            row.ratio("flops"),
            row.ratio("params"),
            row.ratio("acts"),
            *(_csv_value(spec[f]) if f in spec else "" for f in fields),
        ]
        for annotation in annotations:
            line += [_csv_value(value) for value in annotation.row_csv(row.key)]
        writer.writerow(line)
    return out.getvalue()


def to_rich(
    rows: Sequence[CompareRow], fits: Sequence[Exponent], annotations: Sequence[Annotation] = ()
) -> list[Any]:
    """Rich tables for a terminal: the equal-flops summary, one table per base (with the spec
    fields that change, and the annotations' columns), their notes, then the exponents."""
    tables = equal_time.to_rich(time_summary(rows, annotations))
    tables += summary_report.to_rich(summary(rows, annotations))
    for group in by_base(rows).values():
        fields = shown_changes(group)
        headers, align = _headers(fields, annotations)
        lines = [_cells(r, fields, annotations) for r in group]
        fold = _list_headers(group, fields)
        tables += [rich_table(base_title(group), headers, align, lines, fold), ""]
    tables += _notes(annotations)
    if fits:
        lines = [_exponent_cells(f) for f in fits]
        title = "Fitted exponents: measure ∝ flops^k"
        tables.append(rich_table(title, EXPONENT_HEADERS, EXPONENT_ALIGN, lines))
    return tables


def renderer(
    fmt: str,
    rows: Sequence[CompareRow],
    fits: Sequence[Exponent],
    convention: str,
    annotations: Sequence[Annotation] = (),
) -> Callable[[], Any]:
    """The renderer of format `fmt` (one of tables.FORMATS) over a compare run."""
    renderers: dict[str, Callable[[], Any]] = {
        "json": lambda: to_json(rows, fits, convention, annotations),
        "csv": lambda: to_csv(rows, annotations),
        "md": lambda: to_markdown(rows, fits, annotations),
        "table": lambda: to_rich(rows, fits, annotations),
    }
    return renderers[fmt]
