"""`scalecalc profile fit` and `show` through the CLI runner, from real `bench` output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalecalc.cli import app
from scalecalc.profile.document import load_profile
from scalecalc.profile.model import predict

runner = CliRunner()
DATA = Path(__file__).parent / "data"
TINY = str(DATA / "bench_tiny.yaml")
# tests/data/bench_cpu_default.json: `python -m scalecalc bench -f json` (the default sweep:
# RegNetY-400MF x w, d, r, dWr x 2, 4; batch 8, 5 timed iterations) on a shared 2-core CPU.
BENCH = DATA / "bench_cpu_default.json"


def test_fit_from_a_bench_run_of_tiny_models(tmp_path: Path) -> None:
    bench_file, profile_file = tmp_path / "bench.json", tmp_path / "mine.json"
    fast = ["--iters", "2", "--warmup", "0", "--batch-size", "2", "--device", "cpu"]
    result = runner.invoke(
        app,
        [
            "bench",
            TINY,
            "-s",
            "w,d,r",
            "--factors",
            "2,4",
            *fast,
            "-f",
            "json",
            "-o",
            str(bench_file),
        ],
    )
    assert result.exit_code == 0, result.output
    # Tiny models timed twice on a shared CPU are noise, which no profile may be kept for:
    # the times are set to follow acts, so that the fit of this real file is deterministic.
    document = json.loads(bench_file.read_text(encoding="utf-8"))
    for row in document["rows"]:
        row["runtime"]["median_s"] = 1e-8 * row["acts"] * row["runtime"]["batch_size"]
    bench_file.write_text(json.dumps(document), encoding="utf-8")
    result = runner.invoke(
        app, ["profile", "fit", str(bench_file), "-o", str(profile_file), "--validation", "loo"]
    )
    assert result.exit_code == 0, result.output
    rows = document["rows"]
    profile = load_profile(profile_file)
    assert profile.name == "mine" and profile.source.models == len(rows) == 7
    assert profile.ranges["acts"] == (min(r["acts"] for r in rows), max(r["acts"] for r in rows))
    assert "leave-one-out" in result.stdout and profile.device in result.stdout
    assert profile.coefficients == pytest.approx({"acts": 1.0})
    # every counted model of the sweep lies inside the fitted range
    for row in rows:
        got = predict(profile, row["flops"], row["params"], row["acts"], row["family"])
        assert not got.extrapolated


def test_show_the_fitted_profile_and_a_builtin(tmp_path: Path) -> None:
    output = tmp_path / "cpu.json"
    assert runner.invoke(app, ["profile", "fit", str(BENCH), "-o", str(output)]).exit_code == 0
    result = runner.invoke(app, ["profile", "show", str(output)])
    assert result.exit_code == 0, result.output
    profile = load_profile(output)
    assert f"median absolute error {profile.validation.median_abs_pct_error:.1f}%" in result.stdout
    assert "9 rows, 9 models" in result.stdout
    result = runner.invoke(app, ["profile", "show", "v100-pycls-train"])
    assert result.exit_code == 0, result.output
    assert "NVIDIA Tesla V100" in result.stdout and "36 rows, 36 models" in result.stdout
    listing = runner.invoke(app, ["profile", "show"])
    assert [line.split(" | ")[0].strip("| ") for line in listing.stdout.splitlines()[4:]] == [
        "cpu-i9-10940x",
        "rtx3090",
        "rtx3090-train",
        "rtx4090",
        "rtx5090",
        "v100-pycls-infer",
        "v100-pycls-train",
    ]


def test_bad_bench_file_is_one_error_line_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"setup": {"device": "cpu"}, "rows": []}), encoding="utf-8")
    output = tmp_path / "out.json"
    result = runner.invoke(app, ["profile", "fit", str(bad), "-o", str(output)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {bad}: setup.torch: missing"
    assert not output.exists()
    result = runner.invoke(app, ["profile", "show", str(tmp_path / "none.json")])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "none.json: no such file" in result.stderr
