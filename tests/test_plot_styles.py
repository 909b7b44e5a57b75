"""One colour and marker per strategy in every plot, whatever the order of `-s`; labelled points."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalecalc.bench import plot as bench_plot
from scalecalc.bench import report as bench_report
from scalecalc.compare import run as compare
from scalecalc.cli import app
from scalecalc.bench.measurement import BenchRow, Measurement
from scalecalc.compare.styles import (
    FALLBACK_COLOURS,
    FALLBACK_MARKERS,
    STRATEGY_STYLE,
    strategy_style,
)
from scalecalc.sweep import BENCH_SWEEP
from scalecalc.sweep_options import SweepOptions, sweep_from_options

pyplot = pytest.importorskip("matplotlib.pyplot")
close = pyplot.close
runner = CliRunner()
TINY = str(Path(__file__).parent / "data" / "bench_tiny.yaml")


def drawn_figure(monkeypatch: pytest.MonkeyPatch, args: list[str], tmp_path: Path):  # type: ignore[no-untyped-def]
    """The figure `compare ARGS --plot` draws, or for `bench ARGS` the figure of its plot with
    runtimes proportional to acts (kept open for inspection)."""
    close("all")
    monkeypatch.setattr(pyplot, "close", lambda *_: None)
    if args[0] == "bench":
        draw_bench(args[1:])
    else:
        result = runner.invoke(app, [*args, "--plot", str(tmp_path / "plot.png"), "-f", "json"])
        assert result.exit_code == 0, result.output
    (number,) = pyplot.get_fignums()
    return pyplot.figure(number)


def draw_bench(args: list[str]) -> None:
    """bench's plot of the sweep `CONFIG -s S --factors F`, without running any model."""
    config, _, strategies, _, factors = args
    options = SweepOptions([config], strategies=[strategies], factors=[factors])
    _, entries = sweep_from_options(BENCH_SWEEP, options)
    rows = [
        BenchRow(row, Measurement((row.costs.acts * 1e-9,), 1, None, 0))
        for row in compare.run(entries)
    ]
    bench_plot.plot_bytes(rows, bench_report.correlations(rows))


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    close("all")


def line_styles(figure) -> dict[str, set[tuple[str, str, float, float]]]:  # type: ignore[no-untyped-def]
    """strategy -> the (colour, marker, linewidth, markersize) of every line drawn for it."""
    from matplotlib.colors import to_hex

    styles: dict[str, set[tuple[str, str, float, float]]] = {}
    for ax in figure.axes:
        for line in ax.get_lines():
            styles.setdefault(line.get_label(), set()).add(
                (
                    to_hex(line.get_color()),
                    line.get_marker(),
                    line.get_linewidth(),
                    line.get_markersize(),
                )
            )
    return styles


def annotations(figure) -> list[tuple[str, tuple[float, float]]]:  # type: ignore[no-untyped-def]
    return [(text.get_text(), text.xy) for ax in figure.axes for text in ax.texts]


