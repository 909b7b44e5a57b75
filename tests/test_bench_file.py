"""The one reader of bench JSON: `compare --bench` and `profile fit` accept and refuse the same
files with the same one-line message, and count a model the sweep lists twice once."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from scalecalc.bench.results import MAX_BENCH_BYTES, read_bench
from scalecalc.cli import app
from scalecalc.errors import ConfigError
from scalecalc.profile.data import bench_records

runner = CliRunner()
# `python -m scalecalc bench -f json`: regnety_400mf × w, d, r, dWr × 2, 4 at batch 8.
BENCH = Path(__file__).parent / "data" / "bench_cpu_default.json"
DOCUMENT = json.loads(BENCH.read_text(encoding="utf-8"))
COMPARE = ["compare", "regnety_400mf", "-s", "w,d,r,dWr", "--factors", "2,4", "-f", "json"]


def edited(change: Callable[[dict[str, Any]], object]) -> str:
    """The real bench document with one change."""
    document = copy.deepcopy(DOCUMENT)
    change(document)
    return json.dumps(document)


def run_both(path: Path, tmp_path: Path) -> list[tuple[int, str, str, bool]]:
    """(exit code, stdout, stderr, profile written) of compare --bench and of profile fit."""
    compared = runner.invoke(app, [*COMPARE, "--bench", str(path)])
    profile = tmp_path / "mine.json"
    profile.unlink(missing_ok=True)
    fitted = runner.invoke(app, ["profile", "fit", str(path), "-o", str(profile)])
    return [
        (compared.exit_code, compared.stdout, compared.stderr, False),
        (fitted.exit_code, fitted.stdout, fitted.stderr, profile.exists()),
    ]


def setup_value(key: str, value: object) -> Callable[[dict[str, Any]], object]:
    return lambda d: d["setup"].update({key: value})


def row_value(key: str, value: object, index: int = 0) -> Callable[[dict[str, Any]], object]:
    return lambda d: d["rows"][index].update({key: value})


def runtime_value(key: str, value: object) -> Callable[[dict[str, Any]], object]:
    return lambda d: d["rows"][0]["runtime"].update({key: value})


SECONDS = "must be seconds from 1e-09 to 1e+06"
BAD = [
    ("{", "not valid JSON at line 1, column 2"),
    ('{"rows": []}', "setup: missing"),
    ("[]", "the document: must be an object, got []"),
    (edited(lambda d: d.update(setup="x")), "setup: must be an object, got 'x'"),
    (edited(lambda d: d.update(setup=None)), "setup: must be an object, got None"),
    (edited(lambda d: d.update(setup=[1])), "setup: must be an object, got [1]"),
    (edited(lambda d: d.update(rows={})), "rows: must be a list, got {}"),
    (edited(lambda d: d["setup"].pop("torch")), "setup.torch: missing"),
    (edited(setup_value("device", 7)), "setup.device: must be a UTF-8 string, got 7"),
    (edited(setup_value("mode", "eval")), "setup.mode: must be one of inference, train"),
    (edited(setup_value("dtype", "int8")), "setup.dtype: must be one of float32, float16"),
    (edited(setup_value("convention", None)), "setup.convention: must be one of paper, fvcore"),
    (edited(setup_value("batch_size", None)), "setup.batch_size: must be an integer from 1"),
    (edited(setup_value("batch_size", [8])), "setup.batch_size: must be an integer from 1"),
    (edited(setup_value("batch_size", 0)), "setup.batch_size: must be an integer from 1 to"),
    (edited(setup_value("batch_size", True)), "setup.batch_size: must be an integer"),
    (edited(setup_value("iters", 10**10)), "setup.iters: must be an integer from 1 to 1e+09"),
    (edited(setup_value("rounds", 0)), "setup.rounds: must be an integer from 1 to 1e+09"),
    (edited(setup_value("threads", "2")), "setup.threads: must be an integer"),
    (edited(lambda d: d["rows"][0].pop("family")), "rows[0].family: missing"),
    (edited(row_value("spec", "resnet50")), "rows[0].spec: must be an object, got 'resnet50'"),
    (edited(row_value("runtime", [])), "rows[0].runtime: must be an object, got []"),
    (edited(row_value("key", 5)), "rows[0].key: must be a UTF-8 string, got 5"),
    (edited(row_value("flops", 10**400)), "rows[0].flops: must be an integer from 1 to 1e+18"),
    (edited(row_value("acts", 0)), "rows[0].acts: must be an integer from 1 to 1e+18, got 0"),
    (edited(row_value("params", 1.5)), "rows[0].params: must be an integer"),
    (edited(row_value("key", DOCUMENT["rows"][0]["key"], 3)), "rows[3].key: 'regnety_400mf/b"),
    (edited(runtime_value("median_s", 1e-300)), f"rows[0].runtime.median_s: {SECONDS}"),
    (edited(runtime_value("median_s", 1e300)), f"rows[0].runtime.median_s: {SECONDS}"),
    (edited(runtime_value("median_s", -1)), f"rows[0].runtime.median_s: {SECONDS}, got -1"),
    (edited(runtime_value("median_s", "1")), f"rows[0].runtime.median_s: {SECONDS}, got '1'"),
    (edited(runtime_value("throughput", 0)), "rows[0].runtime.throughput: must be a finite"),
    (edited(runtime_value("times_s", [])), "rows[0].runtime.times_s: must be a non-empty list"),
    (edited(runtime_value("times_s", [0.1, 0])), f"rows[0].runtime.times_s[1]: {SECONDS}"),
    (edited(runtime_value("batch_size", 1000)), "batch_size: 1000 is not the setup's batch_size 8"),
    (edited(runtime_value("peak_memory_bytes", -1)), "rows[0].runtime.peak_memory_bytes: must"),
    # What Python's own parser lets through.
    (edited(setup_value("iters", 1)).replace('"iters": 1', '"iters": NaN'), "NaN is not a valid"),
    (edited(setup_value("iters", 1)).replace('"iters": 1', '"iters": Infinity'), "Infinity is not"),
    (edited(setup_value("iters", 1)).replace('"iters": 1', '"iters": 1e400'), "got inf"),
    ('{"setup": {}, "setup": {}, "rows": []}', "duplicate key 'setup' in a JSON object"),
    ("[" * 100_000 + "]" * 100_000, "not a usable JSON document (nested 100000 deep, the limit"),
    ("[" * 65 + "]" * 65, "not a usable JSON document (nested 65 deep, the limit is 64)"),
    (edited(setup_value("device", "x\ud800")), r"setup.device: must be a UTF-8 string, got 'x\ud8"),
    ('{"setup": {"x\\udfff": 1}}', r"key 'x\udfff' has a lone surrogate escape"),
    ('{"setup": ' + "9" * 5000 + "}", "not a usable JSON document (Exceeds the limit"),
]


@pytest.mark.parametrize(("content", "message"), BAD)
def test_both_commands_refuse_a_bad_bench_file_alike(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bench.json"
    path.write_text(content, encoding="utf-8")
    (code, out, err, _), (fit_code, fit_out, fit_err, written) = run_both(path, tmp_path)
    assert (code, out, fit_code, fit_out, written) == (2, "", 2, "", False)
    # One line each, naming the file, the key and what is allowed; the same words after it.
    assert err.startswith(f"error: --bench: {path}: ") and err.count("\n") == 1
    assert fit_err.startswith(f"error: {path}: ") and fit_err.count("\n") == 1
    assert message in err
    assert err.removeprefix("error: --bench: ") == fit_err.removeprefix("error: ")


def test_one_size_limit_for_both_commands(tmp_path: Path) -> None:
    # 1.3 MB of bench JSON: accepted by both (profile fit refused anything over 1 MiB).
    padded = tmp_path / "padded.json"
    padded.write_text(edited(lambda d: d.update(note="x" * 1_300_000)), encoding="utf-8")
    (code, out, err, _), (fit_code, _, fit_err, written) = run_both(padded, tmp_path)
    assert (code, fit_code, written) == (0, 0, True), (err, fit_err)
    assert all(row["runtime"] is not None for row in json.loads(out)["rows"])
    # One byte over the limit: refused by both, without reading the rest (a sparse file).
    large = tmp_path / "large.json"
    with large.open("wb") as file:
        file.truncate(MAX_BENCH_BYTES + 1)
    results = run_both(large, tmp_path)
    for code, _, err, written in results:
        assert code == 2 and not written
        assert f"file is over {MAX_BENCH_BYTES} bytes" in err


def test_a_fifo_is_not_waited_on_forever(tmp_path: Path) -> None:
    fifo = tmp_path / "bench.json"
    os.mkfifo(fifo)  # no writer: reads as empty at once
    with pytest.raises(ConfigError, match="not valid JSON at line 1, column 1"):
        read_bench(fifo)


@pytest.mark.parametrize("with_specs", [False, True])
def test_a_model_listed_twice_counts_once_and_distinct_models_all_count(
    tmp_path: Path, with_specs: bool
) -> None:
    document = copy.deepcopy(DOCUMENT)
    if with_specs:  # rows of newer files carry the model's spec; the fixture's predate it
        for index, row in enumerate(document["rows"]):
            row["spec"] = {"family": row["family"], "model": index}
    base = document["rows"][0]
    # The sweep listed the base twice (bench measured it once, under the first key): one model.
    again = {**copy.deepcopy(base), "key": "regnety_400mf/again"}
    # Another model with the base's counts, measured at another time: a model of its own.
    twin = copy.deepcopy(base)
    twin["key"] = "twin/base"
    if with_specs:
        twin["spec"] = {"family": "regnet", "model": "twin"}
    else:
        twin["widths"] = [*base["widths"][:-1], base["widths"][-1] + 8]
    twin["runtime"]["median_s"] = 2 * base["runtime"]["median_s"]
    document["rows"] += [again, twin]
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    setup, records = bench_records(path)
    names = [record.name for record in records]
    assert names == [row["key"] for row in DOCUMENT["rows"]] + ["twin/base"]
    assert records[-1].seconds == 2 * base["runtime"]["median_s"] / 8
    assert records[0].seconds == base["runtime"]["median_s"] / 8
    assert setup["batch_size"] == 8
    assert [r["key"] for r in read_bench(path).distinct()] == names
    # Through the command: 10 models fitted, not 11 (the repeat) nor 9 (the twin dropped).
    profile = tmp_path / "mine.json"
    result = runner.invoke(app, ["profile", "fit", str(path), "-o", str(profile)])
    assert result.exit_code == 0, result.output
    source = json.loads(profile.read_text(encoding="utf-8"))["fitted_on"]
    assert (source["models"], source["rows"]) == (10, 10)
