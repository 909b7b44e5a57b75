"""An interrupted `bench` keeps what it measured in OUTPUT.partial.jsonl; --resume measures the rest."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from test_bench import TOY_VIT
from typer.testing import CliRunner

from scalecalc.compare import run as compare
from scalecalc.cli import outputs
from scalecalc.bench.results import read_partial
from scalecalc.bench.partial import (
    PartialWriter,
    check_setup,
    open_partial,
    partial_path,
    reusable,
)
from scalecalc.cli import app
from scalecalc.config import ModelConfig
from scalecalc.errors import ConfigError
from scalecalc.cli.signals import Stopped
from scalecalc.bench.measurement import BenchSettings, Measurement
from scalecalc.nn import bench
from scalecalc.sweep import Entry

runner = CliRunner()
TINY = str(Path(__file__).parent / "data" / "bench_tiny.yaml")
SETUP = {
    "device": "cpu (test)",
    "device_kind": "cpu",
    "torch": "x",
    "threads": 2,
    "mode": "inference",
    "batch_size": 8,
    "dtype": "float32",
    "warmup": 2,
    "iters": 5,
    "rounds": 1,
    "convention": "paper",
}
# tiny × d, r × 2, 4 and the base: five distinct models.
ARGS = ["bench", TINY, "-s", "d,r", "--factors", "2,4", "--device", "cpu", "--batch-size", "1"]
KEYS = ["tiny/base", "tiny/d/x2", "tiny/d/x4", "tiny/r/x2", "tiny/r/x4"]


def toy_rows() -> list[compare.CompareRow]:
    """Four toy ViTs, the last a repeat of the first (measured once, under the first key)."""
    specs = [TOY_VIT, TOY_VIT.replace(num_layers=2), TOY_VIT.replace(num_layers=3), TOY_VIT]
    names = ["base", "deeper", "deepest", "again"]
    return compare.run([Entry(f"toy/{n}", ModelConfig("toy", s)) for n, s in zip(names, specs)])


def fake_measure(
    calls: list[int], stop_after: int | None = None
) -> Callable[[object, BenchSettings, int], Measurement]:
    """A measurement whose time is the spec's depth (ms) plus 0.1 ms per earlier call;
    Ctrl-C on call number `stop_after + 1`."""

    def measure(spec: object, settings: BenchSettings, estimate: int) -> Measurement:
        if stop_after is not None and len(calls) == stop_after:
            raise KeyboardInterrupt
        calls.append(spec.num_layers)  # type: ignore[attr-defined]
        seconds = spec.num_layers * 1e-3 + len(calls) * 1e-4  # type: ignore[attr-defined]
        return Measurement((seconds,), settings.batch_size, 100 * len(calls), estimate)

    return measure


@pytest.mark.parametrize("stop_after", [0, 1, 2, 4, 5])
def test_interrupted_run_resumes_with_only_the_rest(tmp_path: Path, stop_after: int) -> None:
    rows, settings = toy_rows(), BenchSettings("cpu", rounds=2)  # 3 models × 2 rounds
    path = tmp_path / "bench.json.partial.jsonl"
    first_calls: list[int] = []
    writer = PartialWriter(path, SETUP, [])
    with pytest.raises(KeyboardInterrupt):
        bench.run(rows, settings, None, fake_measure(first_calls, stop_after), None, writer.add)
    writer.close()
    # Every finished measurement is on disk: the header, then one line per measurement.
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["partial"] is True and lines[0]["setup"] == SETUP
    assert [(r["key"], r["round"]) for r in lines[1:]] == [
        ("toy/base", 0),
        ("toy/deeper", 0),
        ("toy/deepest", 0),
        ("toy/base", 1),
        ("toy/deeper", 1),
    ][:stop_after]

    previous, kept = reusable(read_partial(path).records, rows, settings.rounds)
    assert len(previous) == len(kept) == stop_after
    second_calls: list[int] = []
    writer = PartialWriter(path, SETUP, kept)
    results = bench.run(rows, settings, None, fake_measure(second_calls), previous, writer.add)
    writer.close()
    # The rest, in run order: depths 1, 2, 3 in each of two rounds, minus those kept.
    assert first_calls == [1, 2, 3, 1, 2, 3][:stop_after]
    assert second_calls == [1, 2, 3, 1, 2, 3][stop_after:]
    # Each model pools its first-round and second-round times, whichever run measured them:
    # depth ms + 0.1 ms × the call number within its run.
    expected = {}
    for index, depth in enumerate([1, 2, 3, 1, 2, 3]):
        call = index + 1 if index < stop_after else index - stop_after + 1
        expected.setdefault(depth, []).append(depth * 1e-3 + call * 1e-4)
    assert [r.measurement.times for r in results] == [
        pytest.approx(tuple(expected[depth])) for depth in (1, 2, 3, 1)
    ]
    assert results[3].measurement is results[0].measurement  # the repeat shares the first's
    assert len(path.read_text().splitlines()) == 1 + 6  # header and all six measurements


def test_records_of_another_model_or_round_are_measured_again(tmp_path: Path) -> None:
    rows, path = toy_rows(), tmp_path / "p.jsonl"
    writer = PartialWriter(path, SETUP, [])
    bench.run(rows, BenchSettings("cpu"), None, fake_measure([]), None, writer.add)
    writer.close()
    records = read_partial(path).records
    assert [r["key"] for r in records] == ["toy/base", "toy/deeper", "toy/deepest"]
    records[1]["spec"]["hidden_size"] = 16  # toy/deeper was another model then
    records[2]["round"] = 1  # a round this run (rounds=1) does not have
    previous, kept = reusable(records, rows, rounds=1)
    assert list(previous) == [("toy/base", 0)] and [r["key"] for r in kept] == ["toy/base"]
    # The repeat's own key never reuses a record: run measures it under the first key only.
    records[0]["key"] = "toy/again"
    assert reusable(records[:1], rows, rounds=1) == ({}, [])


def test_a_partial_file_from_another_setup_or_not_a_partial_file(tmp_path: Path) -> None:
    output = outputs.destination(str(tmp_path / "bench.json"))
    path = partial_path(output)
    assert open_partial(output, resume=False) is None  # none there yet
    PartialWriter(path, SETUP, []).close()
    with pytest.raises(ConfigError) as error:
        open_partial(output, resume=False)
    assert str(error.value) == (
        f"{path} holds 0 measurements of an interrupted run; pass --resume to continue it, "
        "or delete it"
    )
    partial = open_partial(output, resume=True)
    assert partial is not None and partial.records == []
    check_setup(partial, SETUP)
    with pytest.raises(ConfigError) as error:
        check_setup(partial, {**SETUP, "batch_size": 16})
    assert str(error.value) == (
        f"--resume: {path} was measured with batch_size 8, this run has 16; rerun with the "
        "same settings or delete it"
    )
    path.write_text('{"rows": []}\n')
    with pytest.raises(ConfigError, match="not a partial file of `scalecalc bench`"):
        open_partial(output, resume=True)


def stepping_clock(monkeypatch: pytest.MonkeyPatch, stop_after: int | None = None) -> list[int]:
    """Fake timings for the command: call n takes n ms; Ctrl-C on call `stop_after + 1`."""
    calls: list[int] = []

    def time_model(step: object, warmup: int, iters: int, **_: object) -> list[float]:
        if stop_after is not None and len(calls) == stop_after:
            raise KeyboardInterrupt
        calls.append(len(calls) + 1)
        return [calls[-1] * 1e-3]

    monkeypatch.setattr(bench, "time_model", time_model)
    return calls


def test_command_keeps_a_partial_file_on_ctrl_c_and_resumes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "bench.json"
    partial = Path(f"{out}.partial.jsonl")
    stepping_clock(monkeypatch, stop_after=2)
    result = runner.invoke(app, [*ARGS, "-f", "json", "-o", str(out)])
    assert result.exit_code == 130
    assert result.stderr.splitlines()[-1] == (
        f"error: interrupted; 2 of 5 measurements kept in {partial}; rerun with --resume"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench.json.partial.jsonl"]
    header, *records = [json.loads(line) for line in partial.read_text().splitlines()]
    assert header["partial"] is True and header["note"].startswith("PARTIAL: ")
    assert [r["key"] for r in records] == KEYS[:2]

    # Without --resume the kept measurements are neither reused nor overwritten.
    result = runner.invoke(app, [*ARGS, "-f", "json", "-o", str(out)])
    assert result.exit_code == 2 and result.stderr == (
        f"error: {partial} holds 2 measurements of an interrupted run; pass --resume to "
        "continue it, or delete it\n"
    )
    # Another batch size is another setup: refused, naming the difference.
    other = [*ARGS[:-1], "2", "-f", "json", "-o", str(out), "--resume"]
    result = runner.invoke(app, other)
    assert result.exit_code == 2 and result.stderr == (
        f"error: --resume: {partial} was measured with batch_size 1, this run has 2; rerun "
        "with the same settings or delete it\n"
    )

    calls = stepping_clock(monkeypatch)
    result = runner.invoke(app, [*ARGS, "-f", "json", "-o", str(out), "--resume"])
    assert result.exit_code == 0, result.output
    assert calls == [1, 2, 3]  # only the three models the first run did not finish
    assert f"resuming from {partial}: 2 of 5 measurements already done" in result.stderr
    document = json.loads(out.read_text())
    assert [r["key"] for r in document["rows"]] == KEYS
    # First run: 1 ms, 2 ms; the resumed run: 1, 2, 3 ms for the rest.
    medians = [r["runtime"]["median_s"] for r in document["rows"]]
    assert medians == pytest.approx([1e-3, 2e-3, 1e-3, 2e-3, 3e-3])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench.json"]  # partial removed


def test_a_line_cut_short_by_a_kill_is_measured_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "bench.md"
    stepping_clock(monkeypatch, stop_after=3)
    assert runner.invoke(app, [*ARGS, "-o", str(out)]).exit_code == 130
    partial = Path(f"{out}.partial.jsonl")
    lines = partial.read_text().splitlines()
    partial.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:25])  # SIGKILL mid-write
    calls = stepping_clock(monkeypatch)
    result = runner.invoke(app, [*ARGS, "-o", str(out), "--resume"])
    assert result.exit_code == 0, result.output
    assert calls == [1, 2, 3] and not partial.exists()
    assert "| d | 4 |" in out.read_text()


def test_resume_needs_an_output_file() -> None:
    result = runner.invoke(app, [*ARGS, "--resume"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert (
        result.stderr == "error: --resume: needs --output FILE (the partial file sits beside it)\n"
    )


def test_resume_without_a_partial_file_runs_everything(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "bench.json"
    calls = stepping_clock(monkeypatch)
    result = runner.invoke(app, [*ARGS, "-f", "json", "-o", str(out), "--resume"])
    assert result.exit_code == 0, result.output
    assert calls == [1, 2, 3, 4, 5] and sorted(p.name for p in tmp_path.iterdir()) == ["bench.json"]


def test_ctrl_c_before_any_measurement_leaves_no_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stepping_clock(monkeypatch, stop_after=0)
    result = runner.invoke(app, [*ARGS, "-o", str(tmp_path / "bench.md")])
    assert result.exit_code == 130
    assert result.stderr.splitlines()[-1] == "error: interrupted; nothing was written"
    assert list(tmp_path.iterdir()) == []


def test_sigterm_keeps_the_partial_file_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[int] = []

    def time_model(step: object, warmup: int, iters: int, **_: object) -> list[float]:
        if len(calls) == 2:
            raise Stopped(signal.SIGTERM)  # what the SIGTERM handler raises while a command runs
        calls.append(1)
        return [1e-3]

    monkeypatch.setattr(bench, "time_model", time_model)
    out = tmp_path / "bench.json"
    result = runner.invoke(app, [*ARGS, "-f", "json", "-o", str(out)])
    assert result.exit_code == 128 + 15
    assert result.stderr.splitlines()[-1] == (
        f"error: terminated; 2 of 5 measurements kept in {out}.partial.jsonl; rerun with --resume"
    )
    assert len(Path(f"{out}.partial.jsonl").read_text().splitlines()) == 1 + 2


def test_ctrl_c_names_the_partial_file_as_output_was_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    stepping_clock(monkeypatch, stop_after=1)
    result = runner.invoke(app, [*ARGS, "-o", "bench.md"])
    assert result.exit_code == 130
    assert result.stderr.splitlines()[-1] == (
        "error: interrupted; 1 of 5 measurements kept in bench.md.partial.jsonl; rerun with "
        "--resume"
    )
    calls = stepping_clock(monkeypatch)
    result = runner.invoke(app, [*ARGS, "-o", "bench.md", "--resume"])
    assert result.exit_code == 0 and calls == [1, 2, 3, 4]
    assert "resuming from bench.md.partial.jsonl: 1 of 5 measurements already done" in (
        result.stderr
    )


def no_measuring(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything is timed: the refusals below come before any measurement."""

    def refuse(*_: object, **__: object) -> list[float]:
        raise AssertionError("measured before refusing")

    monkeypatch.setattr(bench, "time_model", refuse)


