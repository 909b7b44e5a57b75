"""One colour and marker per strategy name, shared by every plot, whatever the order of `-s`."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scalecalc.compare.labels import target_label

if TYPE_CHECKING:
    from scalecalc.compare.run import CompareRow


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
    """A scaled point's annotation: its flops target as the tables write it ("@4x", "@16G"),
    or its flops factor ("2×")."""
    target = target_label(row)
    return f"{row.factor:g}×" if target is None else target


# Points with one label whose x differ by less than this ratio share one annotation: the
# strategies that reached one flops target sit in one column, and their labels would overlap.
SHARED_LABEL_SPREAD = 1.1


def annotate_points(ax: Any, points: Sequence[tuple[float, float, str]]) -> None:
    """Write each (x, y, label) point's label in small type above and right of it, once per
    group of points with that label at about the same x (above the group's highest point)."""
    groups: list[list[tuple[float, float, str]]] = []
    for point in sorted(p for p in points if p[2]):
        x, _, label = point
        if groups and groups[-1][0][2] == label and x < groups[-1][0][0] * SHARED_LABEL_SPREAD:
            groups[-1].append(point)
        else:
            groups.append([point])
    for group in groups:
        x, y, label = max(group, key=lambda p: p[1])
        ax.annotate(
            label,
            (x, y),
            xytext=(3, 3),
            textcoords="offset points",
            fontsize=6.5,
            color="0.25",
        )


def separate_labels(figure: Any) -> None:
    """Once the figure's layout is final: drop a point label that would overlap a label of the
    same text (it says the same), and lift one that would overlap another label until it is
    clear. Higher points keep their label first."""
    renderer = figure.canvas.get_renderer()
    for ax in figure.axes:
        placed: list[tuple[str, Any]] = []
        for text in sorted(ax.texts, key=lambda t: (-t.xy[1], t.xy[0])):
            box = text.get_window_extent(renderer)
            if any(label == text.get_text() and box.overlaps(other) for label, other in placed):
                text.remove()
                continue
            while any(box.overlaps(other) for _, other in placed):
                dx, dy = text.xyann
                text.xyann = (dx, dy + box.height * 72 / figure.dpi)
                box = text.get_window_extent(renderer)
            placed.append((text.get_text(), box))
