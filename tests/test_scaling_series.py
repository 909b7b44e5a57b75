"""benchmarks/scaling_series.py and the error columns of benchmarks/prediction.py: series found
in timm's 4090 file, ratio errors and region medians by hand, bad input refused in one line."""

from __future__ import annotations

import csv

import pytest
from conftest import REPO
from test_benchmarks import module, script

from scalecalc.profile.fit import FitRecord

TIMM_4090 = REPO / "data/published/timm/benchmark-infer-amp-nchw-pt291-cu128-4090.csv"


def _rows(model: str) -> dict[int, dict[str, str]]:
    """The 4090 file's rows of one model by image size."""
    with TIMM_4090.open(encoding="utf-8", newline="") as file:
        return {int(r["infer_img_size"]): r for r in csv.DictReader(file) if r["model"] == model}


def test_ratio_error_by_hand() -> None:
    series = module("scaling_series")
    # base 1 s predicted and measured; member predicted 3 s, measured 2 s: 3/2 - 1 = +50%
    assert series.ratio_errors([0, 1], [1.0, 3.0], [1.0, 2.0]) == pytest.approx([50.0])
    assert series.ratio_errors([1, 0, 2], [2.0, 4.0, 1.0], [2.0, 2.0, 1.0]) == pytest.approx(
        [-50.0, -50.0]
    )


def test_series_are_the_files_rows_at_each_image_size() -> None:
    series = module("scaling_series")
    records, index = series.indexed(TIMM_4090)
    found = {name: (axis, members) for axis, name, members in series.measured_series(index)}
    axis, (base, wide) = found["ResNet-50 -> WRN-50-2 @224"]
    assert axis == "width"
    for record, model in ((records[base], "resnet50"), (records[wide], "wide_resnet50_2")):
        row = _rows(model)[224]
        assert record.name == model
        assert record.flops == pytest.approx(float(row["infer_gmacs"]) * 1e9)
        assert record.seconds == pytest.approx(1 / float(row["infer_samples_per_sec"]))
    # every image size the file holds for resnet50, smallest first
    axis, members = found["resnet50 @160/176/224/288"]
    assert axis == "resolution" and sorted(_rows("resnet50")) == [160, 176, 224, 288]
    sizes = [round(records[i].flops / 1e9, 2) for i in members]
    assert sizes == [float(_rows("resnet50")[s]["infer_gmacs"]) for s in (160, 176, 224, 288)]
    # RegNetX 002 -> 320: all twelve at 224 px
    assert len(found["RegNetX 002-320 @224"][1]) == 12


def test_the_script_prints_each_axis_shipped_and_held_out() -> None:
    done = script("scaling_series", "--profile", "rtx4090")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "rtx4090 (roofline) vs benchmark-infer-amp-nchw-pt291-cu128-4090.csv: 70 series"
    )
    assert (
        "| axis | series | steps | shipped: median | shipped: worst | 5-fold: median" in done.stdout
    )
    counts = {line.split(" | ")[0][2:]: line.split(" | ")[1:3] for line in lines if "| " in line}
    assert counts["width"] == ["18", "35"] and counts["compound"] == ["4", "32"]


def test_the_script_refuses_a_profile_without_a_timm_file_in_one_line() -> None:
    done = script("scaling_series", "--profile", "v100-pycls-infer")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "error: --profile: 'v100-pycls-infer' is not a timm inference profile; "
        "one of rtx3090, rtx4090, rtx5090, cpu-i9-10940x\n"
    )


def test_prediction_regions_by_hand() -> None:
    prediction = module("prediction")
    records = [
        FitRecord("a", "resnet", 1e9, 1, 1, 1.0),
        FitRecord("b", None, 2e9, 1, 1, 1.0),
        FitRecord("c", "vit", 3e9, 1, 1, 1.0),
    ]
    # errors 10%, 20%, 40%; families: a, c -> median 25%; top third by flops: c -> 40%
    assert prediction.regions(records, [1.1, 0.8, 1.4]) == "20.0% / 25.0% / 40.0%"
