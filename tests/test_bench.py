"""`scalecalc bench`: timing harness, memory check, device checks and the command, on CPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from measured import allocator_peak
from torch import nn
from typer.testing import CliRunner

from scalecalc.compare import run as compare
from scalecalc.nn import bench, devices
from scalecalc.bench.measurement import BenchSettings, Measurement
from scalecalc.bench.report import correlations
from scalecalc.cli import app
from scalecalc.config import ModelConfig, load
from scalecalc.errors import ConfigError, ModelTooLargeError
from scalecalc.families.vit import ViTSpec
from scalecalc.step_options import DEVICE_KINDS
from scalecalc.sweep import Entry

runner = CliRunner()
TINY = str(Path(__file__).parent / "data" / "bench_tiny.yaml")
FAST = ["--iters", "1", "--warmup", "0", "--batch-size", "2", "--device", "cpu"]
# One encoder block, hidden 8, 2 heads, MLP 16, 32 px in 16 px patches (5 tokens), 10 classes.
TOY_VIT = ViTSpec(
    resolution=32,
    num_classes=10,
    patch_size=16,
    hidden_size=8,
    num_layers=1,
    num_heads=2,
    mlp_size=16,
)


def toy_rows(spec: ViTSpec = TOY_VIT) -> list[compare.CompareRow]:
    return compare.run([Entry("toy/base", ModelConfig("toy", spec))])


# --- the timing harness ---


def test_time_model_excludes_warmup_and_synchronizes_before_each_clock_read() -> None:
    events: list[str] = []
    readings = iter([0.0, 1.0, 10.0, 13.0, 100.0, 106.0])

    def clock() -> float:
        events.append("clock")
        return next(readings)

    times = bench.time_model(
        lambda: events.append("step"),
        warmup=2,
        iters=3,
        clock=clock,
        synchronize=lambda: events.append("sync"),
    )
    assert times == [1.0, 3.0, 6.0]
    assert events[:2] == ["step", "step"]  # warm-up: never timed
    assert events[2:] == ["sync", "clock", "step", "sync", "clock"] * 3
    assert all(events[i - 1] == "sync" for i, e in enumerate(events) if e == "clock")


def test_time_model_rejects_bad_counts() -> None:
    with pytest.raises(ValueError):
        bench.time_model(lambda: None, warmup=-1, iters=1)
    with pytest.raises(ValueError):
        bench.time_model(lambda: None, warmup=0, iters=0)


def test_synchronizer_per_device() -> None:
    assert devices.synchronizer("cuda") is torch.cuda.synchronize
    assert devices.synchronizer("cpu")() is None


def test_measurement_statistics() -> None:
    timing = Measurement(times=(0.3, 0.1, 0.2), batch_size=4, peak_memory=None, estimate=0)
    assert timing.median == 0.2
    assert timing.throughput == pytest.approx(20.0)
    assert timing.spread == pytest.approx(1.0)


# --- memory ---


MIB_128 = 128 * 1024 * 1024


def test_needed_memory_arithmetic() -> None:
    # The estimate times the device's headroom, plus 128 MiB.
    assert bench.needed_memory(1000, "cpu") == 1750 + MIB_128
    assert bench.needed_memory(1000, "cuda") == 1250 + MIB_128


@pytest.mark.parametrize("train", [False, True])
def test_estimate_is_near_the_allocator_peak_of_bench_own_run(train: bool) -> None:
    row = compare.run([Entry("tiny/base", load(TINY))])[0]
    settings = BenchSettings("cpu", batch_size=8, train=train, warmup=1, iters=1)
    measured = allocator_peak(lambda: bench.measure(row.spec, settings))
    # Below by what the trace cannot see: oneDNN's scratch inside convolutions (30-40 kB here).
    assert 0.9 * measured <= bench.estimate_row(row, settings) <= measured


def test_estimate_follows_the_dtype() -> None:
    # The toy ViT has no integer buffer: in bfloat16 every tensor of inference is half as large.
    [row] = toy_rows()
    single = bench.estimate_row(row, BenchSettings("cpu", batch_size=2))
    assert bench.estimate_row(row, BenchSettings("cpu", "bfloat16", 2)) * 2 == single


def test_check_fits_refuses_or_skips() -> None:
    rows = toy_rows()
    settings = BenchSettings("cpu", batch_size=2)
    estimate = bench.estimate_row(rows[0], settings)
    needed = bench.needed_memory(estimate, "cpu")
    assert bench.check_fits(rows, settings, None, skip=False) == (rows, [])
    assert bench.check_fits(rows, settings, needed, skip=False) == (rows, [])
    expected = r"^toy/base: needs about 0.1 GiB on cpu \(estimate\) but 0.1 GiB is available"
    with pytest.raises(ModelTooLargeError, match=expected):
        bench.check_fits(rows, settings, needed - 1, skip=False)
    assert bench.check_fits(rows, settings, 1000, skip=True) == ([], [(rows[0], estimate)])


# --- devices ---


def test_resolve_device() -> None:
    assert devices.resolve_device("cpu") == "cpu"
    assert devices.resolve_device(None) in DEVICE_KINDS
    with pytest.raises(ConfigError, match="^--device: 'tpu' is not one of cpu, cuda, mps$"):
        devices.resolve_device("tpu")


def test_unsupported_dtype_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    bench.check_dtype("cpu", "float32", train=True)

    def unsupported(self: nn.Module, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("\"slow_conv2d_cpu\" not implemented for 'Half'\nmore detail")

    monkeypatch.setattr(nn.Conv2d, "forward", unsupported)
    with pytest.raises(ConfigError) as error:
        bench.check_dtype("cpu", "float16", train=False)
    assert str(error.value) == (
        "--dtype float16: not supported on cpu here "
        "(\"slow_conv2d_cpu\" not implemented for 'Half')"
    )


# --- running real (tiny) models ---


@pytest.mark.parametrize("train", [False, True])
def test_measure_a_tiny_model_on_cpu(train: bool) -> None:
    settings = BenchSettings("cpu", batch_size=2, train=train, warmup=1, iters=2)
    timing = bench.measure(TOY_VIT, settings)
    assert len(timing.times) == 2 and all(t > 0 for t in timing.times)
    assert timing.peak_memory is None or timing.peak_memory >= 0


def test_measure_frees_the_model_on_ctrl_c(monkeypatch: pytest.MonkeyPatch) -> None:
    released: list[str] = []
    monkeypatch.setattr(bench, "release", released.append)

    def interrupted(*args: object, **kwargs: object) -> list[float]:
        raise KeyboardInterrupt

    monkeypatch.setattr(bench, "time_model", interrupted)
    with pytest.raises(KeyboardInterrupt):
        bench.measure(TOY_VIT, BenchSettings("cpu", batch_size=1))
    assert released == ["cpu"]  # after the interruption, before it propagates


def test_run_measures_each_spec_once_and_correlates() -> None:
    base = TOY_VIT
    wider = base.replace(hidden_size=16, num_heads=4, mlp_size=32)
    deeper = base.replace(num_layers=3)
    entries = [
        Entry("toy/base", ModelConfig("toy", base)),
        Entry("toy/again", ModelConfig("again", base)),
        Entry("toy/wider", ModelConfig("toy", wider)),
        Entry("toy/deeper", ModelConfig("toy", deeper)),
    ]
    rows = compare.run(entries)
    measured: list[ViTSpec] = []

    def fake(spec: ViTSpec, settings: BenchSettings, estimate: int) -> Measurement:
        # Runtime proportional to acts: acts must correlate perfectly, on both coefficients.
        measured.append(spec)
        acts = next(r.costs.acts for r in rows if r.spec == spec)
        return Measurement((acts * 1e-6,), settings.batch_size, None, estimate)

    started: list[int] = []
    results = bench.run(rows, BenchSettings("cpu"), lambda i, row: started.append(i), fake)
    assert measured == [base, wider, deeper] and started == [0, 1, 2]
    assert results[1].measurement is results[0].measurement
    by_measure = {c.measure: c for c in correlations(results) if c.group == "toy"}
    assert by_measure["acts"].pearson_log == pytest.approx(1.0)
    assert by_measure["acts"].spearman == pytest.approx(1.0)
    assert by_measure["acts"].points == 3  # the repeated spec counts once
    assert [c.group for c in correlations(results)] == ["toy"] * 3 + ["again"] * 3 + ["all"] * 3


def test_rounds_interleave_models_and_pool_their_iterations() -> None:
    rows = compare.run(
        [
            Entry("toy/base", ModelConfig("toy", TOY_VIT)),
            Entry("toy/deeper", ModelConfig("toy", TOY_VIT.replace(num_layers=2))),
        ]
    )
    order: list[int] = []
    clock = iter(range(1, 100))

    def fake(spec: ViTSpec, settings: BenchSettings, estimate: int) -> Measurement:
        order.append(spec.num_layers)
        tick = float(next(clock))
        return Measurement((tick, tick + 0.5), settings.batch_size, int(tick), estimate)

    settings = BenchSettings("cpu", rounds=3)
    results = bench.run(rows, settings, measure_spec=fake)
    assert order == [1, 2, 1, 2, 1, 2] and bench.measurements(rows, 3) == 6
    assert results[0].measurement.times == (1.0, 1.5, 3.0, 3.5, 5.0, 5.5)
    assert results[0].measurement.peak_memory == 5 and results[0].measurement.median == 3.25


def test_merged_measurement_keeps_known_peaks() -> None:
    first = Measurement((1.0,), 2, None, 10)
    second = Measurement((2.0, 3.0), 2, 7, 12)
    assert first.merged(second) == Measurement((1.0, 2.0, 3.0), 2, 7, 12)
    assert first.merged(first).peak_memory is None


# --- the command ---


def bench_cli(*args: str) -> object:
    return runner.invoke(app, ["bench", TINY, "-s", "d,r", "--factors", "2", *FAST, *args])


def test_bench_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = bench_cli("-f", "json", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    document = json.loads(out.read_text())
    assert [r["key"] for r in document["rows"]] == ["tiny/base", "tiny/d/x2", "tiny/r/x2"]
    runtime = document["rows"][0]["runtime"]
    assert len(runtime["times_s"]) == 1 and runtime["batch_size"] == 2
    assert runtime["throughput"] == pytest.approx(2 / runtime["median_s"])
    assert document["setup"]["mode"] == "inference" and document["setup"]["device_kind"] == "cpu"
    assert [(c["group"], c["measure"], c["points"]) for c in document["correlations"]] == [
        ("tiny", "flops", 3),
        ("tiny", "params", 3),
        ("tiny", "acts", 3),
    ]
    # The file feeds `compare --bench`: same keys, same models, so every runtime joins.
    merged = runner.invoke(
        app, ["compare", TINY, "-s", "d,r", "--factors", "2", "--bench", str(out), "-f", "json"]
    )
    assert merged.exit_code == 0 and merged.stderr == "", merged.output
    assert [r["runtime"] for r in json.loads(merged.stdout)["rows"]] == [
        {"median_s": r["runtime"]["median_s"], "throughput": r["runtime"]["throughput"]}
        for r in document["rows"]
    ]


def test_bench_target_factor() -> None:
    result = runner.invoke(
        app, ["bench", TINY, "-s", "d", "--target-factor", "2", *FAST, "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    base, scaled = json.loads(result.stdout)["rows"]
    assert (base["key"], scaled["key"], scaled["target_factor"]) == ("tiny/base", "tiny/d/@2x", 2.0)
    assert scaled["target_flops"] == round(2 * base["flops"])
    assert scaled["runtime"]["median_s"] > 0


def test_bench_csv_and_markdown_and_table() -> None:
    result = bench_cli("-f", "csv", "--train")
    assert result.exit_code == 0, result.output
    header, *lines = result.stdout.splitlines()
    assert header.startswith("key,base,family,")
    assert header.endswith(
        ",median_s,throughput,peak_memory_bytes,estimate_bytes,batch_size,dtype,mode,device"
    )
    assert len(lines) == 3 and lines[0].endswith(",2,float32,train,cpu")
    result = bench_cli("-f", "md", "--dtype", "bfloat16")
    assert result.exit_code == 0, result.output
    assert "inference, batch 2, bfloat16; 0 warm-up + 1 timed iterations" in result.stdout
    assert "| models | measure | Pearson (log) | Spearman | n |" in result.stdout
    assert "| tiny | acts |" in result.stdout
    result = bench_cli("-f", "table")
    assert result.exit_code == 0, result.output
    assert "Correlation of runtime" in result.stdout


def test_bench_plot(tmp_path: Path) -> None:
    plot = tmp_path / "runtime.png"
    result = bench_cli("-f", "md", "--plot", str(plot))
    assert result.exit_code == 0, result.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_oversize_model_is_refused_with_one_line(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    # 51,264 acts per image at 4 bytes: 10^8 images need tens of TiB.
    result = runner.invoke(
        app,
        ["bench", TINY, "-s", "d", "--factors", "2", "--batch-size", "100000000", "-o", str(out)],
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: tiny/base: needs about ")
    assert result.stderr.count("\n") == 1 and "is available; lower --batch-size" in result.stderr
    assert not out.exists()


def test_skip_oversize_warns_and_runs_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = BenchSettings("cpu", batch_size=2)
    doubled = compare.run([Entry("x", load(TINY), "r", factor=2.0)])[0]
    # Room for the base but not for r ×2 (4x the pixels and acts).
    limit = bench.needed_memory(bench.estimate_row(doubled, settings), "cpu") - 1
    monkeypatch.setattr(devices, "available_memory", lambda device: limit)
    result = bench_cli("-f", "json")
    assert result.exit_code == 2 and "tiny/r/x2: needs about" in result.stderr
    result = bench_cli("-f", "json", "--skip-oversize")
    assert result.exit_code == 0, result.output
    assert "warning: tiny/r/x2: skipped" in result.stderr
    document = json.loads(result.stdout)
    assert [r["key"] for r in document["rows"]] == ["tiny/base", "tiny/d/x2"]
    assert [s["key"] for s in document["skipped"]] == ["tiny/r/x2"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--device", "tpu"],
            "error: Invalid value for '--device': 'tpu' is not one of 'cpu', 'cuda', 'mps'.\n",
        ),
        (
            ["--dtype", "float64"],
            "error: Invalid value for '--dtype': 'float64' is not one of 'float32', 'float16', "
            "'bfloat16'.\n",
        ),
        (["--iters", "0"], "error: --iters: must be from 1 to 100000, got 0\n"),
        (["--rounds", "0"], "error: --rounds: must be from 1 to 1000, got 0\n"),
        (["--iters", "1" + "0" * 400], "error: --iters: must be from 1 to 100000, got 1000"),
        (["--plot", "x.pdf"], "error: --plot: x.pdf must end in .png or .svg\n"),
    ],
)
def test_bad_options_exit_2_with_one_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["bench", TINY, *args])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_requested_without_cuda_exits_2() -> None:
    result = runner.invoke(app, ["bench", TINY, "--device", "cuda"])
    assert result.exit_code == 2
    expected = f"error: --device cuda: CUDA is not available to torch {torch.__version__}\n"
    assert result.stderr == expected


def test_ctrl_c_exits_130_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    released: list[str] = []
    monkeypatch.setattr(bench, "release", released.append)

    def interrupted(*args: object, **kwargs: object) -> list[float]:
        raise KeyboardInterrupt

    monkeypatch.setattr(bench, "time_model", interrupted)
    out = tmp_path / "bench.md"
    result = bench_cli("-o", str(out), "--plot", str(tmp_path / "p.png"))
    assert result.exit_code == 130
    assert result.stderr.splitlines()[-1] == "error: interrupted; nothing was written"
    assert released[-1] == "cpu"
    assert list(tmp_path.iterdir()) == []


# --- runtime columns in `scalecalc compare --bench FILE` ---


def synthetic_bench(tmp_path: Path, runtimes: dict[str, tuple[float, float]]) -> Path:
    """A bench file built from compare's own rows, with runtimes chosen by the test."""
    counted = json.loads(
        runner.invoke(app, ["compare", TINY, "-s", "d,r", "--factors", "2", "-f", "json"]).stdout
    )
    rows = [
        {**row, "runtime": {"median_s": median, "throughput": throughput, "batch_size": 2}}
        for row in counted["rows"]
        if row["key"] in runtimes
        for median, throughput in [runtimes[row["key"]]]
    ]
    setup = {
        "device": "cpu (test)",
        "torch": "x",
        "mode": "inference",
        "batch_size": 2,
        "dtype": "float32",
        "warmup": 1,
        "iters": 3,
        "convention": "paper",
    }
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"setup": setup, "rows": rows, "correlations": []}))
    return path


