"""Error bars where predicted time is read: each profile stores its held-out error by region
(family × flops third) and each group's fitted range; every prediction carries the error of
its region, and is marked when it leaves its own family's range, in every output."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import statistics
from pathlib import Path

import pytest
from storederrors import BUILTIN, stored_error, time_cell
from typer.testing import CliRunner

from scalecalc.api import count, load
from scalecalc.cli import app
from scalecalc.cli import common as _common
from scalecalc.profile.document import load_profile, profile_to_json
from scalecalc.profile.fit import FitRecord, held_out, profile_form
from scalecalc.profile.model import predict
from scalecalc.profile.regions import (
    MIN_REGION_ROWS,
    NO_REGIONS,
    ErrorRegions,
    applied_error,
    error_regions,
)

runner = CliRunner()
REPO = Path(__file__).resolve().parent.parent
TIMM_4090 = REPO / "data/published/timm/benchmark-infer-amp-nchw-pt291-cu128-4090.csv"


def _records() -> tuple[list[FitRecord], list[float]]:
    """60 models of flops 1..60 and their held-out predictions, errors set by hand: vit (flops
    1-45) 10% in the lower third, 20% in the middle, 40% in the upper; resnet (46-57) 30%;
    three unnamed models (58-60, group "other") 50%."""
    records, predicted = [], []
    for flops in range(1, 61):
        if flops <= 45:
            family, error = "vit", 10 if flops <= 20 else 20 if flops <= 40 else 40
        else:
            family, error = ("resnet", 30) if flops <= 57 else (None, 50)
        records.append(FitRecord(f"m{flops}", family, flops, 1, 1, 1.0))
        predicted.append(1.0 + error / 100)
    return records, predicted


def test_regions_are_family_and_flops_third_with_enough_rows() -> None:
    records, predicted = _records()
    regions = error_regions(records, predicted, ["vit", "resnet", "other"])
    # The 1/3 and 2/3 quantiles of 1..60 (inclusive): 1 + 59/3 and 1 + 2·59/3.
    assert regions.thirds == pytest.approx((1 + 59 / 3, 1 + 2 * 59 / 3))
    found = {(r.group, r.third): (r.rows, r.median_abs_pct_error) for r in regions.regions}
    # vit: 20 rows in each of the lower and middle thirds, 5 in the upper (too few);
    # its 45 rows: 20 at 10%, 20 at 20%, 5 at 40%, median 20%. resnet: 12 rows, all in the
    # upper third; other: 3 rows, too few for a region. The upper third: 12 at 30%, 5 at 40%,
    # 3 at 50%: the 10th and 11th of 20 are both 30%.
    assert found == {
        ("resnet", 3): (12, pytest.approx(30)),
        ("resnet", None): (12, pytest.approx(30)),
        ("vit", 1): (20, pytest.approx(10)),
        ("vit", 2): (20, pytest.approx(20)),
        ("vit", None): (45, pytest.approx(20)),
        (None, 1): (20, pytest.approx(10)),
        (None, 2): (20, pytest.approx(20)),
        (None, 3): (20, pytest.approx(30)),
    }
    assert MIN_REGION_ROWS == 6


def test_a_prediction_takes_the_finest_region_that_has_enough_rows() -> None:
    records, predicted = _records()
    regions = error_regions(records, predicted, ["vit", "resnet", "other"])
    shipped = load_profile("v100-pycls-infer")
    profile = dataclasses.replace(
        shipped, intercepts={"vit": -20.0, "resnet": -20.0, "other": -20.0}, regions=regions
    )
    error = lambda family, flops: applied_error(profile, family, flops)  # noqa: E731
    assert error("vit", 5) == (pytest.approx(10), "vit, lower flops third")
    assert error("vit", 50) == (pytest.approx(20), "vit")  # upper third: 5 rows
    assert error("resnet", 50) == (pytest.approx(30), "resnet, upper flops third")
    assert error("resnet", 2) == (pytest.approx(30), "resnet")  # no resnet in the lower third
    # convnext has no intercept: it joins "other", whose 3 rows make no region
    assert error("convnext", 2) == (pytest.approx(10), "lower flops third")
    assert error(None, 59) == (pytest.approx(30), "upper flops third")
    # No region at all: the whole profile's error, and a profile without regions says so.
    empty = dataclasses.replace(profile, regions=ErrorRegions((1.0, 2.0), ()))
    whole = shipped.validation.median_abs_pct_error
    assert applied_error(empty, "vit", 5) == (whole, "all rows")
    old = dataclasses.replace(profile, regions=None)
    assert applied_error(old, "vit", 5) == (whole, NO_REGIONS)


@pytest.mark.parametrize("name", ["v100-pycls-infer", "v100-pycls-train"])
def test_stored_regions_are_the_held_out_errors_of_the_kept_form(name: str) -> None:
    """The pycls profiles' 36 leave-one-out errors, grouped and their medians taken here."""
    from scalecalc.profile.data import BUILTINS

    records = BUILTINS[name].records(REPO / "data" / "published")
    profile = load_profile(name)
    predicted = held_out(records, profile_form(profile), "leave-one-out")
    flops = sorted(r.flops for r in records)
    # inclusive quantiles of 36 values: positions 35/3 and 70/3 between sorted neighbours
    low = flops[11] + (35 / 3 - 11) * (flops[12] - flops[11])
    high = flops[23] + (70 / 3 - 23) * (flops[24] - flops[23])
    assert profile.regions is not None
    assert profile.regions.thirds == pytest.approx((low, high), rel=1e-12)
    errors: dict[tuple, list[float]] = {}
    for record, seconds in zip(records, predicted):
        third = 1 if record.flops <= low else 2 if record.flops <= high else 3
        error = abs(seconds / record.seconds - 1) * 100
        for key in ((record.family, third), (record.family, None), (None, third)):
            errors.setdefault(key, []).append(error)
    expected = {k: (len(v), statistics.median(v)) for k, v in errors.items() if len(v) >= 6}
    found = {(r.group, r.third): (r.rows, r.median_abs_pct_error) for r in profile.regions.regions}
    assert {k: rows for k, (rows, _) in found.items()} == {k: n for k, (n, _) in expected.items()}
    for key, (_, median) in expected.items():
        assert found[key][1] == pytest.approx(median, rel=1e-9), key
    # 6 ResNets and ResNeXts: their error is three times the whole profile's
    assert found[("resnet", None)][1] > 2.5 * profile.validation.median_abs_pct_error


