"""compare --profile (predicted time per image) and --memory / --max-batch (predicted peak
memory): every format, numbers from the profile's coefficients and the memory trace."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from storederrors import stored_error, time_cell
from typer.testing import CliRunner

from scalecalc.api import count, load, scale
from scalecalc.cli import app
from scalecalc.units import parse_bytes

runner = CliRunner()
PROFILE = Path(__file__).resolve().parent.parent / "scalecalc/profile/builtin/rtx4090.json"
SWEEP = ["regnety_400mf", "-s", "w,dWr", "--factors", "2"]


def by_hand(spec, family: str) -> float:  # noqa: ANN001
    """Seconds per image from the shipped profile's own numbers and fvcore-convention counts."""
    document = json.loads(PROFILE.read_text())
    model, costs = document["model"], count(spec, "fvcore")
    counts = {"flops": costs.flops, "params": costs.params, "acts": costs.acts}
    if model["form"] == "roofline":  # (exp(intercept)ᵖ + Σ (count · exp(cost))ᵖ)^(1/p)
        own, p = model["costs"][family], model.get("blend", 1.0)
        parts = [math.exp(model["intercepts"][family])]
        parts += [counts[m] * math.exp(c) for m, c in own.items()]
        return sum(part**p for part in parts) ** (1 / p)
    log_time = model["intercepts"][family]
    log_time += sum(c * math.log(counts[m]) for m, c in model["coefficients"].items())
    return math.exp(log_time)


def line_of(table: str, strategy: str) -> str:
    """The markdown line of `table` whose scaling cell names `strategy` (bold and "(best)" or a
    target like "@4x" aside)."""
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        label = next((c for c in cells if c.replace("*", "").split(" ")[0] == strategy), None)
        if line.startswith("| ") and label is not None:
            return line
    raise AssertionError(f"no line for {strategy} in {table}")


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
    assert "* ±" in line.split("|")[-4]
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, [*args, "-f", "csv"]).stdout)))
    # Lowercase, as the spec's booleans (class_token, layer_scale) are in the same file.
    assert [row["predicted_extrapolated"] for row in rows] == ["false", "true"]
    table = runner.invoke(app, [*args, "-f", "table"]).stdout
    assert "marks an extrapolation" in table and "v100-pycls-infer" in table


def test_memory_columns_and_max_batch() -> None:
    from scalecalc.devicememory import device_view
    from scalecalc.nn.memory import estimate_peak

    budget = "2GiB"
    document = compare_json("--memory", "--batch-size", "4", "--train", "--max-batch", budget)
    base = load("regnety_400mf").spec
    row = next(r for r in document["rows"] if r["key"] == "regnety_400mf/base")
    # With a budget the trace counts CUDA blocks, and the largest batch is the one whose device
    # view (tensors, reserve, workspace, context) fits.
    peak = estimate_peak(base, 4, train=True, device="cuda").total_bytes
    assert row["memory"]["peak_bytes"] == peak
    largest = row["memory"]["max_batch"]

    def needs(batch: int) -> int:
        return device_view(estimate_peak(base, batch, train=True, device="cuda").total_bytes).total

    assert needs(largest) <= parse_bytes(budget) < needs(largest + 1)
    assert document["memory_setting"] == "training step, optimizer none, float32, batch 4"
    assert row["memory"] | {"peak_bytes": 0, "max_batch": 0} == {
        "peak_bytes": 0,
        "max_batch": 0,
        "batch_size": 4,
        "dtype": "float32",
        "mode": "train",
    }
    markdown = runner.invoke(
        app, ["compare", *SWEEP, "--memory", "--batch-size", "4", "--train", "-f", "md"]
    ).stdout
    header = "peak memory (MiB, batch 4, float32, train)"
    cpu_peak = estimate_peak(base, 4, train=True).total_bytes
    assert f"| {header} |" in markdown and f"| {cpu_peak / 2**20:.0f} |" in markdown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "nope"], "nope"),
        (["--max-batch", "24"], "--max-batch: expected a size such as 24GiB"),
        (["--memory", "--optimizer", "adam"], "--optimizer: an optimizer's state exists only"),
        (["--memory", "--batch-size", "0"], "--batch-size"),
        # Options that shape predicted memory do nothing without it: refused, not ignored.
        (["--batch-size", "128"], "--batch-size: applies only to predicted memory; add --memory"),
        (["--dtype", "bfloat16"], "--dtype: applies only to predicted memory"),
        (["--train"], "--train: applies only to predicted memory"),
        (["--train", "--optimizer", "adamw"], "--train: applies only to predicted memory"),
        (["--optimizer", "sgd"], "--optimizer: applies only to predicted memory"),
        (["--profile", "rtx4090", "--batch-size", "8"], "--batch-size: applies only"),
        (["--amp"], "--amp: applies only to predicted memory"),
        (["--channels-last"], "--channels-last: applies only to predicted memory"),
        (["--memory", "--amp", "--dtype", "float32"], "--amp: autocast runs in a low precision"),
        (["--memory", "--ema"], "--ema: a weight EMA exists only with --train"),
        (["--max-batch", "512MiB"], "--max-batch: 512MiB is less than a CUDA device needs"),
    ],
)
def test_bad_prediction_options_are_one_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["compare", *SWEEP, *args])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr


