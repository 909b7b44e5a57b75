"""The corpus of bad inputs: each gives exit 2, one `error:` line, empty stdout, no file."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalecalc.cli import app

CORPUS = Path(__file__).parent / "corpus"
CONFIG_CASES = sorted((CORPUS / "configs").glob("*.yaml"))
runner = CliRunner()


def expected_error(path: Path) -> str:
    """The `# error: ...` header line of a corpus file."""
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("# error: "), path
    return header[len("# error: ") :]


def assert_clean_failure(args: list[str], expected: str, out: Path, code: int = 2) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == code, (args, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr, result.stderr
    assert not out.exists()


def test_corpus_is_large_enough() -> None:
    assert len(CONFIG_CASES) >= 40


@pytest.mark.parametrize("path", CONFIG_CASES, ids=lambda p: p.stem)
def test_bad_config(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    args = ["count", str(path), "--format", "json", "--output", str(out)]
    assert_clean_failure(args, f"error: {path}: {expected_error(path)}", out)


@pytest.mark.parametrize("path", CONFIG_CASES[:8], ids=lambda p: p.stem)
def test_bad_config_through_scale(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.yaml"
    args = ["scale", str(path), "-s", "dWr", "--factor", "2", "--output", str(out)]
    assert_clean_failure(args, f"error: {path}: {expected_error(path)}", out)


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("family: resnet\n" + "# padding\n" * 200_000)
    out = tmp_path / "out.json"
    assert_clean_failure(["count", str(path), "-o", str(out)], "the limit is 1048576", out)


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00family: resnet\x00\x81")
    out = tmp_path / "out.json"
    assert_clean_failure(["count", str(path), "-o", str(out)], "not UTF-8 text", out)


def test_directory_and_missing_file(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    assert_clean_failure(["count", str(tmp_path), "-o", str(out)], "is a directory", out)
    assert_clean_failure(
        ["count", "missing.yaml", "-o", str(out)], "missing.yaml: no such file", out
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-s", "dwx", "--factor", "2"], "strategy 'dwx' is not understood; a strategy is"),
        (["-s", "d0_w0_r0", "--factor", "2"], "has all-zero d, w, r weights"),
        (["-s", "fast:2", "--factor", "2"], "ALPHA must be a number in [0, 1]"),
        (["-s", "w", "--factor", "0"], "factor 0.0 must be a finite number > 0"),
        (["-s", "w", "--factor", "-3"], "factor -3.0 must be a finite number > 0"),
        (["-s", "w", "--factor", "nan"], "factor nan must be a finite number > 0"),
        (["-s", "w", "--factor", "inf"], "factor inf must be a finite number > 0"),
        (["-s", "w", "--target-flops", "-4G"], "--target-flops: expected a count"),
        (["-s", "w", "--target-flops", "0"], "--target-flops: must be between 1 and 1e18"),
        (["-s", "w", "--target-factor", "nan"], "factor nan must be a finite number > 0"),
        (["-s", "dwr", "--factor", "1e12"], "must be between"),
        (["-s", "w", "--factor", "2", "--convention", "timm"], "--convention"),
    ],
)
def test_bad_strategy_or_factor(args: list[str], expected: str, tmp_path: Path) -> None:
    out = tmp_path / "out.yaml"
    assert_clean_failure(["scale", "resnet50", *args, "-o", str(out)], expected, out)


def test_output_into_missing_directory(tmp_path: Path) -> None:
    out = tmp_path / "no" / "such" / "dir.json"
    assert_clean_failure(["count", "resnet50", "-o", str(out)], "does not exist", out)


def test_absurd_models_are_counted_at_once_or_refused(tmp_path: Path) -> None:
    path = tmp_path / "absurd.yaml"
    path.write_text(
        "family: resnet\nblock: bottleneck\ndepths: [1000, 1000, 1000, 1000]\n"
        "widths: [131072, 131072, 131072, 131072]\nresolution: 8192\n"
    )
    result = runner.invoke(app, ["count", str(path), "-f", "json"])
    assert result.exit_code == 0, result.output
    w, v = 131072, 32768  # stage width and bottleneck width (one group)
    block = w * v + 9 * v * v + v * w + 2 * (v + v + w)  # three convs and their batch norms
    stem, head = 3 * 64 * 49 + 2 * 64, w * 1000 + 1000
    first_of_stage1 = block - w * v + 64 * v + 64 * w + 2 * w  # narrower input, projection
    first_of_later = block + w * w + 2 * w  # projection shortcut
    params = stem + 4000 * block + (first_of_stage1 - block) + 3 * (first_of_later - block) + head
    assert f'"params": {params}' in result.stdout  # 7.3e13 parameters, nothing allocated
    out = tmp_path / "out.json"
    for counter in ("meta", "fvcore"):
        args = ["count", str(path), "--counter", counter, "-o", str(out)]
        assert_clean_failure(args, "4000 blocks is more than the", out)


def test_fvcore_counter_refuses_models_larger_than_memory(tmp_path: Path) -> None:
    path = tmp_path / "wide.yaml"
    path.write_text("preset: vit_b16\nhidden_size: 65536\nnum_heads: 64\nmlp_size: 262144\n")
    out = tmp_path / "out.json"
    args = ["count", str(path), "resnet50", "--counter", "fvcore", "-o", str(out)]
    assert_clean_failure(args, f"error: {path}: the fvcore counter needs about", out)


def test_fvcore_counter_refuses_models_that_would_take_minutes(tmp_path: Path) -> None:
    # 1000 blocks at 32 px: within the block limit, but tracing alone took minutes.
    path = tmp_path / "deep.yaml"
    path.write_text(
        "family: resnet\nblock: bottleneck\n"
        "depths: [250, 250, 250, 250]\nwidths: [64, 128, 256, 512]\n"
        "resolution: 32\n"
    )
    out = tmp_path / "out.json"
    args = ["count", str(path), "--counter", "fvcore", "-o", str(out)]
    assert_clean_failure(
        args, f"error: {path}: the fvcore counter would take about 11 minutes", out
    )


# Peak memory growth of the fvcore counter as benchmarks/fvcore_cost.py measured it (MiB), with
# the model's blocks, params and acts: the estimate must cover each, and by at most 2.5x.
FVCORE_PEAKS = [
    ("resnet50", 16, 25_557_032, 11_114_984, 164),
    ("vit_b16", 12, 86_567_656, 23_895_544, 235),
    ("convnext_t", 18, 28_589_128, 13_435_624, 191),
    ("regnety_4gf", 22, 20_646_656, 12_287_200, 200),
    ("ResNet 4x50 blocks at 32 px", 200, 19_300_000, 600_000, 176),
    ("ResNet 4x100 blocks at 32 px", 400, 37_900_000, 1_200_000, 291),
    ("ResNet-50 at 512 px", 16, 25_557_032, 58_100_000, 550),
    ("ViT-L/16 at 384 px", 24, 304_700_000, 270_200_000, 1687),
]


@pytest.mark.parametrize(("model", "blocks", "params", "acts", "peak_mib"), FVCORE_PEAKS)
def test_fvcore_memory_estimate_covers_measured_peaks(
    model: str, blocks: int, params: int, acts: int, peak_mib: int
) -> None:
    from scalecalc.api import fvcore_bytes

    ratio = fvcore_bytes(params, acts, blocks) / (peak_mib * 2**20)
    assert 1 <= ratio <= 2.5, (model, ratio)


@pytest.mark.parametrize("counter", ["meta", "fvcore"])
def test_traced_counters_refuse_tensors_torch_cannot_hold(counter: str, tmp_path: Path) -> None:
    # 4096 heads of 67,108,865 tokens (8192^2 patches and the class token): one attention
    # matrix alone has 4096 * 67108865^2 = 1.8e19 elements, beyond torch's 2^63-byte storage.
    path = tmp_path / "vit.yaml"
    path.write_text(
        "family: vit\npatch_size: 1\nhidden_size: 4096\nnum_layers: 1\nnum_heads: 4096\n"
        "mlp_size: 4096\nresolution: 8192\n"
    )
    out = tmp_path / "out.json"
    args = ["count", str(path), "--counter", counter, "-o", str(out)]
    assert_clean_failure(args, f"error: {path}: this model's activations (1.84e+19 elements)", out)


SWEEP_CASES = sorted((CORPUS / "sweeps").glob("*.yaml"))


@pytest.mark.parametrize("path", SWEEP_CASES, ids=lambda p: p.stem)
@pytest.mark.parametrize("command", ["compare", "check"])
def test_bad_sweep(path: Path, command: str, tmp_path: Path) -> None:
    out = tmp_path / "out.md"
    baseline = tmp_path / "costs.json"
    if command == "compare":
        args = ["compare", "--sweep", str(path), "--output", str(out)]
    else:
        args = ["check", str(path), "--baseline", str(baseline), "--update", "--report", str(out)]
    expected = expected_error(path)
    key = expected.split(": ")[0]
    if command == "compare" and "/x" in key:
        # One model that cannot be made: compare writes the others and names it (exit 2);
        # check refuses the whole run (a baseline must be complete).
        result = runner.invoke(app, args)
        assert (result.exit_code, result.stdout) == (2, "")
        assert result.stderr.startswith(f"error: {expected[:-3]}")
        assert result.stderr.count("\n") == 1
        text = out.read_text(encoding="utf-8")
        assert "| base |" in text and f"| {key.split('/x')[1]} |" not in text
        return
    assert_clean_failure(args, expected, out)
    assert not baseline.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["count", "resnet50", "--bogus"], "error: No such option: --bogus\n"),
        (
            ["scale", "resnet50", "-s", "w", "--factor", "abc"],
            "error: Invalid value for '--factor'",
        ),
        (["nosuchcommand"], "error: No such command 'nosuchcommand'.\n"),
        (["count"], "error: Missing argument"),
    ],
)
def test_usage_errors_are_one_line_too(
    args: list[str], expected: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from scalecalc.cli import main

    monkeypatch.setattr("sys.argv", ["scalecalc", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    assert exit_info.value.code == 2
    assert captured.out == "" and captured.err.startswith(expected)
    assert captured.err.count("\n") == 1


def test_no_arguments_show_the_commands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from scalecalc.cli import main

    monkeypatch.setattr("sys.argv", ["scalecalc"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 0
    assert "compare" in capsys.readouterr().out
