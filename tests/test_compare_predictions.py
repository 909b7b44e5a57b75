"""compare --profile (predicted time per image) and --memory / --max-batch (predicted peak
memory): every format, numbers from the profile's coefficients and the memory trace."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalecalc.api import count, load, scale
from scalecalc.cli import app
from scalecalc.units import parse_bytes

runner = CliRunner()
PROFILE = Path(__file__).resolve().parent.parent / "scalecalc/profiles/rtx4090.json"
SWEEP = ["regnety_400mf", "-s", "w,dWr", "--factors", "2"]


def by_hand(spec, family: str) -> float:  # noqa: ANN001
    """Seconds per image from the shipped profile's own numbers and fvcore-convention counts."""
    document = json.loads(PROFILE.read_text())
    model, costs = document["model"], count(spec, "fvcore")
    counts = {"flops": costs.flops, "params": costs.params, "acts": costs.acts}
    log_time = model["intercepts"][family]
    log_time += sum(c * math.log(counts[m]) for m, c in model["coefficients"].items())
    return math.exp(log_time)


def compare_json(*args: str) -> dict:
    result = runner.invoke(app, ["compare", *SWEEP, *args, "-f", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_predicted_time_is_the_profiles_formula_on_fvcore_counts() -> None:
    document = compare_json("--profile", "rtx4090")
    base = load("regnety_400mf").spec
    rows = {row["key"]: row for row in document["rows"]}
    expected_base = by_hand(base, "regnet")
    for key, strategy in (("regnety_400mf/w/x2", "w"), ("regnety_400mf/dWr/x2", "dWr")):
        prediction = rows[key]["prediction"]
        expected = by_hand(scale(base, strategy, 2), "regnet")
        assert prediction["seconds_per_image"] == pytest.approx(expected, rel=1e-12)
        assert prediction["images_per_second"] == pytest.approx(1 / expected, rel=1e-12)
        assert prediction["ratio_to_base"] == pytest.approx(expected / expected_base, rel=1e-12)
        assert prediction["profile"] == "rtx4090" and prediction["extrapolated"] is False
    # The summary ranks by acts and carries the predicted time of each strategy.
    entries = document["summary"][0]["ranking"]
    for entry in entries:
        assert entry["predicted_s"] == rows[entry["key"]]["prediction"]["seconds_per_image"]
    assert document["profile"] == "rtx4090"


def test_extrapolation_is_marked_in_every_format() -> None:
    # pycls's V100 data: RegNetY-400MF is inside it, 64x its pixels (250 M acts) is beyond its
    # largest model; it has no ViT at all (an unseen family).
    args = [
        "compare",
        "regnety_400mf",
        "-s",
        "r",
        "--factors",
        "64",
        "--profile",
        "v100-pycls-infer",
    ]
    document = json.loads(runner.invoke(app, [*args, "-f", "json"]).stdout)
    flags = {row["key"]: row["prediction"]["extrapolated"] for row in document["rows"]}
    assert flags == {"regnety_400mf/base": False, "regnety_400mf/r/x64": True}
    vit = ["compare", "vit_s16", "-s", "w", "--factors", "2", "--profile", "v100-pycls-infer"]
    rows = json.loads(runner.invoke(app, [*vit, "-f", "json"]).stdout)["rows"]
    assert [row["prediction"]["extrapolated"] for row in rows] == [True, True]
    markdown = runner.invoke(app, [*args, "-f", "md"]).stdout
    assert "* marks an extrapolation" in markdown
    line = next(line for line in markdown.splitlines() if line.startswith("| r "))
    assert line.split("|")[-4].strip().endswith("*")
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, [*args, "-f", "csv"]).stdout)))
    assert [row["predicted_extrapolated"] for row in rows] == ["False", "True"]
    table = runner.invoke(app, [*args, "-f", "table"]).stdout
    assert "marks an extrapolation" in table and "v100-pycls-infer" in table


def test_memory_columns_and_max_batch() -> None:
    from scalecalc.nn.memory import estimate_peak

    budget = "1GiB"
    document = compare_json("--memory", "--batch-size", "4", "--train", "--max-batch", budget)
    base = load("regnety_400mf").spec
    row = next(r for r in document["rows"] if r["key"] == "regnety_400mf/base")
    peak = estimate_peak(base, 4, train=True).total_bytes
    assert row["memory"]["peak_bytes"] == peak
    largest = row["memory"]["max_batch"]
    assert estimate_peak(base, largest, train=True).total_bytes <= parse_bytes(budget)
    assert estimate_peak(base, largest + 1, train=True).total_bytes > parse_bytes(budget)
    assert document["memory_setting"] == "training step, optimizer none, float32, batch 4"
    markdown = runner.invoke(
        app, ["compare", *SWEEP, "--memory", "--batch-size", "4", "--train", "-f", "md"]
    ).stdout
    assert "peak mem (MiB) @4" in markdown and f"| {peak / 2**20:.0f} |" in markdown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "nope"], "nope"),
        (["--max-batch", "24"], "--max-batch: expected a size such as 24GiB"),
        (["--memory", "--optimizer", "adam"], "--optimizer: an optimizer's state exists only"),
        (["--memory", "--batch-size", "0"], "--batch-size"),
    ],
)
def test_bad_prediction_options_are_one_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["compare", *SWEEP, *args])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr


def test_sizes_parse_with_binary_and_decimal_units() -> None:
    assert parse_bytes("24GiB") == 24 * 2**30
    assert parse_bytes("80GB") == 80 * 10**9
    assert parse_bytes("512 MiB") == 512 * 2**20


def test_ratio_to_base_in_the_profiles_own_convention() -> None:
    # The V100 profiles count in the paper convention, as the sweep does.
    document = compare_json("--profile", "v100-pycls-infer")
    rows = {row["key"]: row["prediction"] for row in document["rows"]}
    base = rows["regnety_400mf/base"]["seconds_per_image"]
    for key, prediction in rows.items():
        assert prediction["ratio_to_base"] == pytest.approx(
            prediction["seconds_per_image"] / base, rel=1e-12
        ), key
    assert rows["regnety_400mf/base"]["ratio_to_base"] == 1.0
