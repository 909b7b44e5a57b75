"""The error a prediction should carry, read straight from a built-in profile's JSON file, and
the table cell of a predicted time, written out as the docs describe them."""

from __future__ import annotations

import json
from pathlib import Path

BUILTIN = Path(__file__).resolve().parent.parent / "scalecalc" / "profile" / "builtin"
THIRDS = ("lower", "middle", "upper")


def stored_error(profile: str, family: str | None, flops: float) -> tuple[float, str]:
    """(percent, region name) of a model of `family` with `flops` (in the profile's
    convention): its group × flops third, else its group, else its third, else all rows."""
    document = json.loads((BUILTIN / f"{profile}.json").read_text(encoding="utf-8"))
    regions = document["error_regions"]
    low, high = regions["flops_thirds"]
    third = 1 if flops <= low else 2 if flops <= high else 3
    group = family if family in document["model"]["intercepts"] else "other"
    stored = {(r["group"], r["third"]): r["median_abs_pct_error"] for r in regions["regions"]}
    names = {
        (group, third): f"{group}, {THIRDS[third - 1]} flops third",
        (group, None): group,
        (None, third): f"{THIRDS[third - 1]} flops third",
    }
    for key, name in names.items():
        if key in stored:
            return stored[key], name
    return document["validation"]["median_abs_pct_error"], "all rows"


def time_cell(value: str, extrapolated: bool, percent: float) -> str:
    """A predicted time as tables show it: "0.659 ±14%", "1.23* ±7.4%"."""
    error = f"{percent:.0f}" if percent >= 10 else f"{percent:.1f}"
    return f"{value}{'*' if extrapolated else ''} ±{error}%"
