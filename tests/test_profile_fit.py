"""Fitting a profile: which form is kept and why, refusals, and pins of the fit's constants."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalecalc.cli import app
from scalecalc.profile.document import BUILTIN_DIR, load_profile
from scalecalc.profile.model import predict
from scalecalc.profile.data import BUILTINS, fit_builtin
from scalecalc.profile.fit import CANDIDATES, FitRecord, fit_form, folds

runner = CliRunner()
DATA = Path(__file__).resolve().parent.parent / "data" / "published"
BENCH = Path(__file__).parent / "data" / "bench_cpu_default.json"
BATCH = 8
# Seconds per image = C · acts^0.75; flops and params move against acts, so no form with
# them beats acts alone. acts^0.75 of 16e6 is 8 · 10^4.5 (16^0.75 = 8, (1e6)^0.75 = 10^4.5).
C = 2e-10
MODELS = [  # (flops, acts, params): acts 1e6 … 64e6
    (8e9, 1e6, 9e7),
    (2e9, 2e6, 2e7),
    (6e9, 4e6, 6e7),
    (1e9, 8e6, 1e7),
    (4e9, 16e6, 3e7),
    (3e9, 32e6, 5e7),
    (5e9, 64e6, 4e7),
]


def bench_file(tmp_path: Path, seconds: list[float]) -> Path:
    """A `bench -f json` document of MODELS, timed in batches of BATCH images: the rows'
    median_s is per batch, `seconds` per image."""
    document = json.loads(BENCH.read_text(encoding="utf-8"))
    template = document["rows"][0]
    rows = []
    for index, ((flops, acts, params), per_image) in enumerate(zip(MODELS, seconds)):
        row = json.loads(json.dumps(template))
        counts = {"flops": int(flops), "acts": int(acts), "params": int(params)}
        row.update(key=f"resnet50/m{index}", family="resnet", **counts)
        times = [per_image * BATCH] * 5
        row["runtime"].update(batch_size=BATCH, median_s=times[0], times_s=times)
        rows.append(row)
    document["rows"] = rows
    document["setup"]["batch_size"] = BATCH
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_the_candidate_forms_are_every_set_of_measures_and_the_roofline() -> None:
    assert CANDIDATES == (
        ("flops",),
        ("acts",),
        ("params",),
        ("flops", "acts"),
        ("flops", "params"),
        ("acts", "params"),
        ("flops", "acts", "params"),
        ("roofline",),
        ("roofline", "blend 0.85"),
        ("roofline", "blend 0.7"),
        ("roofline", "blend 0.55"),
    )


def test_times_that_follow_acts_keep_acts_alone_at_the_measured_level(tmp_path: Path) -> None:
    path = bench_file(tmp_path, [C * acts**0.75 for _, acts, _ in MODELS])
    output = tmp_path / "mine.json"
    result = runner.invoke(
        app, ["profile", "fit", str(path), "-o", str(output), "--validation", "loo"]
    )
    assert result.exit_code == 0, result.output
    profile = load_profile(output)
    assert dict(profile.coefficients) == pytest.approx({"acts": 0.75}, abs=1e-9)
    # seven resnet models: a family intercept of its own, log C
    assert dict(profile.intercepts) == pytest.approx({"resnet": math.log(C)}, abs=1e-8)
    assert profile.validation.median_abs_pct_error == pytest.approx(0, abs=1e-6)
    # each measured model: predicted seconds per image = median_s / batch (not per batch)
    for flops, acts, params in MODELS:
        got = predict(profile, flops, params, acts, "resnet").seconds_per_image
        assert got == pytest.approx(C * acts**0.75, rel=1e-8)
    assert predict(profile, 5e9, 4e7, 16e6, "resnet").seconds_per_image == pytest.approx(
        2e-10 * 8 * 10**4.5, rel=1e-8
    )
    # why the form was kept: in the report and in the file
    assert profile.selection.startswith("acts: the lowest leave-one-out median error")
    assert "Spearman above 0; tried: flops" in profile.selection
    assert json.loads(output.read_text())["model"]["selection"] == profile.selection
    assert f"- form kept: {profile.selection}" in result.stdout


def test_a_fit_that_ranks_nothing_is_refused(tmp_path: Path) -> None:
    # slow, fast, slow, fast … as acts grow: every form either has a negative exponent or a
    # held-out Spearman <= 0 (before: a constant model, Spearman -1, was kept)
    seconds = [0.002 if i % 2 == 0 else 0.001 for i in range(len(MODELS))]
    ordered = sorted(MODELS, key=lambda m: m[1])
    MODELS_BY_ACTS = [(int(acts) * 100, int(acts), int(acts) * 2) for _, acts, _ in ordered]
    path = bench_file(tmp_path, seconds)
    document = json.loads(path.read_text())
    for row, (flops, acts, params) in zip(document["rows"], MODELS_BY_ACTS):
        row.update(flops=flops, acts=acts, params=params)
    path.write_text(json.dumps(document), encoding="utf-8")
    output = tmp_path / "mine.json"
    result = runner.invoke(app, ["profile", "fit", str(path), "-o", str(output)])
    assert result.exit_code == 2 and result.stdout == "" and not output.exists()
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        f"error: {path}: no form of time per image follows the measured times, so no profile "
        "was written (held-out error and Spearman of each: flops"
    )
    assert "Spearman -0." in result.stderr and "(Spearman <= 0)" in result.stderr
    assert ": negative flops exponent -" in result.stderr


@pytest.mark.parametrize("seconds", [1e-300, 1e300, 5e-10, 3601.0])
def test_times_outside_a_nanosecond_to_an_hour_are_refused(tmp_path: Path, seconds: float) -> None:
    times = [C * acts**0.75 for _, acts, _ in MODELS]
    times[2] = seconds
    result = runner.invoke(
        app, ["profile", "fit", str(bench_file(tmp_path, times)), "-o", str(tmp_path / "p.json")]
    )
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    # Times no clock gives (per batch of 8) stop at the bench-file reader; the rest at the fit.
    batch = seconds * BATCH
    if not 1e-9 <= batch <= 1e6:
        message = f"rows[2].runtime.median_s: must be seconds from 1e-09 to 1e+06, got {batch:g}"
    else:
        message = f"resnet50/m2: {seconds:.4g} s per image is outside 1e-09 to 3600 s"
    assert message in result.stderr


@pytest.mark.parametrize(("models", "groups"), [(2, {"other"}), (3, {"other", "vit"})])
def test_a_family_needs_three_models_for_an_intercept_of_its_own(
    models: int, groups: set[str]
) -> None:
    # vit models are 2x slower than the rest at equal acts; with 2 models they join "other"
    records = [FitRecord(f"o{i}", None, 1e9, 1e7, 1e6 * (i + 1), 1e-3 * (i + 1)) for i in range(5)]
    records += [
        FitRecord(f"v{i}", "vit", 1e9, 1e7, 1e6 * (i + 1), 2e-3 * (i + 1)) for i in range(models)
    ]
    # two rows of one vit model count once
    records.append(FitRecord("v0", "vit", 1e9, 1e7, 1e6, 2e-3))
    fit = fit_form(records, ("acts",), robust=False)
    assert set(fit.intercepts) == groups
    if models == 3:
        assert fit.intercepts["vit"] - fit.intercepts["other"] == pytest.approx(math.log(2))


def _crc32(data: bytes) -> int:
    """CRC-32 (IEEE, reflected, polynomial 0xEDB88320) bit by bit, apart from zlib."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def test_five_fold_assignment_is_crc32_of_the_name_mod_5() -> None:
    assert _crc32(b"123456789") == 0xCBF43926  # the CRC-32 check value
    names = ["resnet50", "vit_base_patch16_224", "regnety_040", "convnext_tiny", "a", "b", "c"]
    records = [FitRecord(n, None, 1, 1, 1, 1) for n in names]
    assert folds(records, "5-fold") == [_crc32(n.encode()) % 5 for n in names]


