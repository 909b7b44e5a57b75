"""Rich renderables as text for stdout or a file, numbers never cut, in the encoding at hand."""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Sequence
from typing import Any

# Wide enough that a table written to a file is never squeezed.
FILE_WIDTH = 200


def stdout_is_terminal() -> bool:
    """Whether stdout is an open terminal (a closed stdout is not)."""
    try:
        return sys.stdout is not None and sys.stdout.isatty()
    except (AttributeError, ValueError, OSError):
        return False


class _Capture(io.StringIO):
    """A text buffer that reports the encoding of the stream the text is meant for."""

    def __init__(self, encoding: str) -> None:
        super().__init__()
        self._encoding = encoding

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding


def render_rich(items: Sequence[Any], terminal: bool, to_stdout: bool = True) -> str:
    """`items` as a terminal (colours, its width) or a file (plain, FILE_WIDTH) would show them,
    with ASCII borders when stdout cannot encode box characters; right-aligned (number) columns
    are never cut or wrapped: the table grows instead."""
    from rich.console import Console

    encoding = (getattr(sys.stdout, "encoding", None) if to_stdout else None) or "utf-8"
    items = [_fit_text(item, encoding) for item in items]
    width = shutil.get_terminal_size((80, 24)).columns if terminal else FILE_WIDTH
    # No markup: cells are data (a model named "[x]" stays "[x]"), and parsing it is slow.
    probe = Console(file=_Capture(encoding), width=width, force_terminal=terminal, markup=False)
    # Measuring a table costs as much as drawing it: only tables that may not fit are measured.
    width = max([width] + [_minimum_width(probe, i) for i in items if _widest(i) > width])
    console = Console(
        file=_Capture(encoding),
        width=width,
        force_terminal=terminal,
        color_system="auto" if terminal else None,
        highlight=False,
        emoji=False,
        markup=False,
    )
    with console.capture() as captured:
        for item in items:
            console.print(item)
    return captured.get()


def _fit_text(item: Any, encoding: str) -> Any:
    """`item` with its text in what `encoding` carries, before layout so columns stay aligned."""
    from rich.table import Table

    from scalecalc.outputs import fit_encoding

    if isinstance(item, str):
        return fit_encoding(item, encoding)
    if isinstance(item, Table):
        for column in item.columns:
            column._cells = [
                fit_encoding(c, encoding) if isinstance(c, str) else c for c in column._cells
            ]
            if isinstance(column.header, str):
                column.header = fit_encoding(column.header, encoding)
        for name in ("title", "caption"):
            if isinstance(getattr(item, name), str):
                setattr(item, name, fit_encoding(getattr(item, name), encoding))
    return item


def _widest(item: Any) -> int:
    """At least the width a table takes when no cell wraps (every cell and header on one line,
    three columns of border and padding per column); 0 for anything but a table."""
    from rich.table import Table

    if not isinstance(item, Table):
        return 0
    total = 0
    for column in item.columns:
        cells = [column.header, *column._cells]
        lines = [line for cell in cells for line in str(getattr(cell, "plain", cell)).split("\n")]
        total += max(map(len, lines), default=0) + 3
    return total


def _minimum_width(console: Any, item: Any) -> int:
    """The width `item` needs with its number columns kept whole; 0 for anything but a table."""
    from rich.measure import Measurement
    from rich.table import Table

    if not isinstance(item, Table):
        return 0
    for column in item.columns:
        if column.justify == "right":
            cells = [column.header, *column._cells]
            column.no_wrap = True
            column.min_width = max(len(str(getattr(cell, "plain", cell))) for cell in cells)
    return Measurement.get(console, console.options.update_width(1 << 16), item).minimum
