"""The drift report of `scalecalc check`: markdown for a pull-request comment, JSON, a summary."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from scalecalc.check.baseline import Drift, Outcome, exit_code
from scalecalc.tables import markdown_table, rich_table


def format_change(percent: float | None) -> str:
    """A change in percent with its sign: +0.52%, -12.3%, +250%; '—' when undefined."""
    if percent is None:
        return "—"
    if abs(percent) >= 100:
        return f"{percent:+.0f}%"
    return f"{percent:+.3g}%"


def _cells(drift: Drift) -> list[str]:
    def number(value: int | None) -> str:
        return "—" if value is None else f"{value:,}"

    if drift.kind in ("missing", "new"):
        status = "missing from this run" if drift.kind == "missing" else "not in the baseline"
        return [drift.key, "entry", "—", "—", status]
    measure = drift.measure if drift.kind == "changed" else f"unsupported op {drift.measure}"
    return [
        drift.key,
        measure,
        number(drift.baseline),
        number(drift.current),
        format_change(drift.change_percent),
    ]


REPORT_HEADERS = ("entry", "measure", "baseline", "current", "change")


def report_rows(outcome: Outcome) -> list[list[str]]:
    """The report's table cells, one row per drift."""
    return [_cells(drift) for drift in outcome.drifts]


def summary(outcome: Outcome) -> str:
    """One line: 'check: 3 drifts in 96 entries' (or what --update wrote)."""
    count = len(outcome.drifts)
    noun = "change" if outcome.updated else "drift"
    found = f"{count} {noun}{'s' if count != 1 else ''}" if count else f"no {noun}"
    line = f"check: {found} in {outcome.entries} {'entry' if outcome.entries == 1 else 'entries'}"
    return f"{line}; wrote {outcome.baseline}" if outcome.updated else line


def tolerance_text(rtol: float) -> str:
    """How counts are compared, in words."""
    if rtol == 0:
        return "all counts exact"
    return f"params exact, flops and acts within ±{rtol * 100:g}%"


def to_markdown(outcome: Outcome) -> str:
    """A drift report for a pull-request comment: a heading, the context and a table."""
    lines = [f"### scalecalc {summary(outcome)}", ""]
    context = f"Baseline `{outcome.baseline}`, {outcome.convention} convention"
    if not outcome.updated:
        context += f", {tolerance_text(outcome.rtol)}"
    lines.append(context + ".")
    if outcome.baseline_tool_version and outcome.baseline_tool_version != outcome.tool_version:
        lines.append(
            f"The baseline was written by scalecalc {outcome.baseline_tool_version}; "
            f"this is {outcome.tool_version}."
        )
    text = "\n".join(lines) + "\n"
    if outcome.drifts:
        text += "\n" + markdown_table(REPORT_HEADERS, report_rows(outcome), "llrrr")
    return text


def to_json(outcome: Outcome) -> str:
    """The drift report as one JSON document with raw integers and sorted keys."""
    document = {
        "baseline": outcome.baseline,
        "baseline_tool_version": outcome.baseline_tool_version,
        "convention": outcome.convention,
        "drifts": [
            {
                "key": d.key,
                "measure": d.measure,
                "kind": d.kind,
                "baseline": d.baseline,
                "current": d.current,
                "change_percent": None if d.change_percent is None else round(d.change_percent, 6),
            }
            for d in outcome.drifts
        ],
        "entries": outcome.entries,
        "passed": exit_code(outcome.drifts, outcome.updated) == 0,
        "rtol": outcome.rtol,
        "tool_version": outcome.tool_version,
        "updated": outcome.updated,
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def to_rich(outcome: Outcome) -> list[Any]:
    """The report for a terminal: the drift table (if any) and what was compared."""
    caption = f"{outcome.baseline}, {outcome.convention} convention"
    if not outcome.updated:
        caption += f", {tolerance_text(outcome.rtol)}"
    if not outcome.drifts:
        return [caption]
    title = "changes" if outcome.updated else "drift"
    return [rich_table(title, REPORT_HEADERS, "llrrr", report_rows(outcome), caption=caption)]


def renderer(fmt: str, outcome: Outcome) -> Callable[[], Any]:
    """The renderer of format `fmt` (table, md or json) over a check's outcome."""
    renderers: dict[str, Callable[[], Any]] = {
        "md": lambda: to_markdown(outcome),
        "json": lambda: to_json(outcome),
        "table": lambda: to_rich(outcome),
    }
    return renderers[fmt]