def test_a_budget_below_the_weights_alone_is_one_line() -> None:
    # 1.5 GiB holds the context and workspace (1.008 GiB) but, with the 8.75% reserve, at most
    # 0.45 GiB of tensors: less than ViT-L/16's 304.3 M float32 weights (1.134 GiB), which on the
    # device take 1.134 * 1.0875 + 1.008 = 2.24 GiB.
    args = ["compare", "vit_l16", "-s", "w", "--factors", "2", "--max-batch", "1.5GiB"]
    result = runner.invoke(app, [*args, "--amp", "--train"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        "error: --max-batch: vit_l16/base: 1.5 GiB holds not even the weights (2.2 GiB on the "
        "device with its context and reserve); give a larger budget\n"
    )


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


def test_extrapolation_is_marked_in_the_ranking_too() -> None:
    # ViT-L/16 at 16x flops is beyond the largest model timm measured on the RTX 4090: its
    # predicted time carries the mark in the ranking as in the per-model table.
    args = ["compare", "vit_l16", "-s", "w,d,dWr", "--factors", "16", "--profile", "rtx4090"]
    result = runner.invoke(app, [*args, "-f", "md"])
    assert result.exit_code == 0, result.output
    ranking, per_model = result.stdout.split("\n### ")[:2]
    document = json.loads(runner.invoke(app, [*args, "-f", "json"]).stdout)
    vit = load("vit_l16").spec
    for row in document["rows"]:
        if row["strategy"] is None:
            continue
        prediction = row["prediction"]
        error, region = stored_error(
            "rtx4090", "vit", count(scale(vit, row["strategy"], 16), "fvcore").flops
        )
        assert (prediction["time_error_pct"], prediction["time_error_region"]) == (error, region)
        value = f"{prediction['seconds_per_image'] * 1e3:.3g}"
        cell = time_cell(value, prediction["extrapolated"], error)
        assert prediction["extrapolated"] is True
        for table in (ranking, per_model):
            line = line_of(table, row["strategy"])
            assert f"| {cell} |" in line, (row["key"], line)


def test_csv_names_the_memory_setting_and_writes_lowercase_booleans() -> None:
    args = ["compare", *SWEEP, "--memory", "--batch-size", "8", "--dtype", "bfloat16"]
    args += ["--train", "--optimizer", "adamw", "--profile", "rtx4090", "-f", "csv"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    header, *lines = list(csv.reader(io.StringIO(result.stdout)))
    # The annotation columns close each line, in this order.
    assert header[-10:] == [
        "predicted_s_per_image",
        "predicted_images_per_s",
        "predicted_time_ratio",
        "predicted_extrapolated",
        "predicted_time_error_pct",
        "predicted_time_error_region",
        "peak_memory_bytes",
        "memory_batch_size",
        "memory_dtype",
        "memory_mode",
    ]
    from scalecalc.nn.memory import estimate_peak

    base = load("regnety_400mf").spec
    expected = by_hand(base, "regnet")
    peak = estimate_peak(base, 8, "bfloat16", train=True, optimizer="adamw").total_bytes
    first = dict(zip(header, lines[0]))
    assert first["key"] == "regnety_400mf/base"
    assert float(first["predicted_s_per_image"]) == pytest.approx(expected, rel=1e-12)
    assert float(first["predicted_images_per_s"]) == pytest.approx(1 / expected, rel=1e-12)
    assert first["predicted_time_ratio"] == "1.0" and first["predicted_extrapolated"] == "false"
    error, region = stored_error("rtx4090", "regnet", count(base, "fvcore").flops)
    assert (float(first["predicted_time_error_pct"]), first["predicted_time_error_region"]) == (
        error,
        region,
    )
    assert first["peak_memory_bytes"] == str(peak)
    assert [first[c] for c in header[-3:]] == ["8", "bfloat16", "train+adamw"]
    booleans = {cell for line in lines for cell in line if cell.lower() in ("true", "false")}
    assert booleans <= {"true", "false"}


def test_memory_joins_the_ranking_and_a_device_too_small_is_named() -> None:
    # Training with AdamW at batch 1024: every model's predicted peak is compared with the
    # 24 GiB of the RTX 4090 (the profile states it), and those above it are named once.
    args = ["compare", *SWEEP, "--profile", "rtx4090", "--memory", "--batch-size", "1024"]
    args += ["--train", "--optimizer", "adamw"]
    result = runner.invoke(app, [*args, "-f", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    peaks = {row["key"]: row["memory"]["peak_bytes"] for row in document["rows"]}
    over = [key for key, peak in peaks.items() if peak > 24 * 2**30]
    assert 0 < len(over) <= len(peaks) == 3
    largest = max(over, key=peaks.__getitem__)
    # The inference profile answering a training question is warned about first.
    mismatch, memory = result.stderr.splitlines()
    assert mismatch.startswith("warning: --profile rtx4090 predicts inference")
    assert memory + "\n" == (
        f"warning: predicted peak memory of {len(over)} of 3 models exceeds the 24 GiB of "
        f"NVIDIA GeForce RTX 4090 (profile rtx4090); largest: {largest} at "
        f"{peaks[largest] / 2**30:.1f} GiB\n"
    )
    for group in document["summary"]:
        for entry in group["ranking"]:
            assert entry["peak_memory_bytes"] == peaks[entry["key"]]
    markdown = runner.invoke(app, [*args, "-f", "md"]).stdout
    ranking = markdown.split("\n### ")[0]
    header = "peak memory (MiB, batch 1024, float32, train+adamw)"
    assert f"| acts / best | pred. time (ms) | {header} |" in ranking
    for entry in document["summary"][0]["ranking"]:
        line = line_of(ranking, entry["strategy"])
        assert line.endswith(f" | {peaks[entry['key']] / 2**20:.0f} |")
    # Room to spare (batch 1 inference), or a profile that states no memory (a CPU): quiet.
    # (The CPU case asks a training question of an inference profile: that is its one line.)
    for quiet in (["rtx4090"], ["cpu-i9-10940x", "--batch-size", "512", "--train"]):
        result = runner.invoke(app, ["compare", *SWEEP, "--memory", "--profile", *quiet])
        lines = result.stderr.splitlines()
        assert result.exit_code == 0 and not any("peak memory" in line for line in lines)
        assert len(lines) == ("--train" in quiet), result.stderr
