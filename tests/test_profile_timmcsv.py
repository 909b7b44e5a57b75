"""`profile fit` on timm benchmark CSVs: what is read, dropped and reported, the setting from
the file name, the columns and the options, hostile files, and every output path."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
from conftest import REPO
from terminals import run_in_terminal, run_piped
from typer.testing import CliRunner

from scalecalc.cli import app
from scalecalc.profile.document import load_profile
from scalecalc.profile.timmcsv import read_timm, setting_from_name
from scalecalc.profile.userfit import FitOptions, fit_user_file

runner = CliRunner()
HEADER = "model,infer_img_size,infer_samples_per_sec,infer_step_time,infer_batch_size,param_count,infer_gmacs,infer_macts"
NAME = "benchmark-infer-amp-nhwc-pt240-cu124-mygpu-dynamo.csv"
SHARED = REPO / "data" / "published" / "timm"


def exact_rows() -> list[str]:
    """Eight resnet-named models whose time per image is 1e-9 · acts^0.5 · flops^0.25 exactly:
    images/s = 1 / that, with acts (M) and GMACs chosen so the numbers are round."""
    rows = []
    for i in range(8):
        gmacs, macts = 2.0**i, 4.0 ** (i % 3 + 1)
        seconds = 1e-9 * math.sqrt(macts * 1e6) * (gmacs * 1e9) ** 0.25
        rows.append(f"resnet{10 + i},224,{1 / seconds!r},1.0,256,{5 + i},{gmacs},{macts}")
    return rows


def write(tmp_path: Path, lines: list[str], name: str = NAME) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv",
            ("inference", "float16", True, False, None, "rtx3090", ("torch 2.4.0", "CUDA 12.4")),
        ),
        (
            "benchmark-train-amp-nchw-pt112-cu113-rtx3090.csv",
            ("train", "float16", True, False, None, "rtx3090", ("torch 1.12", "CUDA 11.3")),
        ),
        (
            "benchmark-infer-fp32-nchw-pt240-cpu-i9_10940x-dynamo.csv",
            ("inference", "float32", False, False, True, "cpu-i9_10940x", ("torch 2.4.0",)),
        ),
        ("mine.csv", (None, None, None, None, None, "", ())),
    ],
)
def test_the_setting_a_timm_file_name_states(name: str, expected: tuple[object, ...]) -> None:
    s = setting_from_name(name)
    assert (s.mode, s.dtype, s.amp, s.channels_last, s.compiled, s.device, s.versions) == expected


def test_bad_rows_are_dropped_and_counted_and_the_rest_read_exactly() -> None:
    lines = [
        "resnet50,224,1000,1,256,25.56,4.11,11.11",
        "resnet50,224,999,1,256,25.56,4.11,11.11",  # a repeat: the first row counts
        "resnet50,288,500,1,128,25.56,6.8,18.37",  # another size: a row of its own
        "test_vit,160,9e4,1,256,0.37,0.04,0.48",
        "a,224,nan,1,256,1,1,1",
        "b,224,-5,1,256,1,1,1",
        "c,224,0,1,256,1,1,1",
        "d,224,abc,1,256,1,1,1",
        "e,224,inf,1,256,1,1,1",
        "f,224,10,1,256,1,1e400,1",
        "g,224,10",  # a short row
    ]
    read = read_timm("\n".join([HEADER, *lines]), "x.csv", None)
    assert [r.name for r in read.records] == ["resnet50", "resnet50"]
    assert [(r.flops, r.params, r.acts, r.seconds) for r in read.records] == [
        pytest.approx((4.11e9, 25.56e6, 11.11e6, 1 / 1000), rel=1e-15),
        pytest.approx((6.8e9, 25.56e6, 18.37e6, 1 / 500), rel=1e-15),
    ]
    assert read.records[0].family == "resnet"
    assert dict(read.dropped) == {
        "repeated (model, image size): first row kept": 1,
        "test_* or unnamed model": 1,
        "missing, non-numeric, non-finite or non-positive value": 7,
    }
    # two rows ran at batch 256, one at 128: the setting says 256 and notes the other
    assert read.setting.batch_size == 256
    assert read.setting.notes == ("batch 256 (1 rows at other batch sizes)",)


def test_a_training_file_takes_counts_from_an_inference_file(tmp_path: Path) -> None:
    train = tmp_path / "benchmark-train-amp-nchw-pt112-cu113-gpu.csv"
    lines = [
        "model,train_samples_per_sec,train_step_time,train_batch_size,train_img_size,param_count"
    ]
    lines += [f"resnet{10 + i},{100 * (i + 1)},1,512,224,{5 + i}" for i in range(6)]
    lines.append("nocounts,50,1,512,224,3")
    train.write_text("\n".join(lines) + "\n", encoding="utf-8")
    counts = write(
        tmp_path,
        [f"resnet{10 + i},224,1,1,256,{5 + i},{2.0**-i},{4.0**-i}" for i in range(6)],
        "counts.csv",
    )
    options = FitOptions(counts=counts)
    profile, notes = fit_user_file(train, "t", options)
    assert profile.setting.mode == "train" and profile.setting.batch_size == 512
    assert profile.ranges["flops"] == (2.0**-5 * 1e9, 1e9)
    assert "dropped: 1 no counts at the training image size" in notes
    # without --counts, the file lacks the counts: one line naming the column and the fix
    result = runner.invoke(app, ["profile", "fit", str(train), "-o", str(tmp_path / "p.json")])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert (
        "column 'infer_gmacs' missing for train times (or give --counts INFER.csv)" in result.stderr
    )


def test_fit_of_an_exact_law_states_setting_duplicates_and_validation(tmp_path: Path) -> None:
    rows = exact_rows()
    twin = rows[0].replace("resnet10,", "resnet99,")  # another model, the same counts and time
    path = write(tmp_path, [*rows, rows[1], twin])
    output = tmp_path / "mine.json"
    result = runner.invoke(app, ["profile", "fit", str(path), "-o", str(output)])
    assert result.exit_code == 0, result.output
    profile = load_profile(output)
    assert dict(profile.coefficients) == pytest.approx({"flops": 0.25, "acts": 0.5}, abs=1e-6)
    assert profile.intercepts["resnet"] == pytest.approx(math.log(1e-9), abs=1e-5)
    assert profile.validation.method == "5-fold" and profile.validation.rows == 9
    assert profile.device == "mygpu" and profile.convention == "fvcore"
    s = profile.setting
    assert (s.mode, s.dtype, s.amp, s.batch_size, s.channels_last, s.compiled) == (
        "inference",
        "float16",
        True,
        256,
        True,
        True,
    )
    stored = json.loads(output.read_text(encoding="utf-8"))["setting"]
    assert (stored["channels_last"], stored["compiled"]) == (True, True)
    assert "inference, float16 AMP, batch 256, channels-last, torch.compile" in result.stdout
    assert "measured by timm benchmark.py; torch 2.4.0; CUDA 12.4" in result.stdout
    assert "- read as a timm benchmark CSV (inference columns): 10 rows\n" in result.stdout
    assert "- dropped: 1 repeated (model, image size): first row kept\n" in result.stdout
    assert "- 2 rows share counts with another row: kept, each its own measurement" in result.stdout


def test_a_byte_order_mark_crlf_and_quoted_header_still_read(tmp_path: Path) -> None:
    quoted = ",".join(f'"{column}"' for column in HEADER.split(","))
    path = tmp_path / "excel.csv"
    path.write_bytes(("\ufeff" + "\r\n".join([quoted, *exact_rows()]) + "\r\n").encode())
    profile, notes = fit_user_file(path, "x", FitOptions())
    assert profile.source.rows == 8 and profile.device == "unstated"
    assert notes[0] == "read as a timm benchmark CSV (inference columns): 8 rows"


def test_options_win_over_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, exact_rows())
    output = tmp_path / "mine.json"
    options = [
        "--device", "My GPU", "--dtype", "bfloat16", "--no-amp", "--batch-size", "64",
        "--nchw", "--eager", "--validation", "loo",
    ]  # fmt: skip
    result = runner.invoke(app, ["profile", "fit", str(path), "-o", str(output), *options])
    assert result.exit_code == 0, result.output
    profile = load_profile(output)
    s = profile.setting
    assert profile.device == "My GPU" and profile.validation.method == "leave-one-out"
    assert (s.dtype, s.amp, s.batch_size, s.channels_last, s.compiled) == (
        "bfloat16",
        False,
        64,
        False,
        False,
    )
    assert "inference, bfloat16, batch 64, NCHW, eager" in result.stdout
    assert "set by --device, --dtype, --amp, --batch-size, --channels-last, --compile" in s.note


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a,b\n1,2\n", "header 'a, b' has no 'model' column with 'infer_samples_per_sec'"),
        ("model,infer_samples_per_sec\nx,1\n", "column 'infer_img_size' missing for inference"),
        (HEADER + "\nx,224,abc,1,1,1,1,1\n", "no usable inference row (1 missing, non-numeric"),
        (HEADER + "\n", "no usable inference row (no rows)"),
        (HEADER + '\nx,224,"' + "9" * 200_000 + '",1,1,1,1,1\n', "line 2: not readable CSV"),
        (HEADER + "\nx\xff,224", "not UTF-8 text"),
    ],
)
def test_hostile_files_are_one_line_and_write_nothing(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content.encode("utf-8", "surrogateescape").replace(b"\xc3\xbf", b"\xff"))
    output = tmp_path / "out.json"
    result = runner.invoke(app, ["profile", "fit", str(path), "-o", str(output)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert result.stderr.startswith(f"error: {path}: ") and message in result.stderr
    assert not output.exists() and result.stdout == ""


def test_bad_options_are_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, exact_rows())
    output = tmp_path / "out.json"
    for options, message in [
        (["--batch-size", "0"], "--batch-size: must be from 1 to 2147483648"),
        (["--validation", "3-fold"], "'3-fold' is not one of '5-fold', 'loo'"),
        (["--counts", str(tmp_path / "none.csv"), "--mode", "train"], "none.csv: no such file"),
    ]:
        result = runner.invoke(app, ["profile", "fit", str(path), "-o", str(output), *options])
        assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
        assert message in result.stderr and not output.exists()


def test_profile_on_stdout_and_report_on_stderr_or_a_terminal(tmp_path: Path) -> None:
    path = write(tmp_path, exact_rows())
    piped = run_piped(["profile", "fit", str(path), "-o", "-"])
    assert piped.returncode == 0, piped.stderr
    document = json.loads(piped.stdout)
    assert document["setting"]["compiled"] is True and document["device"] == "mygpu"
    report = piped.stderr.decode()
    assert report.startswith(f"## Device profile {path.stem}\n")
    assert "- read as a timm benchmark CSV (inference columns): 8 rows\n" in report
    output = tmp_path / "mine.json"
    shown = run_in_terminal(["profile", "fit", str(path), "-o", str(output)], 100, "xterm")
    assert "- device: mygpu" in shown and "read as a timm benchmark CSV" in shown
    assert load_profile(output).setting.channels_last is True


@pytest.mark.slow
def test_five_fold_fit_of_a_1600_row_file_takes_seconds() -> None:
    start = time.perf_counter()
    profile, _ = fit_user_file(
        SHARED / "benchmark-infer-amp-nchw-pt291-cu128-4090.csv", "x", FitOptions()
    )
    assert time.perf_counter() - start < 10
    assert profile.source.rows == 1611
    # the same numbers as the shipped rtx4090 profile, fitted from the same file
    assert profile.validation.median_abs_pct_error == pytest.approx(
        load_profile("rtx4090").validation.median_abs_pct_error, rel=1e-9
    )


def test_a_bench_row_of_a_model_another_row_lists_is_merged_and_said(tmp_path: Path) -> None:
    document = json.loads((REPO / "tests" / "data" / "bench_cpu_default.json").read_text())
    again = json.loads(json.dumps(document["rows"][0]))
    again["key"] = "regnety_400mf/w/x1"  # the base under a second key: the same spec
    document["rows"].append(again)
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    profile, notes = fit_user_file(path, "b", FitOptions())
    assert profile.source.rows == 9 and profile.validation.method == "5-fold"
    assert notes[:2] == [
        "read as a scalecalc bench JSON file: 10 rows",
        (
            "1 rows are a model another row already lists (bench times a spec the sweep lists "
            "under two keys once): merged into that row"
        ),
    ]
    assert profile.setting.note == "measured by scalecalc bench; torch 2.13.0+cpu"
