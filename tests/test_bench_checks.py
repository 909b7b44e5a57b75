"""Benchmark caveats (too few models, noisy timings) and the memory-/compute-bound heuristic."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from scalecalc.bench.checks import bound, bounds, caveats
from scalecalc.cli import app
from scalecalc.bench.measurement import BenchRow, Measurement
from scalecalc.nn import bench

runner = CliRunner()
TINY = str(Path(__file__).parent / "data" / "bench_tiny.yaml")


def fake_row(key: str, flops: float, acts: float, times: tuple[float, ...], batch: int = 8):  # type: ignore[no-untyped-def]
    """A measured model with only what the checks read: key, base, spec, flops, acts, times."""
    row = SimpleNamespace(
        key=key, base=key.split("/")[0], spec=key, costs=SimpleNamespace(flops=flops, acts=acts)
    )
    return BenchRow(row, Measurement(times, batch, None, 0))  # type: ignore[arg-type]


# The run of docs/benchmarks.md (Bench on a CPU), on a 2-core CPU: regnety_400mf, batch 8,
# float32 (flops G, acts M, median ms).
README_RUN = [
    ("base", 0.402, 3.892, 92.2),
    ("w/x2", 0.738, 5.231, 148.3),
    ("w/x4", 1.415, 7.383, 232.4),
    ("d/x2", 0.739, 6.205, 135.4),
    ("d/x4", 1.413, 10.830, 260.1),
    ("r/x2", 0.815, 7.847, 183.2),
    ("r/x4", 1.604, 15.551, 447.8),
    ("dWr/x2", 0.767, 5.567, 130.0),
    ("dWr/x4", 1.573, 7.920, 191.9),
]


def test_few_models_and_noisy_timings_are_flagged() -> None:
    rows = [
        fake_row("a/base", 1e9, 1e6, (1.0, 1.1, 1.5)),  # spread (1.5 - 1.0) / 1.1 = 45%
        fake_row("a/w/x2", 2e9, 1.4e6, (1.0, 1.2, 1.1)),  # (1.2 - 1.0) / 1.1 = 18%: fine
        fake_row("a/w/x2", 2e9, 1.4e6, (1.0, 1.2, 1.1)),  # the same model again: one point
        fake_row("b/base", 1e9, 1e6, (2.0, 3.0)),  # (3 - 2) / 2.5 = 40%
    ]
    few, noisy = caveats(rows)
    assert few.code == "few_models" and few.subjects == ("a", "b", "all")
    assert "fewer than 5 models can reach ±1 by chance: a (2), b (1), all (3);" in few.message
    assert noisy.code == "high_spread" and noisy.subjects == ("a/base", "b/base")
    assert noisy.message.startswith(
        "2 of 3 models have a timing spread above 20% (worst a/base: 45%)"
    )


def test_five_quiet_models_raise_no_caveat() -> None:
    # (5 - 4) / 5 is 0.2 exactly in binary floating point too, unlike (1.2 - 1.0) / 1.0.
    assert (5.0 - 4.0) / 5.0 == 0.2
    rows = [fake_row(f"a/{i}", 1e9 * i, 1e6 * i, (4.0, 5.0, 5.0)) for i in range(1, 6)]
    assert caveats(rows) == []  # a spread of exactly 20% is not above 20%
    # The least spread above it is flagged: 1.000001 / 5.000001 > 0.2.
    rows[2] = fake_row("a/3", 3e9, 3e6, (4.0, 5.0, 5.000001))
    (noisy,) = caveats(rows)
    assert noisy.subjects == ("a/3",) and "(worst a/3: 20%)" in noisy.message


def test_a_spread_just_above_20_percent_is_flagged() -> None:
    rows = [fake_row(f"a/{i}", 1e9 * i, 1e6 * i, (4.0, 5.0, 5.0)) for i in range(1, 5)]
    rows.append(fake_row("a/5", 5e9, 5e6, (4.0, 5.0, 5.005)))  # 1.005 / 5 = 20.1%
    (noisy,) = caveats(rows)
    assert noisy.code == "high_spread" and noisy.subjects == ("a/5",)


def test_bound_of_the_readme_cpu_run_is_memory_bound() -> None:
    rows = [fake_row(f"r/{k}", g * 1e9, m * 1e6, (ms / 1e3,)) for k, g, m, ms in README_RUN]
    result = bound("r", rows, "float32")
    # By hand: flops × 8 / median is lowest for r ×4 (1.604e9 · 8 / 0.4478 = 28.66e9) and highest
    # for dWr ×4 (1.573e9 · 8 / 0.1919 = 65.58e9); acts × 4 B × 8 / median is lowest for w ×4
    # (7.383e6 · 32 / 0.2324 = 1.0166e9) and highest for d ×2 (6.205e6 · 32 / 0.1354 = 1.4665e9).
    assert result.flops_per_s == pytest.approx((28.656e9, 65.576e9), rel=1e-4)
    assert result.act_bytes_per_s == pytest.approx((1.0166e9, 1.4665e9), rel=1e-4)
    assert result.flops_log_sd == pytest.approx(0.2230, abs=1e-4)
    assert result.act_bytes_log_sd == pytest.approx(0.1160, abs=1e-4)
    assert result.verdict == "memory-bound" and result.points == 9


@pytest.mark.parametrize(
    ("runtime", "verdict"),
    [
        (lambda flops, acts: acts * 1e-9, "memory-bound"),
        (lambda flops, acts: flops * 1e-12, "compute-bound"),
        (lambda flops, acts: math.sqrt(flops * acts) * 1e-10, "unclear"),
    ],
)
def test_bound_follows_what_runtime_is_proportional_to(runtime, verdict: str) -> None:  # type: ignore[no-untyped-def]
    # Width scaling (flops 4x, acts 2x) against resolution scaling (both 4x): the ratio varies.
    sizes = [(1e9, 1e6), (4e9, 2e6), (4e9, 4e6), (16e9, 4e6), (2e9, 3e6)]
    rows = [fake_row(f"a/{i}", f, a, (runtime(f, a),), batch=2) for i, (f, a) in enumerate(sizes)]
    (result,) = bounds(rows, "bfloat16")
    assert result.verdict == verdict
    if verdict == "memory-bound":  # acts · 2 B · 2 images / (acts · 1e-9 s) = 4e9 B/s for all
        assert result.act_bytes_per_s == pytest.approx((4e9, 4e9))
        assert result.act_bytes_log_sd == pytest.approx(0.0, abs=1e-12)
    if verdict == "compute-bound":  # flops · 2 images / (flops · 1e-12 s) = 2e12 flops/s
        assert result.flops_per_s == pytest.approx((2e12, 2e12))


def test_four_models_or_proportional_measures_decide_nothing() -> None:
    four = [fake_row(f"a/{i}", 1e9 * i, 1e6 * i * i, (i,)) for i in range(1, 5)]
    assert bounds(four, "float32")[0].verdict == "too few models"
    # Depth scaling only: flops and acts grow alike, so no rate can be the steadier one.
    alike = [fake_row(f"a/{i}", i * 1e9, i * 1e6, (i**0.5,)) for i in range(1, 6)]
    assert bounds(alike, "float32")[0].verdict == "unclear"
    # Time proportional to both: both rates are constant (up to rounding), neither is steadier.
    exact = [fake_row(f"a/{i}", i * 3e9, i * 7e6, (i * 0.3,)) for i in range(1, 6)]
    assert bounds(exact, "float32")[0].verdict == "unclear"


def test_bench_command_warns_and_flags_few_models(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Real (tiny) models, fake clock: 1 s then 2 s per iteration, a 67% spread for every model.
    monkeypatch.setattr(bench, "time_model", lambda step, warmup, iters, **_: [1.0, 2.0, 1.5])
    args = ["bench", TINY, "-s", "d,r", "--factors", "2", "--device", "cpu", "--batch-size", "1"]
    out = tmp_path / "bench.json"
    result = runner.invoke(app, [*args, "-f", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    few = (
        "warning: correlations over fewer than 5 models can reach ±1 by chance: tiny (3); "
        "add strategies or factors"
    )
    noisy = (
        "warning: 3 of 3 models have a timing spread above 20% (worst tiny/base: 67%): the "
        "timings were disturbed (other work on the machine?); rerun on an idle machine, with "
        "fewer CPU threads than idle cores (--threads 1 on a busy CPU), or with --rounds"
    )
    assert lines == [few, noisy]
    document = json.loads(out.read_text())
    assert [w["code"] for w in document["warnings"]] == ["few_models", "high_spread"]
    assert document["warnings"][1]["subjects"] == ["tiny/base", "tiny/d/x2", "tiny/r/x2"]
    (entry,) = document["bound"]
    assert entry["group"] == "tiny" and entry["verdict"] == "too few models"
    # Same time for every model: the rates are flops (acts · 4 B) per 1.5 s.
    flops = [row["flops"] for row in document["rows"]]
    assert entry["flops_per_s"] == pytest.approx([min(flops) / 1.5, max(flops) / 1.5])
    markdown = runner.invoke(app, [*args, "-f", "md"]).stdout
    assert markdown.count("> **Warning:** ") == 2
    assert "| tiny | too few models |" in markdown
    assert "### Memory- or compute-bound? (a heuristic)" in markdown
    table = runner.invoke(app, [*args, "-f", "table"]).stdout
    assert "Warning: correlations over fewer than 5 models" in table and "too few models" in table