def test_compare_joins_runtime_by_key(tmp_path: Path) -> None:
    path = synthetic_bench(tmp_path, {"tiny/base": (0.004, 500.0), "tiny/d/x2": (0.0065, 307.5)})
    args = ["compare", TINY, "-s", "d", "--factors", "2,4", "--bench", str(path)]
    result = runner.invoke(app, [*args, "-f", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [r["runtime"] for r in document["rows"]] == [
        {"median_s": 0.004, "throughput": 500.0},
        {"median_s": 0.0065, "throughput": 307.5},
        None,
    ]
    assert document["runtime_setup"].startswith("cpu (test), torch x; inference, batch 2")
    assert result.stderr == f"warning: {path} has no runtime for 1 of 3 models (e.g. tiny/d/x4)\n"
    markdown = runner.invoke(app, [*args, "-f", "md"]).stdout
    assert "| acts × | median (ms) | images/s |" in markdown
    assert markdown.count("| 4.0 | 500.0 |") == 1 and markdown.count("| 6.5 | 307.5 |") == 1
    assert "| n/a | n/a |" in markdown
    assert "Runtime measured by `scalecalc bench`: cpu (test)" in markdown
    header, *lines = runner.invoke(app, [*args, "-f", "csv"]).stdout.splitlines()
    assert ",acts_ratio," in header and header.endswith(",median_s,throughput")
    assert lines[0].endswith(",0.004,500.0") and lines[2].endswith(",,")
    table = runner.invoke(app, [*args, "-f", "table"]).stdout
    assert "images/s" in table and "500.0" in table
    # The equal-flops summary carries the measured median: 6.5 ms at s = 2, none at s = 4.
    assert [
        [(entry["key"], entry["median_s"]) for entry in group["ranking"]]
        for group in document["summary"]
    ] == [[("tiny/d/x2", 0.0065)], [("tiny/d/x4", None)]]
    assert "| acts / best | median (ms) |" in markdown
    # One strategy per goal: nothing to rank, so no acts / best.
    assert "| n/a | 6.5 |" in markdown and "| n/a | n/a |" in markdown


def test_compare_skips_runtime_of_a_different_model(tmp_path: Path) -> None:
    path = synthetic_bench(tmp_path, {"tiny/base": (0.004, 500.0), "tiny/r/x2": (0.01, 200.0)})
    document = json.loads(path.read_text())
    document["rows"][1]["resolution"] += 4  # measured at another resolution than compare's r ×2
    path.write_text(json.dumps(document))
    result = runner.invoke(
        app, ["compare", TINY, "-s", "r", "--factors", "2", "--bench", str(path), "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    assert [r["runtime"] is None for r in json.loads(result.stdout)["rows"]] == [False, True]
    assert result.stderr == (
        f"warning: {path} measured other models for 1 of 2 keys (e.g. tiny/r/x2: other sizes "
        "or resolution); runtime left out\n"
    )


def test_sweep_file_flops_targets_with_units_in_compare_and_bench(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # tiny counts 281,216 flops (stem 55,296 + stages 131,136 + 94,464 + head 320); a target of
    # 560K is written with a unit, as on the command line, where it always worked.
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"bases: [{TINY}]\nstrategies: [d]\ntarget_flops: [560K]\n")
    from_file = runner.invoke(app, ["compare", "--sweep", str(sweep), "-f", "json"])
    assert from_file.exit_code == 0, from_file.output
    rows = json.loads(from_file.stdout)["rows"]
    assert [(r["key"], r["target_flops"]) for r in rows] == [
        ("tiny/base", None),
        ("tiny/d/@560K", 560_000),
    ]
    given = ["compare", TINY, "-s", "d", "--target-flops", "560K", "-f", "json"]
    assert json.loads(runner.invoke(app, given).stdout)["rows"] == rows
    monkeypatch.setattr(bench, "time_model", lambda step, warmup, iters, **_: [1e-3])
    measured = runner.invoke(app, ["bench", "--sweep", str(sweep), *FAST, "-f", "json"])
    assert measured.exit_code == 0, measured.output
    assert [r["key"] for r in json.loads(measured.stdout)["rows"]] == ["tiny/base", "tiny/d/@560K"]
    # A bare number below 1M in the file is still refused, naming the file's key.
    sweep.write_text(f"bases: [{TINY}]\nstrategies: [d]\ntarget_flops: [560000]\n")
    refused = runner.invoke(app, ["compare", "--sweep", str(sweep)])
    assert refused.exit_code == 2
    assert refused.stderr.startswith(f"error: {sweep}: target_flops: 560000 has no unit")


def test_bench_time_goal_solves_with_the_profile_then_measures() -> None:
    args = ["bench", "regnety_400mf", "-s", "r", "--target-time-factor", "1.5", *FAST, "-f", "json"]
    result = runner.invoke(app, [*args, "--profile", "v100-pycls-train"])
    assert result.exit_code == 0, result.output
    base, scaled = json.loads(result.stdout)["rows"]
    assert scaled["key"] == "regnety_400mf/r/@1.5xT" and scaled["runtime"]["median_s"] > 0
    # the same model compare solves for the same goal
    compared = runner.invoke(
        app, ["compare", *args[1:6], "--profile", "v100-pycls-train", "-f", "json"]
    )
    assert json.loads(compared.stdout)["rows"][1]["spec"] == scaled["spec"]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2 and refused.stdout == ""
    assert refused.stderr == (
        "error: --target-time-factor: needs --profile NAME|FILE (times are predicted by a "
        "device profile)\n"
    )
