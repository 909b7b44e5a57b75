"""What keeps `scalecalc compare` quick to start: built-in presets load without numpy, and
commands that read no YAML file never import yaml; the shortcuts give what the long way gives."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from scalecalc.families import regnet


def _paper_key(fields: dict) -> tuple:
    return tuple(fields[key] for key in regnet.PAPER_KEYS)


def test_every_regnet_preset_has_its_stage_form_written_out() -> None:
    assert sorted(map(_paper_key, regnet.PRESETS.values())) == sorted(regnet.PRESET_STAGES)


@pytest.mark.parametrize("name", sorted(regnet.PRESETS))
def test_written_stage_form_is_what_numpy_computes(name: str) -> None:
    key = _paper_key(regnet.PRESETS[name])
    computed = regnet.compute_stages(*key)
    assert regnet.stages_from_paper(*key) == computed
    assert tuple(computed.values()) == regnet.PRESET_STAGES[key]


def test_other_paper_parameters_are_computed() -> None:
    # A preset's parameters with a bottleneck ratio of 2 are no preset: computed, and the widths
    # snap differently (the bottleneck, twice the width, must hold whole groups).
    key = _paper_key(regnet.PRESETS["regnetx_400mf"])
    assert regnet.stages_from_paper(*key, 2.0) == regnet.compute_stages(*key, 2.0)
    assert regnet.stages_from_paper(*key, 2.0) != regnet.stages_from_paper(*key)


# Runs the console entry point in a fresh interpreter and reports on stderr's last line which
# of the modules the default sweep does not need it loaded.
PROBE = """
import json, sys
from scalecalc.cli import main
sys.argv = ["scalecalc", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "loaded": [m for m in ("numpy", "yaml") if m in sys.modules]}),
      file=sys.stderr)
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "args", [["compare", "-f", "md"], ["count", "regnety_4gf", "-f", "md"]], ids=" ".join
)
def test_preset_commands_import_neither_numpy_nor_yaml(args: list[str], tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None) and report["loaded"] == [], done.stderr
    assert done.stdout


def _startup_script() -> object:
    spec = importlib.util.spec_from_file_location("startup", REPO / "benchmarks" / "startup.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def test_startup_benchmark_measures_compare_with_predicted_memory() -> None:
    chosen = _startup_script().commands(["--memory", "--max-batch"])  # type: ignore[attr-defined]
    assert chosen == [
        ("scalecalc compare --memory -f md", ["compare", "--memory", "-f", "md"]),
        (
            "scalecalc compare --max-batch 24GiB -f md",
            ["compare", "--max-batch", "24GiB", "-f", "md"],
        ),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--only", "nosuch"], "error: --only: no command's label contains nosuch\n"),
        (["--repeat", "0"], "error: --repeat: must be at least 1, got 0\n"),
    ],
)
def test_startup_benchmark_refuses_bad_options_in_one_line(args: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "startup.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout, done.stderr) == (2, "", message)
