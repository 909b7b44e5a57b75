"""Hostile outputs through the command line: links, inputs as outputs, all-or-nothing writes,
true messages on Ctrl-C and SIGTERM, special files, and OS errors as one line."""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalecalc.cli import signals
from scalecalc.cli import outputs
from scalecalc.cli import app

TINY = str(Path(__file__).parent / "data" / "bench_tiny.yaml")
runner = CliRunner()


def invoke(*args: str) -> object:
    return runner.invoke(app, list(args))


def assert_one_error(result, expected: str, code: int = 2) -> None:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr, result.stderr


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- 1, 2, 24: what an output path names ---


def test_symlinked_output_writes_its_target(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old")
    target.chmod(0o640)
    (tmp_path / "link.json").symlink_to("real.json")
    result = invoke("count", "resnet50", "-f", "json", "-o", str(tmp_path / "link.json"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "link.json").is_symlink()
    # resnet50's 25,557,032 parameters (torchvision's published count) reach the target.
    assert json.loads(target.read_text())[0]["params"] == 25_557_032
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert names(tmp_path) == ["link.json", "real.json"]


def test_symlinked_baseline_is_updated_through_the_link(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    (tmp_path / "b.json").symlink_to(tmp_path / "store" / "costs.json")
    result = invoke("check", "resnet50", "--baseline", str(tmp_path / "b.json"), "--update")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "b.json").is_symlink()
    baseline = json.loads((tmp_path / "store" / "costs.json").read_text())
    assert baseline["entries"]["resnet50/base"]["params"] == 25_557_032


def test_trailing_slash_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert_one_error(invoke("count", "resnet50", "-o", "newname/"), "names a folder")
    assert names(tmp_path) == []


# --- 3, 4: check --update, --report and stdout are written all or nothing ---


def test_update_with_an_unwritable_report_leaves_the_baseline(tmp_path: Path) -> None:
    baseline = tmp_path / "b.json"
    assert invoke("check", "resnet50", "--baseline", str(baseline), "--update").exit_code == 0
    before = baseline.read_bytes()
    (tmp_path / "folder").mkdir()
    args = ["check", "resnet50", "resnet101", "--baseline", str(baseline), "--update"]
    assert_one_error(invoke(*args, "--report", str(tmp_path / "folder")), "is a folder")
    assert baseline.read_bytes() == before


def test_check_table_format_renders(tmp_path: Path) -> None:
    baseline = tmp_path / "b.json"
    result = invoke("check", "resnet50", "-b", str(baseline), "--update", "-f", "table")
    assert result.exit_code == 0, result.output
    assert "resnet50/base" in result.stdout and "not in the baseline" in result.stdout


def test_interrupt_after_the_renames_names_every_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace

    def replace(source: str, target: str) -> None:
        real_replace(source, target)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C just after the first rename

    plot, out = tmp_path / "p.svg", tmp_path / "out.md"
    monkeypatch.setattr(outputs.os, "replace", replace)
    args = ["compare", "resnet50", "-s", "w", "--factors", "2", "--plot", str(plot)]
    result = invoke(*args, "-o", str(out))
    # The interrupt waits until both renames are done, and the message names both files.
    assert_one_error(result, f"interrupted; already written: {plot}, {out}", 130)
    assert plot.read_bytes().startswith(b"<?xml") and out.read_text().startswith("### resnet50")


def test_interrupt_before_the_renames_says_nothing_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_args: object) -> None:
        raise signals.Stopped(15)  # SIGTERM while the temporary file is synced

    monkeypatch.setattr(outputs.os, "fsync", interrupted)
    result = invoke("count", "resnet50", "-o", str(tmp_path / "out.md"))
    assert_one_error(result, "terminated; nothing was written", 143)
    assert names(tmp_path) == []


# --- 6: inputs are never outputs ---


def test_inputs_are_refused_as_outputs(tmp_path: Path) -> None:
    model = tmp_path / "m.yaml"
    model.write_text("preset: resnet50\n")
    sweep = tmp_path / "s.yaml"
    sweep.write_text(f"bases: [{model}]\nstrategies: [w]\nfactors: [2]\n")
    baseline = tmp_path / "b.json"
    assert invoke("check", str(model), "-b", str(baseline), "--update").exit_code == 0
    cases = [
        (["count", str(model), "-o", str(model)], "is the input"),
        (["scale", str(model), "-s", "w", "--factor", "2", "-o", str(model)], "is the input"),
        (["compare", "--sweep", str(sweep), "-o", str(sweep)], "is the input"),
        (["compare", "--sweep", str(sweep), "--plot", str(tmp_path / "m.svg")], None),
        (["compare", "--sweep", str(sweep), "-o", str(model)], "is the input"),
        (["check", str(model), "-b", str(baseline), "--report", str(baseline)], "is the input"),
    ]
    before = {p: p.read_bytes() for p in (model, sweep, baseline)}
    for args, expected in cases:
        if expected is not None:
            assert_one_error(invoke(*args), expected)
    assert {p: p.read_bytes() for p in before} == before


# --- 8: OS errors on writing are one line, and checked before any work ---


def test_bench_output_folder_fails_before_timing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scalecalc.nn.bench

    def never(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the benchmark ran")

    monkeypatch.setattr(scalecalc.nn.bench, "run", never)
    assert_one_error(invoke("bench", TINY, "-o", str(tmp_path)), "is a folder")
    assert_one_error(invoke("bench", TINY, "--plot", f"{tmp_path}/x.png/"), "names a folder")


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("/proc/version", "cannot write in directory /proc"),
        ("/proc/self", "is a folder"),
        (".", "names a folder"),
        ("", "empty path"),
    ],
)
def test_unwritable_outputs(output: str, expected: str) -> None:
    assert_one_error(invoke("count", "resnet50", "-o", output), expected)