@pytest.mark.parametrize("command", ["compare", "bench"])
def test_a_strategy_keeps_its_style_whatever_the_order(
    command: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen = []
    for order in ("w,dWr", "dWr,w"):
        args = [command, TINY, "-s", order, "--factors", "2"]
        seen.append(line_styles(drawn_figure(monkeypatch, args, tmp_path)))
    assert seen[0] == seen[1]
    for name in ("w", "dWr"):
        assert len(seen[0][name]) == 1  # one style on every panel
    (w,), (dwr,) = seen[0]["w"], seen[0]["dWr"]
    assert w[:2] != dwr[:2]  # another colour and marker
    assert dwr[2] > w[2] and dwr[3] > w[3]  # dWr stands out: thicker line, larger marker


def test_compare_and_bench_draw_a_strategy_alike(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    args = [TINY, "-s", "d,dWr,d1_w4_r1", "--factors", "2"]
    compare = line_styles(drawn_figure(monkeypatch, ["compare", *args], tmp_path))
    bench = line_styles(drawn_figure(monkeypatch, ["bench", *args], tmp_path))
    for name in ("d", "dWr", "d1_w4_r1"):
        assert compare[name] == bench[name] and len(compare[name]) == 1
    assert len({next(iter(compare[n]))[0] for n in ("d", "dWr", "d1_w4_r1")}) == 3


def test_points_are_labelled_with_their_factor(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    args = ["compare", TINY, "-s", "r", "--factors", "2,4"]
    figure = drawn_figure(monkeypatch, args, tmp_path)
    # r at 32 px: factor 2 -> 32·√2 = 45.3 -> 44 px (a multiple of 4); factor 4 -> 64 px.
    # The labels sit on the scaled points (not on the base), the first panel at acts vs flops.
    acts_panel = figure.axes[0]
    (line,) = [line for line in acts_panel.get_lines() if line.get_label() == "r"]
    points = list(zip(line.get_xdata(), line.get_ydata()))
    assert [(text.get_text(), text.xy) for text in acts_panel.texts] == [
        ("2×", points[1]),
        ("4×", points[2]),
    ]
    assert {label for label, _ in annotations(figure)} == {"2×", "4×"}
    base_flops, _ = points[0]
    assert points[2][0] / base_flops == pytest.approx((64 / 32) ** 2, rel=0.05)


def test_flops_targets_are_labelled_with_the_target(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    args = ["compare", TINY, "-s", "w", "--target-flops", "20M"]
    assert {label for label, _ in annotations(drawn_figure(monkeypatch, args, tmp_path))} == {
        "@20M"
    }


def test_unknown_strategies_get_a_stable_style_from_their_name() -> None:
    # Two interpreters with different hash seeds: the style must not come from hash().
    script = (
        "from scalecalc.compare.styles import strategy_style as s; "
        "print(s('d1_w4_r1'), s('fast:0.3'), s('dWr'))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONPATH": str(Path(__file__).parent.parent), "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
    unknown = strategy_style("d1_w4_r1")
    assert unknown.colour in FALLBACK_COLOURS and unknown.marker in FALLBACK_MARKERS
    table = {(s.colour, s.marker) for s in STRATEGY_STYLE.values()}
    assert len(table) == len(STRATEGY_STYLE)  # no two table entries look alike
    assert not {s.colour for s in STRATEGY_STYLE.values()} & set(FALLBACK_COLOURS)
    assert not {s.marker for s in STRATEGY_STYLE.values()} & set(FALLBACK_MARKERS)


def test_flops_target_points_are_labelled_as_the_tables_label_them_once_per_target(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    args = ["compare", "regnetx_400mf", "-s", "w,d,dWr", "--target-factor", "2,4"]
    figure = drawn_figure(monkeypatch, args, tmp_path)
    table = runner.invoke(app, [*args, "-f", "md"]).stdout
    for ax in figure.axes:
        # Three strategies reach each target: one label per target, above the highest point.
        assert sorted(text.get_text() for text in ax.texts) == ["@2x", "@4x"]
        for text in ax.texts:
            ys = [
                y
                for line in ax.get_lines()
                for x, y in zip(line.get_xdata(), line.get_ydata())
                if abs(x / text.xy[0] - 1) < 0.1
            ]
            assert text.xy[1] == max(ys)
    for strategy in ("w", "d", "dWr"):
        assert f"| {strategy} @2x |" in table and f"| {strategy} @4x |" in table


@pytest.mark.parametrize(
    "args",
    [
        ["compare", TINY, "-s", "w,d,r,dw,dWr", "--factors", "2,4,8"],
        ["compare", TINY, "-s", "w,d,r,dw,dWr", "--target-factor", "2,4,8"],
        ["bench", TINY, "-s", "w,d,r,dw,dWr", "--factors", "2,4,8"],
    ],
    ids=["compare-factors", "compare-targets", "bench"],
)
def test_point_labels_do_not_overlap(
    args: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    figure = drawn_figure(monkeypatch, args, tmp_path)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    for ax in figure.axes:
        boxes = [text.get_window_extent(renderer) for text in ax.texts]
        assert boxes
        for i, box in enumerate(boxes):
            for other in boxes[i + 1 :]:
                assert not box.overlaps(other), [t.get_text() for t in ax.texts]


@pytest.mark.parametrize("command", ["compare", "bench"])
def test_the_base_is_drawn_on_top_and_named_in_the_legend(
    command: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    figure = drawn_figure(monkeypatch, [command, TINY, "-s", "w,dWr", "--factors", "2"], tmp_path)
    base = STRATEGY_STYLE["base"]
    for ax in figure.axes:
        lines = ax.get_lines()
        (marker,) = [line for line in lines if line.get_label() == "base"]
        assert marker.get_marker() == base.marker and marker.get_markersize() == base.markersize
        assert marker.get_visible() and marker.get_alpha() in (None, 1)
        assert all(marker.get_zorder() > line.get_zorder() for line in lines if line is not marker)
        # Where every strategy's line starts.
        point = (marker.get_xdata()[0], marker.get_ydata()[0])
        for line in lines:
            assert (line.get_xdata()[0], line.get_ydata()[0]) == point
    (legend,) = figure.legends
    assert "base" in [text.get_text() for text in legend.get_texts()]
