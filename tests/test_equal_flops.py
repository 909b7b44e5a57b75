"""Compare at equal flops: --target-factor, the ranking summary, whole shapes in rows, and how
every format reads (markdown for a PR comment, rich tables at 80 and 200 columns)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re

import pytest
from rich.console import Console
from typer.testing import CliRunner

from scalecalc.compare import run as compare
from scalecalc.compare import report as compare_report
from scalecalc.compare import summary_report
from scalecalc.compare.annotations import Measure
from scalecalc.compare.labels import scaling_label
from scalecalc.api import load, scale
from scalecalc.cli import app
from scalecalc.config import spec_from_fields
from scalecalc.costs import Costs
from scalecalc.registry import get_family
from scalecalc.compare.summary import equal_flops
from scalecalc.sweep import expand
from scalecalc.sweep_file import make_sweep

runner = CliRunner()
# Published RegNetY-4GF flops (pycls, torchvision): 3.973 G.
REGNETY_4GF_FLOPS = 3.973e9
STRATEGIES = ["w", "d", "r", "dw", "dwr", "dWr"]


def table_lines(section: str) -> list[list[str]]:
    """The cells of the first markdown table's rows in `section` (header first, no rule)."""
    first = section.split("\n### ")[0]
    lines = [line for line in first.splitlines() if line.startswith("| ")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines if "---" not in line]


# The question the feature answers: at 4× flops, which strategy has the fewest acts?


@pytest.fixture(scope="module")
def regnety_at_4x() -> tuple[str, dict]:
    args = ["compare", "regnety_4gf", "--target-factor", "4"]
    markdown, document = (runner.invoke(app, [*args, "-f", fmt]) for fmt in ("md", "json"))
    assert markdown.exit_code == document.exit_code == 0, markdown.output
    return markdown.stdout, json.loads(document.stdout)


def test_regnety_4gf_at_4x_flops_ranks_dWr_first(regnety_at_4x: tuple[str, dict]) -> None:
    markdown, _ = regnety_at_4x
    first = markdown.split("\n### ")[0]
    heading = first.splitlines()[0]
    assert heading.startswith("### regnety_4gf at 4× its flops (15.89") and len(heading) <= 100
    header, *rows = table_lines(first)
    assert header == list(summary_report.HEADERS)
    assert [row[1] for row in rows] == ["**dWr** (best)", "w", "dw", "dwr", "d", "r"]
    goal = 4 * REGNETY_4GF_FLOPS
    for rank, strategy, s, flops, vs_goal, params, acts, vs_best in rows:
        assert abs(float(flops) * 1e9 / goal - 1) <= 0.05, strategy  # equal flops, ±5%
        assert float(vs_goal) == pytest.approx(float(flops) * 1e9 / goal, abs=2e-3)
        assert float(vs_best) == pytest.approx(float(acts) / float(rows[0][6]), abs=6e-3)
    acts = [float(row[6]) for row in rows]
    assert acts == sorted(acts) and [row[0] for row in rows] == ["1", "2", "3", "4", "5", "6"]
    # The figures a user got by solving 4 × 3.973 G by hand: dWr 26.6 M acts, r 49.1 M.
    assert (f"{acts[0]:.1f}", f"{acts[-1]:.1f}") == ("26.6", "49.1")
    assert markdown.index("### regnety_4gf at 4×") < markdown.index("### regnety_4gf (regnet")


