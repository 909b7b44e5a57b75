"""Log-log plots of a sweep: acts and params vs flops, a line per strategy, a panel per base."""

from __future__ import annotations

import atexit
import io
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scalecalc.compare.run import CompareRow
from scalecalc.errors import ConfigError, ScalecalcError, safe_text
from scalecalc.compare.styles import annotate_points, point_label, separate_labels, strategy_style

PLOT_SUFFIXES = (".png", ".svg")
PANEL_ROWS = (("acts", "activations (M)"), ("params", "parameters (M)"))


class PlotUnavailableError(ScalecalcError):
    """matplotlib is not installed."""


def check_plot_path(path: str | Path) -> None:
    """Raise ConfigError unless `path` ends in a suffix we can draw."""
    if Path(path).suffix.lower() not in PLOT_SUFFIXES:
        raise ConfigError(f"--plot: {safe_text(path)} must end in {' or '.join(PLOT_SUFFIXES)}")


def plot_format(path: str | Path) -> str:
    """'png' or 'svg', from the path's suffix."""
    return Path(path).suffix.lower().lstrip(".")


def log_log_axes(ax) -> None:  # type: ignore[no-untyped-def]
    """Log scales with ticks at 1, 2, 5 x 10^k printed as plain numbers, and a light grid."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(lambda value, _position: f"{value:g}"))
        axis.set_minor_formatter(NullFormatter())  # no crowded minor labels
    ax.grid(True, which="major", linewidth=0.4, alpha=0.6)


def pyplot_module():  # type: ignore[no-untyped-def]
    """matplotlib.pyplot on the file-only Agg backend, or a one-line error naming the extra."""
    _writable_config_dir()
    try:
        import matplotlib
    except ImportError:
        raise PlotUnavailableError(
            "--plot needs matplotlib; install the plot extra: pip install 'scalecalc[plot]'"
        ) from None
    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def _writable_config_dir() -> None:
    """Give matplotlib a private config and cache folder, removed at exit, when its own is not
    writable (an unwritable HOME): otherwise it warns on stderr at import."""
    if "MPLCONFIGDIR" in os.environ:
        return
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if all(_can_write(os.path.join(folder, "matplotlib")) for folder in (config, cache)):
        return
    private = tempfile.mkdtemp(prefix="scalecalc-matplotlib-")
    atexit.register(shutil.rmtree, private, True)
    os.environ["MPLCONFIGDIR"] = private


def _can_write(folder: str) -> bool:
    """Whether `folder` exists or can be made, and a file can be created in it."""
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def figure_bytes(figure: Any, fmt: str) -> bytes:
    """A figure's PNG or SVG bytes, the same for the same figure on every run (no date, fixed
    SVG ids); the figure is closed."""
    import matplotlib
    from matplotlib import pyplot

    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "scalecalc", "svg.fonttype": "path"}):
        figure.savefig(buffer, format=fmt, dpi=110, metadata=metadata)
    pyplot.close(figure)
    return buffer.getvalue()


def _lines(rows: Sequence[CompareRow]) -> dict[str, dict[str, list[CompareRow]]]:
    """base -> strategy -> its rows with the base first, in order of flops."""
    bases = {row.base: row for row in rows if row.strategy is None}
    panels: dict[str, dict[str, list[CompareRow]]] = {}
    for row in rows:
        panel = panels.setdefault(row.base, {})
        if row.strategy is not None:
            start = [bases[row.base]] if row.base in bases else []
            panel.setdefault(row.strategy, start).append(row)
    for panel in panels.values():
        for strategy, members in panel.items():
            panel[strategy] = sorted(members, key=lambda r: r.costs.flops)
    return panels


def check_plot_available() -> None:
    """Raise PlotUnavailableError (one line, exit 2) if matplotlib cannot be imported."""
    pyplot_module()


def plot_bytes(rows: Sequence[CompareRow], fmt: str = "png") -> bytes:
    """The figure as a PNG or SVG file's bytes."""
    pyplot = pyplot_module()
    panels = _lines(rows)
    columns = max(1, len(panels))
    figure, axes = pyplot.subplots(
        len(PANEL_ROWS), columns, figsize=(4 * columns + 1.2, 7.4), squeeze=False
    )
    convention = rows[0].convention if rows else "paper"
    bases = {row.base: row for row in rows if row.strategy is None}
    for column, (base, lines) in enumerate(panels.items()):
        for line_index, (measure, label) in enumerate(PANEL_ROWS):
            ax = axes[line_index][column]
            if base in bases:
                # Every line starts at the base: its own marker goes on top of theirs.
                ax.plot(
                    [bases[base].costs.flops / 1e9],
                    [bases[base].measure(measure) / 1e6],
                    **strategy_style("base").line(),
                    linestyle="none",
                    label="base",
                    zorder=3,
                )
            points = []
            for strategy, members in lines.items():
                xs = [r.costs.flops / 1e9 for r in members]
                ys = [r.measure(measure) / 1e6 for r in members]
                ax.plot(xs, ys, **strategy_style(strategy).line(), label=strategy)
                points += [(x, y, point_label(r)) for x, y, r in zip(xs, ys, members) if r.strategy]
            annotate_points(ax, points)
            log_log_axes(ax)
            ax.set_xlabel(f"flops (G, {convention} convention)")
            if column == 0:
                ax.set_ylabel(label)
            ax.set_title(f"{base}: {measure} vs flops", fontsize=10)
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, title="strategy", loc="center right", frameon=False)
    figure.suptitle("Cost of each scaling strategy, base and scaled models (log-log)")
    figure.tight_layout(rect=(0, 0, 1 - 1.0 / (4 * columns + 1.2), 1))
    separate_labels(figure)
    return figure_bytes(figure, fmt)