@pytest.mark.parametrize(
    "name",
    # refitting a timm profile (1400 rows, 11 forms, 5 folds) takes seconds on a busy machine
    [n if n.startswith("v100") else pytest.param(n, marks=pytest.mark.slow) for n in BUILTINS],
)
def test_builtin_profiles_are_a_fresh_fit_of_the_published_data(name: str) -> None:
    """Every shipped profile, validation numbers included, refitted from data/published: the
    form, the folds and the held-out numbers are pinned; floats agree to 1e-9 (BLAS rounding)."""
    shipped = json.loads((BUILTIN_DIR / f"{name}.json").read_text(encoding="utf-8"))
    fresh = fit_builtin(name, DATA)
    assert fresh.selection == shipped["model"]["selection"]
    assert dict(fresh.coefficients) == pytest.approx(shipped["model"]["coefficients"], rel=1e-9)
    assert dict(fresh.intercepts) == pytest.approx(shipped["model"]["intercepts"], rel=1e-9)
    assert fresh.form == shipped["model"]["form"]
    assert fresh.blend == shipped["model"].get("blend", 1.0)
    costs = shipped["model"].get("costs", {})
    assert set(fresh.costs) == set(costs)
    for group, cost in fresh.costs.items():
        assert dict(cost) == pytest.approx(costs[group], rel=1e-9)
    v = shipped["validation"]
    assert (fresh.validation.method, fresh.validation.rows) == (v["method"], v["rows"])
    assert fresh.validation.median_abs_pct_error == pytest.approx(
        v["median_abs_pct_error"], rel=1e-9
    )
    assert fresh.validation.spearman == pytest.approx(v["spearman"], rel=1e-12)
    regions = shipped["error_regions"]
    assert fresh.regions is not None
    assert list(fresh.regions.thirds) == pytest.approx(regions["flops_thirds"], rel=1e-12)
    keys = [(r["group"], r["third"], r["rows"]) for r in regions["regions"]]
    assert [(r.group, r.third, r.rows) for r in fresh.regions.regions] == keys
    errors = [r["median_abs_pct_error"] for r in regions["regions"]]
    assert [r.median_abs_pct_error for r in fresh.regions.regions] == pytest.approx(
        errors, rel=1e-9
    )
    ranges = {g: {m: list(r) for m, r in found.items()} for g, found in fresh.group_ranges.items()}
    assert ranges == shipped["group_range"]


def test_a_count_beyond_a_float_is_one_error_line(tmp_path: Path) -> None:
    path = bench_file(tmp_path, [C * acts**0.75 for _, acts, _ in MODELS])
    huge = '"flops": 1' + "0" * 400  # 401 digits
    text = path.read_text(encoding="utf-8").replace('"flops": 8000000000', huge)
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["profile", "fit", str(path), "-o", str(tmp_path / "p.json")])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {path}: rows[0].flops: must be an integer from 1")