def test_regnety_4gf_at_4x_flops_in_json(regnety_at_4x: tuple[str, dict]) -> None:
    _, document = regnety_at_4x
    [group] = document["summary"]
    base = document["rows"][0]
    assert (group["base"], group["goal"], group["value"], group["equal_flops"]) == (
        "regnety_4gf",
        "target_factor",
        4.0,
        True,
    )
    assert group["goal_flops"] == round(4 * base["flops"])
    assert abs(group["goal_flops"] / (4 * REGNETY_4GF_FLOPS) - 1) < 2e-4
    ranking = group["ranking"]
    assert [e["key"] for e in ranking][:2] == ["regnety_4gf/dWr/@4x", "regnety_4gf/w/@4x"]
    assert [e["best"] for e in ranking] == [True] + [False] * 5
    for entry in ranking:
        assert abs(entry["flops"] / group["goal_flops"] - 1) <= 0.05
        assert entry["flops_vs_goal"] == entry["flops"] / group["goal_flops"]
        assert entry["acts_vs_best"] == entry["acts"] / ranking[0]["acts"]
    rows = {row["key"]: row for row in document["rows"]}
    assert rows["regnety_4gf/dWr/@4x"]["target_factor"] == 4.0
    assert rows["regnety_4gf/dWr/@4x"]["target_flops"] == group["goal_flops"]


# The whole shape: group widths (and whatever else changes) in tables and rows.


def test_group_widths_that_differ_are_shown() -> None:
    result = runner.invoke(app, ["compare", "resnet50", "-s", "w,w1_g1", "--factors", "4"])
    assert result.exit_code == 0, result.output
    section = result.stdout.split("### resnet50 (resnet")[1]
    header, *rows = table_lines(section)
    assert header[:6] == ["scaling", "s", "res (px)", "depths", "widths", "group widths"]
    shapes = {row[0]: row[3:7] for row in rows}
    # Width ×2 (s = 4); `w` keeps the group widths of the base, so every bottleneck now has two
    # groups, while w1_g1 doubles them too (g = 4^(1/2) = 2): one group per bottleneck again.
    assert shapes == {
        "base": ["3-4-6-3", "256-512-1024-2048", "64-128-256-512", "4.089"],
        "w": ["3-4-6-3", "512-1024-2048-4096", "64-128-256-512", "12.171"],
        "w1_g1": ["3-4-6-3", "512-1024-2048-4096", "128-256-512-1024", "15.870"],
    }


def test_only_fields_that_change_get_a_column() -> None:
    result = runner.invoke(app, ["compare", "resnet50", "vit_b16", "-s", "d", "--factors", "2"])
    assert result.exit_code == 0, result.output
    for title in ("resnet50 (resnet", "vit_b16 (vit"):
        header = table_lines(result.stdout.split(f"### {title}")[1])[0]
        assert header[:5] == ["scaling", "s", "res (px)", "depths", "widths"]
        assert header[5] == "flops (G)"
    result = runner.invoke(app, ["compare", "vit_b16", "-s", "w", "--factors", "4"])
    header, base, wide = table_lines(result.stdout.split("### vit_b16 (vit")[1])
    # Width ×2 at a fixed head size of 64: 24 heads of 1536; MLP ratio 4 kept: 6144.
    assert header[5:7] == ["heads", "MLP size"]
    assert (base[3:7], wide[3:7]) == (["12", "768", "12", "3072"], ["12", "1536", "24", "6144"])


@pytest.fixture(scope="module")
def four_families() -> list[compare.CompareRow]:
    sweep = make_sweep(
        ["regnety_4gf", "resnet50", "vit_b16", "convnext_t"], STRATEGIES, [4], target_factors=[4]
    )
    return compare.run(expand(sweep))