@pytest.mark.parametrize("resume", [False, True])
@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda p: os.mkfifo(p), "a FIFO, device or socket"),
        (lambda p: p.symlink_to("/dev/zero"), "a symbolic link"),
        (lambda p: p.mkdir(), "a folder"),
    ],
)
def test_a_special_file_at_the_partial_path_is_refused_at_once(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    make: Callable[[Path], None],
    kind: str,
    resume: bool,
) -> None:
    out = tmp_path / "bench.json"
    partial = Path(f"{out}.partial.jsonl")
    make(partial)
    no_measuring(monkeypatch)
    result = runner.invoke(app, [*ARGS, "-o", str(out), *(["--resume"] if resume else [])])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: {partial} is {kind}, where bench keeps the partial file of --output; remove "
        "it or choose another --output\n"
    )
    assert not out.exists()


def test_a_symlinked_partial_file_is_neither_replaced_nor_its_target_touched(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "bench.json"
    target = tmp_path / "elsewhere.jsonl"
    target.write_text("mine\n")
    Path(f"{out}.partial.jsonl").symlink_to(target)
    no_measuring(monkeypatch)
    result = runner.invoke(app, [*ARGS, "-o", str(out), "--resume"])
    assert result.exit_code == 2 and "is a symbolic link" in result.stderr
    assert Path(f"{out}.partial.jsonl").is_symlink() and target.read_text() == "mine\n"


def test_a_partial_file_over_the_limit_is_refused_unread(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "bench.json"
    with Path(f"{out}.partial.jsonl").open("wb") as file:
        file.truncate(1 << 30)  # 1 GiB, sparse: only the first 16 MiB + 1 byte are read
    no_measuring(monkeypatch)
    result = runner.invoke(app, [*ARGS, "-o", str(out), "--resume"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {out}.partial.jsonl: file is over 16777216 bytes; the limit is 16777216; "
        "delete it to measure everything again\n"
    )


def interrupted_run(monkeypatch: pytest.MonkeyPatch, out: Path) -> list[str]:
    """The lines of the partial file of a run stopped after two measurements (batch 1)."""
    stepping_clock(monkeypatch, stop_after=2)
    assert runner.invoke(app, [*ARGS, "-f", "json", "-o", str(out)]).exit_code == 130
    return Path(f"{out}.partial.jsonl").read_text().splitlines()


def with_setup(value: object) -> Callable[[list[str]], None]:
    def change(lines: list[str]) -> None:
        header = json.loads(lines[0])
        header["setup"] = value
        lines[0] = json.dumps(header)

    return change


def with_field(key: str, value: object) -> Callable[[list[str]], None]:
    def change(lines: list[str]) -> None:
        record = json.loads(lines[2])
        record[key] = value
        lines[2] = json.dumps(record)

    return change


def with_text(old: str, new: str) -> Callable[[list[str]], None]:
    def change(lines: list[str]) -> None:
        lines[2] = lines[2].replace(old, new)

    return change


SECONDS = "must be seconds from 1e-09 to 1e+06"


@pytest.mark.parametrize(
    ("change", "line", "problem"),
    [
        (with_setup("cpu"), 1, "setup: must be an object, got 'cpu'"),
        (with_setup([1]), 1, "setup: must be an object, got [1]"),
        (with_setup(None), 1, "setup: must be an object, got None"),
        (with_setup({"device": "cpu"}), 1, "setup.torch: missing"),
        (with_field("times_s", []), 3, "times_s: must be a non-empty list of seconds, got []"),
        (with_field("times_s", [0]), 3, f"times_s[0]: {SECONDS}, got 0"),
        (with_field("times_s", [-1]), 3, f"times_s[0]: {SECONDS}, got -1"),
        (with_field("times_s", "fast"), 3, "times_s: must be a non-empty list of seconds"),
        (with_text('"times_s": [', '"times_s": [NaN, '), 3, "NaN is not a valid number"),
        (with_text('"times_s": [', '"times_s": [Infinity, '), 3, "Infinity is not a valid number"),
        (with_field("batch_size", 0), 3, "batch_size: must be an integer from 1 to 1e+09, got 0"),
        (with_field("batch_size", 1000), 3, "batch_size: 1000 is not the run's batch_size 1"),
        (with_field("round", -1), 3, "round: must be an integer from 0 to 1e+09, got -1"),
        (with_field("spec", "x"), 3, "spec: must be an object, got 'x'"),
        (
            with_field("peak_memory_bytes", 1.5),
            3,
            "peak_memory_bytes: must be null or an integer from 0 to 1.15292e+18, got 1.5",
        ),
        (with_text('"key"', '"key": 1, "key"'), 3, "duplicate key 'key' in a JSON object"),
    ],
)
def test_a_damaged_partial_file_is_one_error_naming_its_line(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    change: Callable[[list[str]], None],
    line: int,
    problem: str,
) -> None:
    out = tmp_path / "bench.json"
    lines = interrupted_run(monkeypatch, out)
    change(lines)
    partial = Path(f"{out}.partial.jsonl")
    partial.write_text("\n".join(lines) + "\n")
    no_measuring(monkeypatch)
    for resume in ([], ["--resume"]):
        result = runner.invoke(app, [*ARGS, "-f", "json", "-o", str(out), *resume])
        assert (result.exit_code, result.stdout) == (2, "")
        # The file, the line and the key; and how to go on.
        assert result.stderr.startswith(f"error: {partial}: line {line}: ")
        assert problem in result.stderr
        assert result.stderr.endswith("; delete it to measure everything again\n")
        assert result.stderr.count("\n") == 1
    assert partial.read_text() == "\n".join(lines) + "\n"  # left for the user to look at


def test_an_output_name_too_long_for_its_partial_file_is_refused_up_front(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    no_measuring(monkeypatch)
    longest = 255 - len(".partial.jsonl")  # 241 bytes
    out = tmp_path / ("b" * (longest - len(".md")) + "x.md")
    result = runner.invoke(app, [*ARGS, "-o", str(out)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "error: --output: a name of 242 bytes; bench keeps its measurements beside it in "
        "NAME.partial.jsonl while it runs, and a name here has at most 255 bytes: use a name "
        "of at most 241 bytes\n"
    )
    calls = stepping_clock(monkeypatch)
    fits = tmp_path / ("b" * (longest - len(".md")) + ".md")
    result = runner.invoke(app, [*ARGS, "-o", str(fits)])
    assert result.exit_code == 0, result.output
    assert calls == [1, 2, 3, 4, 5] and "| d | 4 |" in fits.read_text()


def test_threads_are_set_while_timing_and_recorded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import torch

    before = torch.get_num_threads()
    seen: list[int] = []

    def time_model(step: object, warmup: int, iters: int, **_: object) -> list[float]:
        seen.append(torch.get_num_threads())
        return [1e-3]

    monkeypatch.setattr(bench, "time_model", time_model)
    out = tmp_path / "bench.json"
    wanted = 1 if before > 1 else 2
    result = runner.invoke(app, [*ARGS, "-f", "json", "-o", str(out), "--threads", str(wanted)])
    assert result.exit_code == 0, result.output
    assert seen == [wanted] * 5 and torch.get_num_threads() == before
    assert json.loads(out.read_text())["setup"]["threads"] == wanted
    result = runner.invoke(app, [*ARGS, "--threads", "0"])
    assert (result.exit_code, result.stderr) == (
        2,
        "error: --threads: must be from 1 to 4096, got 0\n",
    )
