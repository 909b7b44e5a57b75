"""`compare`: rows, ratios and exponents from independent sources, the CLI.

The golden files (tests/data/compare_small.*) and their independent checks are in
test_compare_goldens.py.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalecalc.compare import run as compare
from scalecalc.compare import report as compare_report
from scalecalc.api import count, load, scale
from scalecalc.cli import app
from scalecalc.costs import Costs
from scalecalc.families.spec import BaseSpec
from scalecalc.solver import solve
from scalecalc.sweep import expand
from scalecalc.sweep_file import make_sweep

DATA = Path(__file__).parent / "data"
SMALL_ARGS = ["regnetx_400mf", "resnet50", "-s", "w,dWr", "--factors", "2,4"]
TARGETS = make_sweep(["regnetx_400mf", "resnet50"], ["w", "dWr"], [2], ["8G"])
CNN_BASES = ("regnety_4gf", "resnet50", "convnext_t", "efficientnet_b0")
runner = CliRunner()


@pytest.fixture(scope="module")
def target_rows() -> list[compare.CompareRow]:
    return compare.run(expand(TARGETS))


@pytest.fixture(scope="module")
def default_json() -> dict:
    result = runner.invoke(app, ["compare", "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# Exponent fits and predictions, on data with known answers.


@pytest.mark.parametrize("k", [0.5, 0.83, 1.0, 1.32])
def test_fit_recovers_a_known_exponent(k: float) -> None:
    flops = [4.1e9 * s for s in (1, 1.9, 3.7, 8.2, 15.5)]
    assert compare.fit_exponent(flops, [3.0e7 * f**k for f in flops]) == pytest.approx(k, abs=1e-12)


def test_fit_is_least_squares_on_logs() -> None:
    # Points (0, 0), (1, 1), (2, 3) in log space: slope = Σ(x-1)(y-4/3) / Σ(x-1)² = 3/2.
    e = math.e
    assert compare.fit_exponent([1, e, e**2], [1, e, e**3]) == pytest.approx(1.5)


def test_fit_needs_two_distinct_flops() -> None:
    assert compare.fit_exponent([4e9], [1e7]) is None
    assert compare.fit_exponent([4e9, 4e9], [1e7, 2e7]) is None
    with pytest.raises(ValueError):
        compare.fit_exponent([1, 2], [1])


@pytest.mark.parametrize(
    ("strategy", "acts", "params"),
    [
        ("d", 1, 1),
        ("w", 0.5, 1),
        ("r", 1, 0),
        ("dw", 0.75, 1),
        ("dwr", 5 / 6, 2 / 3),
        ("dWr", 0.6, 0.9),
        ("fast:0.5", 0.75, 0.75),
    ],
)
def test_plain_net_predictions(strategy: str, acts: float, params: float) -> None:
    # acts ∝ s^(1 - α/2), params ∝ s^((1 + α)/2) for the fast family (docs/counting.md, What the
    # paper predicts).
    assert compare.predicted_exponents(strategy) == pytest.approx((acts, params))


def test_exponents_group_rows_by_base_and_strategy() -> None:
    def synthetic(spec: BaseSpec, _convention: str) -> Costs:
        flops = spec.resolution**2 * sum(spec.depths) * max(spec.widths) ** 2
        return Costs(flops, params=round(flops**0.9), acts=round(7 * flops**0.5), stages=())

    sweep = make_sweep(["regnetx_400mf", "resnet50"], ["d", "dWr"], [2, 4, 8])
    fits = compare.exponents(compare.run(expand(sweep), counter=synthetic))
    assert [(f.base, f.strategy, f.points) for f in fits] == [
        ("regnetx_400mf", "d", 4),
        ("regnetx_400mf", "dWr", 4),
        ("resnet50", "d", 4),
        ("resnet50", "dWr", 4),
    ]
    for fit in fits:
        assert fit.acts == pytest.approx(0.5, abs=1e-6)
        assert fit.params == pytest.approx(0.9, abs=1e-6)


# Rows against independent counts.


def test_rows_match_direct_counts_and_ratios(target_rows: list[compare.CompareRow]) -> None:
    assert sum(row.target_flops is not None for row in target_rows) == 4
    for row in target_rows:
        base = load(row.base).spec
        if row.strategy is None:
            spec = base
        elif row.target_flops is None:
            spec = scale(base, row.strategy, row.factor)
        else:
            solution = solve(base, row.strategy, row.target_flops)
            spec = solution.spec
            assert (row.factor, row.costs.flops) == (solution.factor, solution.flops)
        direct, base_direct = count(spec), count(base)
        assert (row.costs.flops, row.costs.params, row.costs.acts) == (
            direct.flops,
            direct.params,
            direct.acts,
        )
        for measure in ("flops", "params", "acts"):
            assert row.ratio(measure) == getattr(direct, measure) / getattr(base_direct, measure)


def test_each_distinct_spec_is_counted_once() -> None:
    calls: list[BaseSpec] = []

    def counting(spec: BaseSpec, convention: str) -> Costs:
        calls.append(spec)
        return count(spec, convention)

    # ResNet-50 `w` at 2 is ResNet-50 itself (docs/counting.md, Rules per family): the base is
    # counted once.
    rows = compare.run(expand(make_sweep(["resnet50"], ["w", "d"], [2, 4])), counter=counting)
    assert rows[1].spec == rows[0].spec
    assert len(calls) == len(set(calls)) == 4


# The command line.


def test_cli_markdown_is_the_default_when_piped() -> None:
    result = runner.invoke(app, ["compare", *SMALL_ARGS])
    assert result.exit_code == 0, result.output
    assert result.stdout == (DATA / "compare_small.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["json", "csv", "md"])
def test_cli_formats_match_golden_files(fmt: str) -> None:
    result = runner.invoke(app, ["compare", *SMALL_ARGS, "--format", fmt])
    assert result.exit_code == 0, result.output
    assert result.stdout == (DATA / f"compare_small.{fmt}").read_text(encoding="utf-8")
    assert result.stderr == ""


def test_cli_rich_table() -> None:
    result = runner.invoke(app, ["compare", *SMALL_ARGS, "--format", "table"])
    assert result.exit_code == 0, result.output
    assert "Fitted exponents" in result.stdout and "resnet50 (resnet, paper" in result.stdout
    # At 80 columns the stage lists fold between items, never inside a number.
    assert "256 512" in result.stdout and "1024" in result.stdout and "dWr" in result.stdout


def test_target_flops_rows(target_rows: list[compare.CompareRow]) -> None:
    keys = [row.key for row in target_rows]
    assert keys[:4] == [
        "regnetx_400mf/base",
        "regnetx_400mf/w/x2",
        "regnetx_400mf/w/@8G",
        "regnetx_400mf/dWr/x2",
    ]
    markdown = compare_report.to_markdown(target_rows, compare.exponents(target_rows))
    assert "| dWr @8G | 2.04 | 232 |" in markdown
    record = json.loads(compare_report.to_json(target_rows, [], "paper"))["rows"][2]
    assert (record["strategy"], record["target_flops"]) == ("w", 8_000_000_000)
    assert abs(record["flops"] - 8e9) / 8e9 < 0.05


def test_cli_sweep_file_and_output_file(tmp_path: Path) -> None:
    sweep = tmp_path / "small.yaml"
    sweep.write_text("bases: [regnetx_400mf, resnet50]\nstrategies: [w, dWr]\nfactors: [2, 4]\n")
    out = tmp_path / "out.json"
    result = runner.invoke(app, ["compare", "--sweep", str(sweep), "-f", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8") == (DATA / "compare_small.json").read_text("utf-8")


def test_cli_options_override_the_sweep() -> None:
    args = ["compare", "resnet50", "--strategies", "d", "--factors", "2", "-f", "csv"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    keys = [line.split(",")[0] for line in result.stdout.splitlines()[1:]]
    assert keys == ["resnet50/base", "resnet50/d/x2"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--factors", "2,-3"], "error: --factors: -3.0 must be a finite number > 0\n"),
        (["--factors", "two"], "error: --factors: 'two' is not a number; factors must be > 0\n"),
        (
            ["--target-flops", "16Q"],
            "error: --target-flops: expected a count such as 16G or 4e9, got '16Q'\n",
        ),
        (["--target-factor", "0"], "error: --target-factor: 0.0 must be a finite number > 0\n"),
        (
            ["--target-factor", "four"],
            "error: --target-factor: 'four' is not a number; factors must be > 0\n",
        ),
        (
            ["--convention", "timm"],
            "error: Invalid value for '--convention': 'timm' is not one of 'paper', 'fvcore'.\n",
        ),
        (
            ["--format", "xml"],
            "error: Invalid value for '--format' / '-f': 'xml' is not one of 'table', 'md', 'json', "
            "'csv'.\n",
        ),
        (["--plot", "out.jpg"], "error: --plot: out.jpg must end in .png or .svg\n"),
        (["nope.yaml"], "error: nope.yaml: no such file\n"),
        (["--sweep", "nope.yaml"], "error: nope.yaml: no such file\n"),
    ],
)
def test_cli_user_errors(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "out.md"
    base_args = ["compare", "resnet50", "-s", "w", "--factors", "2"]
    result = runner.invoke(app, [*base_args, *args, "-o", str(out)])
    assert (result.exit_code, result.stderr, result.stdout) == (2, message, "")
    assert not out.exists()


def test_cli_bad_strategy_lists_the_grammar() -> None:
    result = runner.invoke(app, ["compare", "resnet50", "-s", "w,xyz", "--factors", "2"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: --strategies: strategy 'xyz' is not understood; ")
    assert result.stderr.count("\n") == 1


def test_cli_scale_error_names_the_row_key() -> None:
    args = ["compare", "resnet50", "-s", "d", "--factors", "1000", "-f", "csv"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert [line.split(",")[0] for line in result.stdout.splitlines()] == ["key", "resnet50/base"]
    assert result.stderr.startswith("error: resnet50/d/x1000: ") and result.stderr.count("\n") == 1


# One model that cannot be made leaves the others standing: every valid row is shown, one
# error line names each refused key and why, and the exit status is 2, in every format.
PARTIAL = ["compare", "vit_l16", "-s", "w,d,dWr", "--factors", "16,64"]
REFUSED = "error: vit_l16/d/x64: num_layers: must be between 1 and 1000, got 1536\n"
KEPT = ["vit_l16/base", "vit_l16/w/x16", "vit_l16/w/x64", "vit_l16/d/x16", "vit_l16/dWr/x16"]
KEPT += ["vit_l16/dWr/x64"]


def test_partial_compare_in_every_format(tmp_path: Path) -> None:
    document = json.loads(runner.invoke(app, [*PARTIAL, "-f", "json"]).stdout)
    assert [row["key"] for row in document["rows"]] == KEPT
    for fmt in ("json", "csv", "md", "table"):
        result = runner.invoke(app, [*PARTIAL, "-f", fmt])
        assert (result.exit_code, result.stderr) == (2, REFUSED), fmt
        assert "vit_l16/dWr/x64" in result.stdout or "dWr" in result.stdout
        assert "x64" not in result.stdout.replace("dWr/x64", "").replace("w/x64", ""), fmt
        out = tmp_path / f"out.{fmt}"
        written = runner.invoke(app, [*PARTIAL, "-f", fmt, "-o", str(out)])
        assert (written.exit_code, written.stdout, written.stderr) == (2, "", REFUSED)
        if fmt != "table":
            assert out.read_text(encoding="utf-8") == result.stdout
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, [*PARTIAL, "-f", "csv"]).stdout)))
    assert [row["key"] for row in rows] == KEPT
    markdown = runner.invoke(app, [*PARTIAL, "-f", "md"]).stdout
    assert "| d | 64 |" not in markdown and "| d | 16 |" in markdown


def test_every_refused_model_has_its_own_line() -> None:
    args = ["compare", "vit_l16", "-s", "d", "--factors", "2,64,100", "-f", "csv"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert [line.split(": ")[1] for line in lines] == ["vit_l16/d/x64", "vit_l16/d/x100"]
    assert lines[1].endswith("got 2400")  # 24 layers x 100
    assert all(line.startswith("error: ") for line in lines)


@pytest.mark.parametrize(
    ("goal", "key", "side"),
    [
        (["--target-flops", "1e18"], "resnet50/w/@1e+06T", "largest"),
        (["--target-flops", "1K"], "resnet50/w/@1K", "smallest"),
        (["--target-factor", "1e-9"], "resnet50/w/@1e-09x", "smallest"),
    ],
)
def test_cli_unreachable_targets_are_refused(goal: list[str], key: str, side: str) -> None:
    for fmt in ("json", "md"):
        result = runner.invoke(app, ["compare", "resnet50", "-s", "w", *goal, "-f", fmt])
        assert result.exit_code == 2 and result.stderr.count("\n") == 1
        assert result.stderr.startswith(f"error: {key}: strategy 'w' cannot reach the target")
        assert f"the {side} model it gives" in result.stderr
    # What is shown is the base alone: no scaled row, no ranking.
    result = runner.invoke(app, ["compare", "resnet50", "-s", "w", *goal, "-f", "json"])
    document = json.loads(result.stdout)
    assert [row["key"] for row in document["rows"]] == ["resnet50/base"]
    assert document["summary"] == []


def test_cli_a_tiny_factor_ranks_nothing() -> None:
    # A nominal factor of 1e-10: w gives its smallest model, 0.121 G flops, for a goal of
    # 0.4 flops. It was a ZeroDivisionError; now it is shown, unranked.
    args = ["compare", "resnet50", "-s", "w,d", "--factors", "1e-10", "-f", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    [group] = json.loads(result.stdout)["summary"]
    assert (group["goal_flops"], group["equal_flops"]) == (1, False)
    assert [(e["rank"], e["best"]) for e in group["ranking"]] == [(None, False), (None, False)]


def test_default_compare_answers_at_equal_flops(default_json: dict) -> None:
    # Every group is solved for 2, 4, 8 or 16 times its base's flops; each ranked model lies
    # within 5% of that goal, and no model beyond it is ranked.
    bases = {row["base"]: row["flops"] for row in default_json["rows"] if row["strategy"] is None}
    groups = default_json["summary"]
    assert [(g["goal"], g["value"]) for g in groups[:4]] == [
        ("target_factor", k) for k in (2.0, 4.0, 8.0, 16.0)
    ]
    assert len(groups) == 5 * 4
    unranked = []
    for group in groups:
        assert group["goal_flops"] == round(group["value"] * bases[group["base"]])
        ranked = [e for e in group["ranking"] if e["rank"] is not None]
        assert len(ranked) >= 2 and [e["rank"] for e in ranked][0] == 1
        for entry in group["ranking"]:
            within = abs(entry["flops"] - group["goal_flops"]) <= 0.05 * group["goal_flops"]
            assert (entry["rank"] is not None) == within, entry["key"]
            if not within:
                unranked.append(entry["key"])
        assert group["equal_flops"] == (len(ranked) == len(group["ranking"]))
    # The strategies whose nearest model misses by more than 5% (rounding steps): shown, not
    # ranked. resnet50/w keeps its group widths, so its flops grow in coarse steps.
    assert sorted(unranked) == [
        "regnety_4gf/dWr/@2x",
        "resnet50/dwr/@8x",
        "resnet50/w/@2x",
        "resnet50/w/@4x",
    ]


def test_cli_plot_png_and_svg(tmp_path: Path) -> None:
    for name, magic in (("sweep.png", b"\x89PNG"), ("sweep.svg", b"<?xml")):
        plot = tmp_path / name
        result = runner.invoke(app, ["compare", *SMALL_ARGS, "-f", "json", "--plot", str(plot)])
        assert result.exit_code == 0, result.output
        assert plot.read_bytes().startswith(magic)
        json.loads(result.stdout)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.png", "sweep.svg"]


def test_cli_plot_without_matplotlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    plot = tmp_path / "sweep.png"
    result = runner.invoke(app, ["compare", *SMALL_ARGS, "--plot", str(plot)])
    assert result.exit_code == 2 and result.stdout == "" and not plot.exists()
    assert result.stderr == (
        "error: --plot needs matplotlib; install the plot extra: pip install 'scalecalc[plot]'\n"
    )


# The default sweep: the paper's headline result must come out of it.


def test_default_compare_json_is_clean_and_complete(default_json: dict) -> None:
    assert default_json["convention"] == "paper"
    assert len(default_json["rows"]) == 5 * (1 + 6 * 4)
    assert len(default_json["exponents"]) == 5 * 6


def test_default_compare_dWr_has_fewer_acts_than_dwr_on_every_cnn(default_json: dict) -> None:
    fits = {(f["base"], f["strategy"]): f for f in default_json["exponents"]}
    for base in CNN_BASES:
        assert fits[(base, "dWr")]["acts"] < fits[(base, "dwr")]["acts"], base
        # The paper's reading: dWr close to √s, w near 0.5, d and r near 1.
        assert fits[(base, "dWr")]["acts"] < 0.7
        assert fits[(base, "r")]["acts"] == pytest.approx(1.0, abs=0.05)


def test_cli_ctrl_c_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(compare, "run", interrupted)
    out = tmp_path / "out.json"
    result = runner.invoke(app, ["compare", *SMALL_ARGS, "-f", "json", "-o", str(out)])
    assert (result.exit_code, result.stdout) == (130, "")
    assert result.stderr == "error: interrupted; nothing was written\n" and not out.exists()