def test_json_and_csv_rows_carry_the_full_spec(four_families: list[compare.CompareRow]) -> None:
    document = json.loads(compare_report.to_json(four_families, [], "paper"))
    records = list(csv.DictReader(io.StringIO(compare_report.to_csv(four_families))))
    fields = {
        "regnet": {"group_widths", "bottleneck_ratio", "se_ratio", "stem_width"},
        "resnet": {"group_widths", "bottleneck_ratio", "block", "stem_width"},
        "vit": {"patch_size", "hidden_size", "num_layers", "num_heads", "mlp_size", "class_token"},
        "convnext": {"mlp_ratio", "layer_scale", "depths", "widths"},
    }
    for row, record in zip(document["rows"], records, strict=True):
        spec = row["spec"]
        assert fields[row["family"]] <= set(spec), row["key"]
        fields_only = {k: v for k, v in spec.items() if k != "family"}
        loaded = spec_from_fields(get_family(row["family"]), fields_only, row["key"])
        base = load(row["base"]).spec
        if row["strategy"] is None:
            assert loaded == base
        elif row["target_factor"] is None:
            assert loaded == scale(base, row["strategy"], row["factor"])
        for name, value in spec.items():
            text = "-".join(map(str, value)) if isinstance(value, list) else str(value)
            assert record[name] == {"True": "true", "False": "false"}.get(text, text)
        absent = set().union(*fields.values()) - set(spec) - {"depths", "widths"}
        assert all(record[name] == "" for name in absent), row["key"]


# The summary as data: a pure function of rows, checked on counts chosen by hand.


def synthetic_row(
    key: str, flops: int, acts: int, factor: float = 1.0, **goal: float | None
) -> compare.CompareRow:
    base_costs = Costs(flops=1_000, params=10, acts=100, stages=())
    strategy = None if key.endswith("/base") else key.split("/")[1]
    return compare.CompareRow(
        key=key,
        base=key.split("/")[0],
        family="resnet",
        strategy=strategy,
        factor=factor,
        target_flops=goal.get("target_flops"),
        target_factor=goal.get("target_factor"),
        convention="paper",
        spec=load("resnet50").spec,
        costs=Costs(flops=flops, params=10, acts=acts, stages=()),
        base_costs=base_costs,
    )


def test_summary_groups_ranks_and_ratios_by_hand() -> None:
    rows = [
        synthetic_row("b/base", 1_000, 100),
        synthetic_row("b/w/x4", 3_000, 150, 4.0),
        synthetic_row("b/d/x4", 4_000, 300, 4.0),
        synthetic_row("b/r/x4", 4_200, 150, 4.0),
        synthetic_row("b/dw/x4", 3_799, 90, 4.0),
        synthetic_row("b/w/@3x", 2_940, 170, 4.2, target_flops=3_000, target_factor=3.0),
        synthetic_row("b/d/@3x", 3_030, 240, 3.1, target_flops=3_000, target_factor=3.0),
        synthetic_row("b/w/@5K", 5_100, 200, 6.0, target_flops=5_000),
    ]
    groups = equal_flops(rows, [Measure("median_s", "median (ms)", {"b/w/x4": 0.5}, {})])
    # Groups solved for a flops target (equal flops) come first, then the nominal factors.
    assert [(g.kind, g.value, g.goal_flops, g.equal) for g in groups] == [
        ("target_flops", 5_000.0, 5_000, True),
        ("target_factor", 3.0, 3_000, True),
        ("factor", 4.0, 4_000, False),
    ]
    by_factor = groups[2]
    # At the goal of 4000 flops (±5%: 3800 to 4200, both bounds in): d and r, ranked by
    # acts; w (3000, -25%) and dw (3799, one flop under the bound) are not ranked, though
    # dw has the fewest acts of all: it has fewer flops.
    assert [(r.row.key, r.rank, r.best) for r in by_factor.ranking] == [
        ("b/r/x4", 1, True),
        ("b/d/x4", 2, False),
        ("b/dw/x4", None, False),
        ("b/w/x4", None, False),
    ]
    assert [r.acts_vs_best for r in by_factor.ranking] == [1.0, 2.0, None, None]
    assert [r.flops_vs_goal for r in by_factor.ranking] == [1.05, 1.0, 0.94975, 0.75]
    assert by_factor.spread == pytest.approx(4_200 / 3_000 - 1)
    assert [r.extra for r in by_factor.ranking] == [
        {"median_s": None},
        {"median_s": None},
        {"median_s": None},
        {"median_s": 0.5},
    ]
    by_target = groups[1]
    assert [(r.row.key, r.rank) for r in by_target.ranking] == [("b/w/@3x", 1), ("b/d/@3x", 2)]
    assert [r.flops_vs_goal for r in by_target.ranking] == [0.98, 1.01]
    assert by_target.ranking[1].acts_vs_best == 240 / 170
    # One model at its goal has nothing to be ranked against.
    assert [(r.rank, r.best, r.acts_vs_best) for r in groups[0].ranking] == [(None, False, None)]
    assert equal_flops(rows[:1]) == []  # a base alone has nothing to rank