@pytest.mark.parametrize(
    ("plot", "expected"),
    [("/proc/x.svg", "cannot write in directory /proc"), ("p.svg/", "names a folder")],
)
def test_unwritable_plots_fail_before_the_sweep(plot: str, expected: str) -> None:
    assert_one_error(invoke("compare", "resnet50", "-s", "w", "--plot", plot), expected)


# --- 11 (stdout encoding), 25: control characters ---


def test_ascii_stdout_gets_ascii_symbols() -> None:
    ascii_runner = CliRunner(charset="ascii")
    result = ascii_runner.invoke(app, ["compare", "resnet50", "-s", "w", "--factors", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout.isascii() and "flops ~ d*w^2*r^2" in result.stdout


def test_control_characters_in_paths_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "evil\x1b]0;pwned\x07.yaml"
    result = invoke("count", str(path))
    assert_one_error(result, "evil\\x1b]0;pwned\\x07.yaml: no such file")
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr


# --- 16, 17: bounded reads ---


@pytest.mark.parametrize(
    "args",
    [
        ["count", "/dev/zero"],
        ["check", "resnet50", "--baseline", "/dev/zero"],
        ["compare", "resnet50", "-s", "w", "--factors", "2", "--bench", "/dev/zero"],
    ],
)
def test_endless_files_are_refused_at_the_limit(args: list[str]) -> None:
    assert_one_error(invoke(*args), "the limit is")


def test_sweep_base_that_never_ends(tmp_path: Path) -> None:
    sweep = tmp_path / "s.yaml"
    sweep.write_text("bases: [/dev/zero]\nstrategies: [w]\nfactors: [2]\n")
    assert_one_error(invoke("compare", "--sweep", str(sweep)), "the limit is 1048576")


def test_fifo_input_with_no_writer_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "m.yaml"
    os.mkfifo(fifo)
    assert_one_error(invoke("count", str(fifo)), "expected a mapping")


def test_large_bench_file_is_refused_by_its_size(tmp_path: Path) -> None:
    big = tmp_path / "bench.json"
    with big.open("wb") as file:
        file.truncate(2 << 30)  # 2 GiB, sparse: refused after 16 MiB + 1 byte are read
    result = invoke("compare", "resnet50", "-s", "w", "--factors", "2", "--bench", str(big))
    assert_one_error(result, f"--bench: {big}: file is over 16777216 bytes")


def test_stdin_as_dash_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from scalecalc.errors import ConfigError
    from scalecalc.files import read_text

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"y\n" * 1_000_000)))
    with pytest.raises(ConfigError, match="the limit is 1024"):
        read_text("-", 1024, ConfigError, "YAML")


def test_dash_reads_a_config_from_stdin() -> None:
    result = runner.invoke(app, ["count", "-", "-f", "csv"], input="preset: resnet50\n")
    assert result.exit_code == 0, result.output
    # torchvision's resnet50: 25,557,032 parameters in total.
    totals = [line for line in result.stdout.splitlines() if ",total," in line]
    assert totals == [totals[0]] and totals[0].split(",")[6] == "25557032"
    endless = runner.invoke(app, ["count", "-"], input="y\n" * 600_000)
    assert_one_error(endless, "stdin: file is over 1048576 bytes")


def test_failed_scale_write_is_the_only_stderr_line(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # no reader: the write fails after the model was solved
    result = invoke("scale", "resnet50", "-s", "dWr", "--factor", "2", "-o", str(fifo))
    assert_one_error(result, "cannot write (No such device or address); nothing was written")


def test_plot_and_output_fail_together_before_the_sweep(tmp_path: Path) -> None:
    plot = tmp_path / "p.svg"
    args = ["compare", "resnet50", "-s", "w", "--plot", str(plot), "-o", str(tmp_path)]
    assert_one_error(invoke(*args), "is a folder")
    assert names(tmp_path) == []


def test_lone_surrogate_in_a_name_is_refused_before_any_output(tmp_path: Path) -> None:
    # A lone surrogate cannot be written as UTF-8 anywhere: it is refused where it enters,
    # with one line, and neither the baseline nor the report is written.
    config = tmp_path / "m.yaml"
    config.write_text('name: "x\\ud800"\npreset: resnet50\n')
    baseline, report = tmp_path / "b.json", tmp_path / "r.md"
    args = ["check", str(config), "-b", str(baseline), "--update", "-f", "table"]
    result = CliRunner(charset="ascii").invoke(app, [*args, "--report", str(report)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "lone surrogate" in result.stderr
    assert not baseline.exists() and not report.exists()


def test_two_options_naming_one_file_fail_before_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scalecalc.compare.run

    def never(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the sweep ran")

    monkeypatch.setattr(scalecalc.compare.run, "run", never)
    same = str(tmp_path / "x.svg")
    result = invoke("compare", "resnet50", "-s", "w", "--plot", same, "-o", same)
    assert_one_error(result, "is also --output")


def test_update_with_a_broken_stdout_leaves_the_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline, report = tmp_path / "b.json", tmp_path / "r.md"
    assert invoke("check", "resnet50", "--baseline", str(baseline), "--update").exit_code == 0
    before = baseline.read_bytes()

    def broken(_text: str) -> None:
        raise outputs.BrokenPipe("stdout: broken pipe (the reader exited); nothing was written")

    monkeypatch.setattr(outputs, "write_stdout", broken)
    args = ["check", "resnet50", "resnet101", "-b", str(baseline), "--update", "--report"]
    assert_one_error(invoke(*args, str(report)), "broken pipe", 141)
    assert baseline.read_bytes() == before and names(tmp_path) == ["b.json"]
