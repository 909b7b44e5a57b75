"""One colour and marker per strategy name, shared by every plot, whatever the order of `-s`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scalecalc.sweep import format_count

if TYPE_CHECKING:
    from scalecalc.compare import CompareRow


@dataclass(frozen=True)
class Style:
    """How one strategy's line and points are drawn."""

    colour: str
    marker: str
    linewidth: float = 1.4
    markersize: float = 4.5

    def line(self) -> dict[str, Any]:
        """matplotlib's plot() keywords for this style."""
        return {
            "color": self.colour,
            "marker": self.marker,
            "markersize": self.markersize,
            "linewidth": self.linewidth,
        }


# The paper's recommendation, dWr, is drawn thicker and larger so that it stands out.
EMPHASIS = {"linewidth": 2.8, "markersize": 8.0}
STRATEGY_STYLE: dict[str, Style] = {
    "base": Style("#000000", "X", markersize=6.0),
    "w": Style("#1f77b4", "o"),
    "d": Style("#ff7f0e", "s"),
    "r": Style("#2ca02c", "^"),
    "dw": Style("#9467bd", "v"),
    "dr": Style("#8c564b", "<"),
    "wr": Style("#17becf", ">"),
    "dwr": Style("#e377c2", "D"),
    "dWr": Style("#d62728", "*", **EMPHASIS),
    "effnet": Style("#bcbd22", "P"),
}
# For other names (weights such as d1_w4_r1, fast:0.5): darker colours and markers that the
# table does not use, picked by a hash of the name that is the same in every process.
FALLBACK_COLOURS = ("#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#636363")
FALLBACK_MARKERS = ("p", "h", "H", "8", "d", "x", "+")


def strategy_style(name: str) -> Style:
    """The style of strategy `name`: from STRATEGY_STYLE, else derived from a SHA-256 of it."""
    known = STRATEGY_STYLE.get(name)
    if known is not None:
        return known
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return Style(
        FALLBACK_COLOURS[digest[0] % len(FALLBACK_COLOURS)],
        FALLBACK_MARKERS[digest[1] % len(FALLBACK_MARKERS)],
    )


def point_label(row: CompareRow) -> str:
    """A scaled point's annotation: its flops factor ("2×") or flops target ("@16G")."""
    if row.target_flops is not None:
        return f"@{format_count(row.target_flops)}"
    return f"{row.factor:g}×"


def annotate_points(ax: Any, xs: list[float], ys: list[float], labels: list[str]) -> None:
    """Write each label in small type just above and right of its point."""
    for x, y, label in zip(xs, ys, labels):
        if label:
            ax.annotate(
                label,
                (x, y),
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=6.5,
                color="0.25",
            )
