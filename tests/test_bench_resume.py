"""An interrupted `bench` keeps what it measured in OUTPUT.partial.jsonl; --resume measures the rest."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from test_bench import TOY_VIT
from typer.testing import CliRunner

from scalecalc import compare
from scalecalc import outputs
from scalecalc.bench_file import read_partial
from scalecalc.bench_partial import (
    PartialWriter,
    check_setup,
    open_partial,
    partial_path,
    reusable,
)
from scalecalc.cli import app
from scalecalc.config import ModelConfig
from scalecalc.errors import ConfigError
from scalecalc.interrupts import Stopped
from scalecalc.measurement import BenchSettings, Measurement
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