def test_ties_share_a_rank() -> None:
    rows = [
        synthetic_row("b/w/x2", 2_000, 150, 2.0),
        synthetic_row("b/r/x2", 2_050, 150, 2.0),
        synthetic_row("b/d/x2", 1_950, 300, 2.0),
    ]
    [group] = equal_flops(rows)
    assert [(r.row.key, r.rank, r.best) for r in group.ranking] == [
        ("b/w/x2", 1, True),
        ("b/r/x2", 1, True),
        ("b/d/x2", 3, False),
    ]


def test_a_down_scaling_goal_ranks_none_that_missed_it() -> None:
    # A factor of 1e-10 on a 1000-flop base: a goal of 0.0000001 flops, rounded up to 1. No
    # model comes within 5% of it, so none is ranked or "best" for being smallest (it was a
    # ZeroDivisionError with the goal rounded to 0).
    rows = [
        synthetic_row("b/w/x1e-10", 30, 5, 1e-10),
        synthetic_row("b/d/x1e-10", 60, 9, 1e-10),
    ]
    [group] = equal_flops(rows)
    assert group.goal_flops == 1 and not group.equal and group.ranked == ()
    assert [r.best for r in group.ranking] == [False, False]
    [record] = summary_report.records([group])
    assert (record["equal_flops"], record["flops_spread"]) == (False, 1.0)
    assert [e["rank"] for e in record["ranking"]] == [None, None]
    assert summary_report.title(group) == (
        "b at s = 1e-10 (0.000 GF): not ranked, flops 30× to 60× goal (ranking needs ±5%)"
    )


def test_summary_titles_say_how_the_models_are_ranked() -> None:
    rows = [
        synthetic_row("b/w/x4", 3_000, 150, 4.0),
        synthetic_row("b/d/x4", 3_900, 300, 4.0),
        synthetic_row("b/w/x2", 1_998, 150, 2.0),
        synthetic_row("b/w/@3x", 2_940, 170, 4.2, target_flops=3_000, target_factor=3.0),
        synthetic_row("b/d/@3x", 3_030, 240, 3.1, target_flops=3_000, target_factor=3.0),
        synthetic_row("b/r/@3x", 3_300, 200, 3.1, target_flops=3_000, target_factor=3.0),
        synthetic_row("b/w/@2K", 2_100, 200, 2.0, target_flops=2_000),
        synthetic_row("b/d/@2K", 1_950, 300, 2.0, target_flops=2_000),
    ]
    at_2k, at_3x, single, apart = equal_flops(rows)
    assert summary_report.title(at_2k) == (
        "b at 0.000 GF, fewest acts first: flops -2.5% to +5.0% off goal"
    )
    # r is 10% over the goal: shown, not ranked.
    assert summary_report.title(at_3x) == (
        "b at 3× its flops (0.000 GF), fewest acts first; 1 over ±5% off goal, not ranked"
    )
    # One strategy: nothing is compared, and nothing contradicts itself.
    assert summary_report.title(single) == "b at s = 2 (0.000 GF): one model, flops -0.1% off goal"
    # 3000 and 3900 flops for a goal of 4000: -25% and -2.5%, so at most one at the goal.
    assert summary_report.title(apart) == (
        "b at s = 4 (0.000 GF): not ranked, flops -25.0% to -2.5% off goal (ranking needs ±5%)"
    )
    markdown = summary_report.to_markdown([at_3x, apart])
    assert "| 1 | **w** (best) | 4.2 |" in markdown and "| 2 | d | 3.1 |" in markdown
    assert "| – | r | 3.1 | 0.000 | 1.100 | 0.000 | 0.000 | n/a |" in markdown
    assert "| – | w | 4 | 0.000 | 0.750 | 0.000 | 0.000 | n/a |" in markdown
    assert "(best)" not in markdown.split("### ")[2]


