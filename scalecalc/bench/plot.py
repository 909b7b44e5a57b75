"""The figure of a benchmark: median runtime against flops, params and acts, log-log."""

from __future__ import annotations

from collections.abc import Sequence

from scalecalc.bench.report import coefficient
from scalecalc.correlation import Correlation
from scalecalc.costs import MEASURES
from scalecalc.bench.measurement import BenchRow
from scalecalc.compare.styles import annotate_points, point_label, separate_labels, strategy_style


def _series(rows: Sequence[BenchRow]) -> dict[tuple[str, str], list[BenchRow]]:
    """(base, strategy) -> the base's row then the strategy's rows, in order of flops."""
    bases = {b.row.base: b for b in rows if b.row.strategy is None}
    series: dict[tuple[str, str], list[BenchRow]] = {}
    for bench_row in rows:
        if bench_row.row.strategy is None:
            series.setdefault((bench_row.row.base, "base"), [bench_row])
            continue
        start = [bases[bench_row.row.base]] if bench_row.row.base in bases else []
        series.setdefault((bench_row.row.base, bench_row.row.strategy), start).append(bench_row)
    return {k: sorted(v, key=lambda b: b.row.costs.flops) for k, v in series.items()}


def plot_bytes(rows: Sequence[BenchRow], fits: Sequence[Correlation], fmt: str = "png") -> bytes:
    """Runtime against flops, params and acts (log-log): each line joins a base to its scaled
    models in its strategy's colour and marker (scalecalc.compare.styles); a line style per base."""
    from scalecalc.compare.plot import figure_bytes, log_log_axes, pyplot_module

    pyplot = pyplot_module()
    from matplotlib.lines import Line2D

    groups = list(dict.fromkeys(c.group for c in fits))
    summary = "all" if "all" in groups else (groups[0] if groups else "")
    overall = {c.measure: c for c in fits if c.group == summary}
    series = _series(rows)
    strategies = list(dict.fromkeys(strategy for _, strategy in series))
    bases = list(dict.fromkeys(base for base, _ in series))
    dashes = {base: ("-", "--", ":", "-.")[i % 4] for i, base in enumerate(bases)}
    figure, axes = pyplot.subplots(1, len(MEASURES), figsize=(13, 4.4), squeeze=False)
    for ax, measure in zip(axes[0], MEASURES):
        unit = 1e9 if measure == "flops" else 1e6
        points = []
        for (base, strategy), members in series.items():
            style = strategy_style(strategy)
            xs = [b.row.measure(measure) / unit for b in members]
            ys = [b.measurement.median * 1e3 for b in members]
            ax.plot(
                xs,
                ys,
                **style.line(),
                linestyle=dashes[base],
                label=strategy,
                zorder=3 if strategy == "base" else 2,  # every line starts at the base: on top
            )
            points += [
                (x, y, point_label(b.row)) for x, y, b in zip(xs, ys, members) if b.row.strategy
            ]
        annotate_points(ax, points)
        log_log_axes(ax)
        ax.set_xlabel(f"{measure} ({'G' if measure == 'flops' else 'M'})")
        fit = overall.get(measure)
        if fit is not None:
            ax.set_title(
                f"{summary}: r(log) = {coefficient(fit.pearson_log)}, "
                f"ρ = {coefficient(fit.spearman)}",
                fontsize=10,
            )
    axes[0][0].set_ylabel("median time per iteration (ms)")
    handles = []
    for name in strategies:
        style = strategy_style(name)
        handles.append(
            Line2D(
                [],
                [],
                **style.line(),
                label=name,
            )
        )
    if len(bases) > 1:
        handles += [
            Line2D([], [], color="0.4", linestyle=dashes[b], linewidth=1.4, label=b) for b in bases
        ]
    figure.legend(handles=handles, loc="center right", frameon=False)
    figure.suptitle("Measured runtime against each cost measure (log-log)")
    figure.tight_layout(rect=(0, 0, 0.86, 1))
    separate_labels(figure)
    return figure_bytes(figure, fmt)
