"""`scalecalc check` through the CLI runner: exit codes, drift found in changed models, --rtol,
--update (atomic, also when interrupted), reports, and the corpus of bad baselines.

Expected counts come from scalecalc.api.count of each spec, and percents are computed here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import scalecalc.api
from scalecalc.api import count, load
from scalecalc.cli import app
from scalecalc.costs import Costs

CORPUS = Path(__file__).parent / "corpus" / "baselines"
runner = CliRunner()

# Each bad baseline and the message it must give (a JSON file cannot carry its own comment).
BAD_BASELINES = {
    "empty.json": "file is empty; expected a baseline JSON file",
    "blank.json": "file is empty; expected a baseline JSON file",
    "truncated.json": "not valid JSON at line 8, column 7: Unterminated string",
    "not_json.json": "not valid JSON at line 1, column 1: Expecting value",
    "trailing_comma.json": "not valid JSON at line 9, column 5",
    "list.json": "the document: must be an object, got [{'acts': 11114984, ",
    "wrong_format.json": "format: not a scalecalc baseline (format 'scalecalc-compare'",
    "no_format.json": "format: not a scalecalc baseline (no 'format' key",
    "wrong_version.json": "version: 2 is not supported, this scalecalc reads 1; it was "
    "written by a newer scalecalc",
    "version_string.json": "version: must be the integer 1, got '1'",
    "count_string.json": "entry 'resnet50/base': "
    "flops: must be an integer from 0 to 1e+30, got '4089184256'",
    "count_negative.json": "entry 'resnet50/base': "
    "params: must be an integer from 0 to 1e+30, got -25557032",
    "count_float.json": "entry 'resnet50/base': "
    "acts: must be an integer from 0 to 1e+30, got 11114984.0",
    "count_bool.json": "entry 'resnet50/base': flops: must be an integer from 0 to 1e+30, got True",
    "count_nan.json": "NaN is not a valid number",
    "missing_field.json": "entry 'resnet50/base': acts: missing\n",
    "unknown_measure.json": "entry 'resnet50/base': latency_ms: unknown key; allowed: flops",
    "unknown_top_key.json": "comment: unknown key; allowed: convention, entries",
    "missing_entries.json": "entries: missing\n",
    "entries_list.json": "entries: must be an object, got [{'acts': 11114984, ",
    "entry_not_object.json": "entry 'resnet50/base': must be an object, got 4089184256\n",
    "convention_unknown.json": "convention: must be one of paper, fvcore, got 'timm'\n",
    "unsupported_ops_zero.json": "entry 'resnet50/base': unsupported_ops: 'aten::foo': must be an "
    "integer from 1 to 1e+30, got 0",
    "duplicate_key.json": "duplicate key 'flops' in a JSON object",
    "convention_mismatch.json": "convention: the baseline was counted with the 'fvcore' "
    "convention, this run uses 'paper'; pass --convention fvcore",
    "count_310_digits.json": "entry 'resnet50/base': flops: must be an integer from 0 to 1e+30, "
    "got 1000000000",
    "count_5000_digits.json": "not a usable JSON document (Exceeds the limit (4300 digits)",
    "op_calls_huge.json": "entry 'resnet50/base': unsupported_ops: 'aten::foo': must be an "
    "integer from 1 to 1e+30, got 1000000000",
    "key_lone_surrogate.json": "key 'resnet50/base\\ud800' has a lone surrogate escape",
    "op_lone_surrogate.json": "key 'aten::f\\udfffoo' has a lone surrogate escape",
    "tool_version_lone_surrogate.json": "tool_version: must be a UTF-8 string, got '0.1.0\\ud800'",
}


def invoke(*args: str) -> Result:
    return runner.invoke(app, ["check", *args])


def assert_exit(result: Result, code: int) -> None:
    assert result.exit_code == code, (result.stdout, result.stderr)
    raised = result.exception
    assert raised is None or isinstance(raised, SystemExit), raised


def assert_error(result: Result, expected: str) -> None:
    """Exit 2, nothing on stdout, exactly one `error:` line containing `expected`."""
    assert_exit(result, 2)
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr, result.stderr


def write_config(directory: Path, preset: str, name: str = "net", **overrides: object) -> Path:
    lines = [f"preset: {preset}", f"name: {name}"]
    lines += [f"{key}: {json.dumps(value)}" for key, value in overrides.items()]
    path = directory / f"{name}_{len(overrides)}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_baseline(directory: Path, *sources: str) -> Path:
    path = directory / "costs.json"
    assert_exit(invoke(*sources, "--baseline", str(path), "--update"), 0)
    return path


def json_report(result: Result) -> dict:
    return json.loads(result.stdout)


# Deliberate changes to a preset are caught with the right entry and measure.

CHANGES = {
    "width": ("resnet50", {"widths": [256, 512, 1024, 2560]}, ("flops", "params", "acts")),
    "depth": ("vit_s16", {"num_layers": 13}, ("flops", "params", "acts")),
    "resolution": ("convnext_t", {"resolution": 256}, ("flops", "acts")),
}


@pytest.mark.parametrize("change", CHANGES, ids=str)
def test_a_changed_preset_is_caught(change: str, tmp_path: Path) -> None:
    preset, overrides, measures = CHANGES[change]
    original = write_config(tmp_path, preset)
    changed = write_config(tmp_path, preset, **overrides)
    path = make_baseline(tmp_path, str(original))
    result = invoke(str(changed), "--baseline", str(path), "--format", "json")
    assert_exit(result, 1)
    before, after = count(load(preset).spec), count(load(changed).spec)
    expected = []
    for measure in measures:
        old, new = getattr(before, measure), getattr(after, measure)
        assert old != new
        expected.append(
            {
                "key": "net/base",
                "measure": measure,
                "kind": "changed",
                "baseline": old,
                "current": new,
                "change_percent": pytest.approx(100 * (new - old) / old, abs=1e-6),
            }
        )
    assert json_report(result)["drifts"] == expected
    assert result.stderr == f"check: {len(measures)} drifts in 1 entry\n"


def test_markdown_report_of_a_width_change(tmp_path: Path) -> None:
    path = make_baseline(tmp_path, str(write_config(tmp_path, "resnet50")))
    changed = write_config(tmp_path, "resnet50", widths=[256, 512, 1024, 2560])
    report = tmp_path / "drift.md"
    result = invoke(str(changed), "-b", str(path), "--report", str(report), "-f", "md")
    assert_exit(result, 1)
    before, after = count(load("resnet50").spec), count(load(changed).spec)
    lines = result.stdout.splitlines()
    assert lines[0] == "### scalecalc check: 3 drifts in 1 entry"
    assert lines[-4:-3] == ["| :--- | :--- | ---: | ---: | ---: |"]
    flops_line = lines[-3]
    pct = 100 * (after.flops - before.flops) / before.flops
    assert flops_line == f"| net/base | flops | {before.flops:,} | {after.flops:,} | {pct:+.3g}% |"
    assert lines[-2].startswith(f"| net/base | params | {before.params:,} | {after.params:,} |")
    assert report.read_text(encoding="utf-8") == result.stdout


# Exit codes and tolerance.


def test_unchanged_models_pass(tmp_path: Path) -> None:
    path = make_baseline(tmp_path, "resnet50", "vit_s16")
    result = invoke("vit_s16", "resnet50", "-b", str(path), "-f", "md")
    assert_exit(result, 0)
    assert result.stdout.startswith("### scalecalc check: no drift in 2 entries\n")
    assert result.stderr == "check: no drift in 2 entries\n"


def _edited(path: Path, key: str, measure: str, value: int) -> None:
    data = json.loads(path.read_text())
    data["entries"][key][measure] = value
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("drift", "rtol", "code"),
    [(0.005, "0.01", 0), (0.02, "0.01", 1), (0.005, "0", 1), (0.005, "0.004", 1)],
)
def test_rtol_lets_a_small_flops_drift_pass(
    drift: float, rtol: str, code: int, tmp_path: Path
) -> None:
    path = make_baseline(tmp_path, "resnet50")
    flops = count(load("resnet50").spec).flops
    # A baseline this much lower: the current count is `drift` above it.
    _edited(path, "resnet50/base", "flops", round(flops / (1 + drift)))
    result = invoke("resnet50", "-b", str(path), "--rtol", rtol, "-f", "json")
    assert_exit(result, code)
    drifts = json_report(result)["drifts"]
    if code:
        assert drifts[0]["change_percent"] == pytest.approx(100 * drift, rel=1e-6)


def test_params_stay_exact_whatever_rtol(tmp_path: Path) -> None:
    path = make_baseline(tmp_path, "resnet50")
    _edited(path, "resnet50/base", "params", count(load("resnet50").spec).params - 1)
    result = invoke("resnet50", "-b", str(path), "--rtol", "0.5", "-f", "json")
    assert_exit(result, 1)
    drifts = json_report(result)["drifts"]
    assert [(d["measure"], d["current"] - d["baseline"]) for d in drifts] == [("params", 1)]


def test_missing_and_new_entries_fail(tmp_path: Path) -> None:
    path = make_baseline(tmp_path, "resnet50", "vit_s16")
    result = invoke("resnet50", "convnext_t", "-b", str(path), "-f", "json")
    assert_exit(result, 1)
    assert [(d["key"], d["kind"]) for d in json_report(result)["drifts"]] == [
        ("convnext_t/base", "new"),
        ("vit_s16/base", "missing"),
    ]


def test_a_newly_unsupported_op_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_baseline(tmp_path, "resnet50")
    real = count(load("resnet50").spec)
    same = Costs(real.flops, real.params, real.acts, real.stages, (("aten::roll", 4),))
    monkeypatch.setattr(scalecalc.api, "count", lambda spec, convention="paper": same)
    result = invoke("resnet50", "-b", str(path), "-f", "json")
    assert_exit(result, 1)
    assert json_report(result)["drifts"] == [
        {
            "key": "resnet50/base",
            "measure": "aten::roll",
            "kind": "unsupported",
            "baseline": 0,
            "current": 4,
            "change_percent": None,
        }
    ]


def test_sweep_files_configs_and_presets_combine_without_repeats(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("bases: [resnet50]\nstrategies: [w]\nfactors: [2]\n")
    path = make_baseline(tmp_path, str(sweep), "resnet50", "--presets")
    keys = set(json.loads(path.read_text())["entries"])
    from scalecalc.registry import list_presets

    assert keys == {"resnet50/w/x2"} | {f"{name}/base" for name in list_presets()}
    assert_exit(invoke(str(sweep), "--presets", "-b", str(path)), 0)


def test_one_key_for_two_models_is_an_error(tmp_path: Path) -> None:
    other = write_config(tmp_path, "resnet50", name="resnet50", depths=[3, 4, 7, 3])
    result = invoke("resnet50", str(other), "-b", str(tmp_path / "b.json"), "--update")
    assert_error(result, "entry 'resnet50/base' is also defined, differently, by resnet50")
    assert not (tmp_path / "b.json").exists()


def test_tool_version_difference_is_only_a_note(tmp_path: Path) -> None:
    path = make_baseline(tmp_path, "resnet50")
    data = json.loads(path.read_text())
    data["tool_version"] = "0.0.1"
    path.write_text(json.dumps(data))
    result = invoke("resnet50", "-b", str(path))
    assert_exit(result, 0)
    assert "baseline was written by scalecalc 0.0.1" in result.stderr


def test_convention_option_matches_an_fvcore_baseline(tmp_path: Path) -> None:
    path = tmp_path / "costs.json"
    assert_exit(invoke("resnet50", "-b", str(path), "--convention", "fvcore", "--update"), 0)
    assert (
        json.loads(path.read_text())["entries"]["resnet50/base"]["flops"]
        == count(load("resnet50").spec, "fvcore").flops
    )
    assert_exit(invoke("resnet50", "-b", str(path), "--convention", "fvcore"), 0)
    assert_error(invoke("resnet50", "-b", str(path)), "pass --convention fvcore")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["resnet50"], "--baseline: required"),
        (["resnet50", "-b", "nowhere.json"], "nowhere.json: no such file; create it with --update"),
        (["resnet50", "-b", "x.json", "--rtol", "-1"], "--rtol: must be a finite number >= 0"),
        (["resnet50", "-b", "x.json", "--rtol", "nan"], "--rtol: must be a finite number >= 0"),
        (["resnet50", "-b", "x.json", "-f", "csv"], "'csv' is not one of 'table', 'md', 'json'"),
        (["resnet50", "-b", "x.json", "--convention", "timm"], "'--convention': 'timm' is not"),
        (["resnet5O", "-b", "x.json", "--update"], "unknown preset 'resnet5O'"),
        (["resnet50", "-b", "no/dir/x.json", "--update"], "directory no/dir does not exist"),
    ],
)
def test_bad_input_is_exit_2(
    args: list[str], expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert_error(invoke(*args), expected)
    assert list(tmp_path.iterdir()) == []


# The corpus of bad baselines: exit 2, one error line naming the file, no report, no rewrite.


def test_every_corpus_file_has_an_expected_message() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.json")) == sorted(BAD_BASELINES)
    assert len(BAD_BASELINES) >= 8


@pytest.mark.parametrize("name", sorted(BAD_BASELINES))
def test_bad_baseline(name: str, tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    result = invoke("resnet50", "-b", str(CORPUS / name), "--report", str(report))
    assert_error(result, f"error: {CORPUS / name}: {BAD_BASELINES[name]}")
    assert not report.exists()


@pytest.mark.parametrize("name", ["truncated.json", "count_string.json", "wrong_version.json"])
def test_update_refuses_to_overwrite_a_file_it_cannot_read(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes((CORPUS / name).read_bytes())
    result = invoke("resnet50", "-b", str(path), "--update")
    assert_error(result, "; delete it to write a new one")
    assert path.read_bytes() == (CORPUS / name).read_bytes()


# --update: creates, rewrites, reports what changed, and never leaves a half-written file.


def test_update_creates_a_baseline_that_then_passes(tmp_path: Path) -> None:
    path = tmp_path / "costs.json"
    result = invoke("resnet50", "-b", str(path), "--update", "-f", "json")
    assert_exit(result, 0)
    drifts = json_report(result)["drifts"]
    assert [(d["key"], d["kind"]) for d in drifts] == [("resnet50/base", "new")]
    assert result.stderr == f"check: 1 change in 1 entry; wrote {path}\n"
    data = json.loads(path.read_text())
    import scalecalc

    assert data["format"] == "scalecalc-baseline" and data["version"] == 1
    assert (data["convention"], data["tool_version"]) == ("paper", scalecalc.__version__)
    expected = count(load("resnet50").spec)
    assert data["entries"] == {
        "resnet50/base": {
            "flops": expected.flops,
            "params": expected.params,
            "acts": expected.acts,
            "unsupported_ops": {},
        }
    }
    assert_exit(invoke("resnet50", "-b", str(path)), 0)


def test_update_reports_the_change_and_rewrites(tmp_path: Path) -> None:
    path = make_baseline(tmp_path, str(write_config(tmp_path, "resnet50")))
    changed = write_config(tmp_path, "resnet50", depths=[3, 4, 7, 3])
    result = invoke(str(changed), "-b", str(path), "--update", "--rtol", "0.5", "-f", "json")
    assert_exit(result, 0)
    # Update reports every change, whatever --rtol says.
    assert [d["measure"] for d in json_report(result)["drifts"]] == ["flops", "params", "acts"]
    entry = json.loads(path.read_text())["entries"]["net/base"]
    assert entry["flops"] == count(load(changed).spec).flops
    assert_exit(invoke(str(changed), "-b", str(path)), 0)


@pytest.fixture
def old_baseline(tmp_path: Path) -> tuple[Path, bytes]:
    path = make_baseline(tmp_path, "resnet50", "vit_s16")
    return path, path.read_bytes()


def assert_untouched(path: Path, content: bytes) -> None:
    assert path.read_bytes() == content
    assert sorted(p.name for p in path.parent.iterdir()) == ["costs.json"]


def test_interrupted_while_counting(
    old_baseline: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, content = old_baseline
    real, calls = scalecalc.api.count, []

    def counter(spec: object, convention: str = "paper") -> Costs:
        calls.append(spec)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(spec, convention)  # type: ignore[arg-type]

    monkeypatch.setattr(scalecalc.api, "count", counter)
    result = invoke("resnet50", "vit_s16", "convnext_t", "-b", str(path), "--update")
    assert_exit(result, 130)
    assert result.stdout == ""
    assert_untouched(path, content)


@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError(28, "No space left on device")])
def test_interrupted_while_writing(
    error: BaseException, old_baseline: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, content = old_baseline

    def half_written(fd: int) -> None:
        # By now the temporary file holds the new text; the rename has not happened.
        assert any(p.name.endswith(".tmp") for p in path.parent.iterdir())
        raise error

    monkeypatch.setattr(os, "fsync", half_written)
    result = invoke("convnext_t", "-b", str(path), "--update")
    assert_exit(result, 130 if error is KeyboardInterrupt else 2)
    assert result.stdout == ""
    if error is not KeyboardInterrupt:
        assert "costs.json: cannot write (No space left on device)" in result.stderr
    assert_untouched(path, content)
