"""Same input, same bytes: across runs and hash seeds. Ctrl-C leaves nothing behind."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalecalc import registry
from scalecalc.cli import app

SWEEP = ["compare", "regnetx_400mf", "vit_s16", "-s", "w,dWr", "--factors", "2,4"]


def run_cli(args: list[str], hash_seed: str) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-m", "scalecalc", *args], env=env, capture_output=True, check=True
    )
    return done.stdout


@pytest.mark.parametrize("fmt", ["json", "csv", "md"])
def test_outputs_are_byte_identical_across_hash_seeds(fmt: str) -> None:
    first = run_cli([*SWEEP, "--format", fmt], "0")
    assert first.strip()
    assert run_cli([*SWEEP, "--format", fmt], "4242") == first


def test_count_json_is_byte_identical_across_hash_seeds() -> None:
    args = ["count", "resnet50", "vit_b16", "--format", "json"]
    assert run_cli(args, "1") == run_cli(args, "2")


def test_ctrl_c_during_a_sweep_exits_130_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    family = registry.FAMILIES["regnet"]
    calls = []

    def interrupted(spec, convention):  # noqa: ANN001, ANN202
        calls.append(spec)
        if len(calls) > 3:
            raise KeyboardInterrupt
        return family.complexity(spec, convention)

    monkeypatch.setitem(
        registry.FAMILIES, "regnet", dataclasses.replace(family, complexity=interrupted)
    )
    out = tmp_path / "table.md"
    result = CliRunner().invoke(app, [*SWEEP, "--output", str(out)])
    assert result.exit_code == 130, result.output
    assert result.stderr == "error: interrupted; nothing was written\n"
    assert result.stdout == "" and list(tmp_path.iterdir()) == []
    assert len(calls) == 4
