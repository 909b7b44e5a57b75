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
    with ASCII borders when stdout cannot encode box characters. Number (right-aligned) columns
    and headers are never cut or wrapped: text columns fold between words to fit the width,
    and a table that still does not fit grows past it."""
    from rich.console import Console

    encoding = (getattr(sys.stdout, "encoding", None) if to_stdout else None) or "utf-8"
    items = [_fit_text(item, encoding) for item in items]
    size = shutil.get_terminal_size((80, 24))
    width = size.columns if terminal else FILE_WIDTH
    width = max([width] + [_fix_column_widths(item, width) for item in items])
    console = Console(
        file=_Capture(encoding),
        # With a height too, rich keeps this width even where TERM is dumb or unknown.
        width=width,
        height=size.lines,
        force_terminal=terminal,
        color_system="auto" if terminal else None,
        highlight=False,
        emoji=False,
        # No markup: cells are data (a model named "[x]" stays "[x]"), and parsing it is slow.
        markup=False,
    )
    with console.capture() as captured:
        for item in items:
            console.print(item)
    return captured.get()


def _fit_text(item: Any, encoding: str) -> Any:
    """`item` with its text in what `encoding` carries, before layout so columns stay aligned."""
    from rich.table import Table

    from scalecalc.cli.outputs import fit_encoding

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


def _fix_column_widths(item: Any, width: int) -> int:
    """Give each column of table `item` a fixed width so that the table fits `width` where it
    can: the widest text column folds first, never below its longest word, and number columns
    keep their longest cell. Returns the table's width; 0 for anything but a table."""
    from rich.table import Table

    if not isinstance(item, Table):
        return 0
    bounds = [_column_bounds(column) for column in item.columns]
    widths = [most for _, most in bounds]
    frame = item._extra_width + sum(map(item._get_padding_width, range(len(widths))))
    excess = sum(widths) + frame - width
    while excess > 0:
        foldable = [i for i, (least, _) in enumerate(bounds) if widths[i] > least]
        if not foldable:
            break
        widths[max(foldable, key=widths.__getitem__)] -= 1
        excess -= 1
    for column, column_width in zip(item.columns, widths):
        column.width = column_width
    return sum(widths) + frame


def _column_bounds(column: Any) -> tuple[int, int]:
    """The narrowest and widest `column` may be: a number (right-aligned) or unwrapped column
    is as wide as its longest cell or header line; a text column folds down to its longest
    word."""
    from rich.cells import cell_len

    cells = [column.header, *column._cells]
    lines = [line for cell in cells for line in str(getattr(cell, "plain", cell)).split("\n")]
    most = max([column.min_width or 0] + [cell_len(line) for line in lines])
    if column.no_wrap or column.justify == "right":
        column.no_wrap = True
        return most, most
    words = [word for line in lines for word in line.split()]
    return max([column.min_width or 0] + [cell_len(word) for word in words]), most