# Every format reads well: markdown as a PR comment, the terminal at 80 and 200 columns.


def test_markdown_reads_as_a_pr_comment() -> None:
    result = runner.invoke(app, ["compare", "-f", "md"])  # the default sweep, 125 models
    assert result.exit_code == 0, result.output
    blocks = result.stdout.split("\n\n")
    for before, block in itertools.pairwise(blocks):
        if block.startswith("| "):
            # One short header line per table, saying what it is.
            assert before.startswith("### ") and "\n" not in before and len(before) <= 100
    for line in result.stdout.splitlines():
        assert "  " not in line.strip(), line  # no padding: no line wider than needed
        if not line.startswith("| "):
            assert len(line) <= 100, line
    headers = {cell for block in blocks if block.startswith("| ") for cell in table_lines(block)[0]}
    for measure, unit in (("flops", "G"), ("params", "M"), ("acts", "M")):
        assert f"{measure} ({unit})" in headers
    assert headers >= {"res (px)", "flops ×", "flops / goal", "acts / best", "group widths"}
    # It opens on its question: which strategy has the fewest acts at equal flops.
    assert result.stdout.startswith("### regnety_4gf at 2× its flops (7.947 GF), fewest acts first")
    assert "NOT equal" not in result.stdout and " at s = " not in result.stdout


def numbers_of(rows: list[compare.CompareRow]) -> list[str]:
    cells = []
    for row in rows:
        cells += [f"{row.costs.flops / 1e9:.3f}", f"{row.costs.params / 1e6:.3f}"]
        cells += [f"{row.costs.acts / 1e6:.3f}", f"{row.ratio('flops'):.2f}"]
    return cells


@pytest.mark.parametrize("width", [80, 200])
def test_terminal_tables_cut_no_number(width: int, four_families: list[compare.CompareRow]) -> None:
    small = compare.run(expand(make_sweep(["regnetx_400mf"], ["w", "dWr", "w1_g1"], [2, 4])))
    for rows in (four_families, small):
        console = Console(width=width, record=True, file=io.StringIO())
        for item in compare_report.to_rich(rows, compare.exponents(rows)):
            console.print(item)
        text = console.export_text()
        assert "…" not in text
        assert max(len(line) for line in text.splitlines()) <= width
        tokens = set(re.findall(r"[\d.]+", text))
        missing = [n for n in numbers_of(rows) if n not in tokens]
        assert not missing, missing
        assert text.lstrip().startswith(f"{rows[0].base} at ")  # the ranking comes first
        if width == 200:
            # Wide enough: every model on one line, its stage lists whole.
            for row in rows:
                shape = " ".join(map(str, row.widths))
                label = re.escape(scaling_label(row))
                line = next(
                    line
                    for line in text.splitlines()
                    if re.match(rf"{label}\s", line) and f" {shape} " in line
                )
                assert f"{row.costs.acts / 1e6:.3f}" in line


def test_cli_table_honours_the_terminal_width() -> None:
    args = ["compare", "resnet50", "-s", "w,w1_g1", "--factors", "4", "-f", "table"]
    for columns in ("80", "200"):
        result = runner.invoke(app, args, env={"COLUMNS": columns})
        assert result.exit_code == 0, result.output
        assert "…" not in result.stdout and "15.870" in result.stdout
        # Numbers are never cut: a table whose numbers need more than 80 columns grows past
        # them rather than cut one; at 200 every table fits.
        if columns == "200":
            assert max(len(line) for line in result.stdout.splitlines()) <= 200
    assert "128 256 512 1024" in result.stdout  # w1_g1's group widths, on one line at 200