def _timm_max(pattern: str, column: str) -> float:
    with TIMM_4090.open(encoding="utf-8", newline="") as file:
        rows = [r for r in csv.DictReader(file) if re.match(pattern, r["model"])]
    return max(float(r[column]) for r in rows if r[column])


def test_group_ranges_are_each_familys_published_extremes() -> None:
    """The rtx4090 profile's EfficientNet range ends at tf_efficientnet_b5's 63.48 GMACs, read
    here from timm's CSV (the issue's "family max 63.5"), ConvNeXt's at its largest model."""
    profile = load_profile("rtx4090")
    efficientnet = profile.group_ranges["efficientnet"]
    assert efficientnet["flops"][1] == pytest.approx(
        _timm_max(r"(tf_)?efficientnet_b\d", "infer_gmacs") * 1e9
    )
    assert efficientnet["flops"][1] == pytest.approx(63.48e9)
    convnext = profile.group_ranges["convnext"]
    assert convnext["flops"][1] == pytest.approx(_timm_max(r"convnext_", "infer_gmacs") * 1e9)
    assert convnext["acts"][1] == pytest.approx(_timm_max(r"convnext_", "infer_macts") * 1e6)
    assert set(profile.group_ranges) == set(profile.intercepts)


@pytest.mark.parametrize("preset", ["efficientnet_b5", "convnext_b"])
def test_extrapolation_is_judged_against_the_familys_range(preset: str, tmp_path: Path) -> None:
    """x16 width: inside the whole zoo's range (which once hid it), outside the family's."""
    spec = scale_spec(preset)
    costs = count(spec, "fvcore")
    family = load(preset).spec.family
    profile = load_profile("rtx4090")
    whole = profile.ranges
    assert all(low <= getattr(costs, m) <= high for m, (low, high) in whole.items())
    assert costs.flops > profile.group_ranges[family]["flops"][1]
    assert predict(profile, costs.flops, costs.params, costs.acts, family).extrapolated
    # A profile written before group ranges keeps the whole range, as it did.
    document = json.loads((BUILTIN / "rtx4090.json").read_text(encoding="utf-8"))
    del document["group_range"], document["error_regions"]
    (tmp_path / "old.json").write_text(json.dumps(document), encoding="utf-8")
    old = load_profile(tmp_path / "old.json")
    found = predict(old, costs.flops, costs.params, costs.acts, family)
    assert not found.extrapolated
    assert (found.error_pct, found.error_region) == (
        old.validation.median_abs_pct_error,
        NO_REGIONS,
    )
    # compare: the mark in the ranking and in the per-model table
    args = ["compare", preset, "-s", "w,dWr", "--target-factor", "16", "--profile", "rtx4090"]
    result = runner.invoke(app, [*args, "-f", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    assert [row["prediction"]["extrapolated"] for row in rows] == [False, True, True]


def scale_spec(preset: str):  # noqa: ANN201
    from scalecalc.api import scale

    return scale(load(preset).spec, "w", 16)


def test_builtin_profiles_round_trip_with_their_regions() -> None:
    for path in sorted(BUILTIN.glob("*.json")):
        profile = load_profile(path)
        assert profile.regions is not None and profile.group_ranges, path.name
        # equal as JSON: pycls's counts are whole numbers, read back as floats
        written = json.loads(profile_to_json(profile))
        assert written == json.loads(path.read_text(encoding="utf-8")), path.name


def test_profile_show_lists_every_stored_region_and_group_range() -> None:
    result = runner.invoke(app, ["profile", "show", "rtx4090"])
    assert result.exit_code == 0, result.output
    document = json.loads((BUILTIN / "rtx4090.json").read_text(encoding="utf-8"))
    thirds = ("lower", "middle", "upper")
    for region in document["error_regions"]["regions"]:
        group, third = region["group"], region["third"]
        size = None if third is None else f"{thirds[third - 1]} flops third"
        name = ", ".join(p for p in (group, size) if p)
        line = f"| {name} | {region['rows']} | {region['median_abs_pct_error']:.1f}% |"
        assert line in result.stdout
    for group, ranges in document["group_range"].items():
        assert (
            f"  - {group}: flops {ranges['flops'][0]:.4g}–{ranges['flops'][1]:.4g}" in result.stdout
        )


# Every output path: compare's per-model tables, the equal-flops ranking with run costs, and
# the equal-time ranking, in every format, piped, at a terminal and into a file.
SWEEPS = {
    "equal-flops": ["vit_b16", "efficientnet_b5", "-s", "w,dWr", "--target-factor", "16"]
    + ["--epochs", "10"],
    "equal-time": ["convnext_b", "regnety_4gf", "-s", "w,dWr", "--target-time-factor", "8"],
}
WHERE = ("pipe", "terminal", "file")


def _expected(row: dict) -> tuple[float, str, str]:
    """A row's stored error, region and predicted-time cell, from the profile file."""
    spec = load({"family": row["family"], **row["spec"]}).spec
    error, region = stored_error("rtx4090", row["family"], count(spec, "fvcore").flops)
    prediction = row["prediction"]
    value = f"{prediction['seconds_per_image'] * 1e3:.3g}"
    return error, region, time_cell(value, prediction["extrapolated"], error)


def _run(args: list[str], where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(_common, "stdout_is_terminal", lambda: where == "terminal")
    monkeypatch.setenv("COLUMNS", "200")
    out = tmp_path / "out.txt"
    result = runner.invoke(app, [*args, *(["-o", str(out)] if where == "file" else [])])
    assert result.exit_code == 0, result.output
    if where == "file":
        assert result.stdout == ""
        return out.read_text(encoding="utf-8")
    return result.stdout


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("sweep", SWEEPS)
def test_every_format_shows_each_predicted_times_stored_error(
    sweep: str, where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["compare", *SWEEPS[sweep], "--profile", "rtx4090"]
    document = json.loads(_run([*args, "-f", "json"], where, tmp_path, monkeypatch))
    rows = {row["key"]: row for row in document["rows"]}
    expected = {key: _expected(row) for key, row in rows.items()}
    assert any(row["prediction"]["extrapolated"] for row in rows.values())
    for key, (error, region, _cell) in expected.items():
        fields = {"time_error_pct": error, "time_error_region": region}
        assert rows[key]["prediction"].items() >= fields.items(), key
        if sweep == "equal-flops":
            assert rows[key]["run_cost"].items() >= fields.items(), key
    entries = [entry for group in document["summary"] for entry in group["ranking"]]
    assert len(entries) == len(rows) - 2  # every scaled row is ranked
    for entry in entries:
        error, region, _cell = expected[entry["key"]]
        assert (entry["time_error_pct"], entry["time_error_region"]) == (error, region)
        assert entry["extrapolated"] == rows[entry["key"]]["prediction"]["extrapolated"]
    lines = list(
        csv.DictReader(io.StringIO(_run([*args, "-f", "csv"], where, tmp_path, monkeypatch)))
    )
    for line in lines:
        error, region, _cell = expected[line["key"]]
        assert float(line["predicted_time_error_pct"]) == error
        assert line["predicted_time_error_region"] == region
    for fmt in ("md", "table"):
        text = _run([*args, "-f", fmt], where, tmp_path, monkeypatch)
        for key, (error, region, cell) in expected.items():
            # Once in the per-model table, once more in the ranking for a scaled model.
            assert text.count(cell) >= 1 + (rows[key]["strategy"] is not None), (fmt, key, cell)
            assert f"{region} {error:.1f}%" in " ".join(text.split())
        if sweep == "equal-flops":
            for key, row in rows.items():
                run = row["run_cost"]
                flag = row["prediction"]["extrapolated"]
                hours = time_cell(f"{run['hours_per_run']:.3g}", flag, expected[key][0])
                assert hours in text, (fmt, key, hours)


def test_a_fit_of_few_models_stores_no_region_and_says_so(tmp_path: Path) -> None:
    """`profile fit` on five models: thirds and group range stored, no region of 6 rows, so
    each prediction takes the whole leave-one-out error, named "all rows"."""
    from test_profile_fit import C, MODELS, bench_file

    # the first five models (flops 8, 2, 6, 1, 4 e9), every other one 10% slow
    seconds = [C * acts**0.75 * (1.1 if i % 2 else 1) for i, (_, acts, _) in enumerate(MODELS)]
    path = bench_file(tmp_path, seconds[:5])
    output = tmp_path / "mine.json"
    result = runner.invoke(app, ["profile", "fit", str(path), "-o", str(output)])
    assert result.exit_code == 0, result.output
    stored = json.loads(output.read_text(encoding="utf-8"))
    # flops 1, 2, 4, 6, 8 (e9): the inclusive 1/3 and 2/3 quantiles lie at positions 4/3
    # and 8/3: 2 + (4 - 2)/3 and 4 + 2·(6 - 4)/3
    regions = stored["error_regions"]
    assert regions["flops_thirds"] == pytest.approx([(2 + 2 / 3) * 1e9, (4 + 4 / 3) * 1e9])
    assert (regions["min_rows"], regions["regions"]) == (6, [])
    assert stored["group_range"] == {"resnet": stored["range"]}
    profile = load_profile(output)
    found = predict(profile, 2e9, 2e7, 2e6, "resnet")
    assert (found.error_pct, found.error_region) == (
        profile.validation.median_abs_pct_error,
        "all rows",
    )
    whole = f"{profile.validation.median_abs_pct_error:.1f}%"
    assert f"all rows ({whole}); no region holds 6 rows\n" in result.stdout
