"""What keeps `scalecalc compare` quick to start: built-in presets load without numpy, and
commands that read no YAML file never import yaml (the written-out stage forms equal what
numpy computes); and the start-up benchmark's rows and options."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_benchmarks import module, script
from test_import_boundary import run_fresh

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


@pytest.mark.slow
@pytest.mark.parametrize(
    "args", [["compare", "-f", "md"], ["count", "regnety_4gf", "-f", "md"]], ids=" ".join
)
def test_preset_commands_import_neither_numpy_nor_yaml(args: list[str], tmp_path: Path) -> None:
    code, loaded, stdout = run_fresh(args, tmp_path, watched=("numpy", "yaml"))
    assert code in (0, None) and loaded == [] and stdout


def test_startup_benchmark_measures_compare_with_predicted_memory() -> None:
    chosen = module("startup").commands(["--memory", "--max-batch"])  # type: ignore[attr-defined]
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
        (["--against", "nowhere"], "error: --against: nowhere holds no scalecalc/__init__.py\n"),
    ],
)
def test_startup_benchmark_refuses_bad_options_in_one_line(args: list[str], message: str) -> None:
    done = script("startup", *args)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", message)
