"""The command line's manners: version, shell completion, help without Python types and with
whole summaries, a suggestion for a mistyped preset, the profile listing."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import scalecalc
from scalecalc.cli import app

REPO = Path(__file__).resolve().parent.parent
PROFILES = REPO / "scalecalc" / "profile" / "builtin"
runner = CliRunner()
# How typer writes a parameter's Python type in help: <list[str]>, <int range>, <str>, <path>.
PYTHON_TYPE = re.compile(r"<(list\[|str>|int>|int range>|float>|float range>|path>|bool>|text>)")


def scalecalc_process(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), **kwargs.pop("env", {})}
    if "stdout" not in kwargs:
        kwargs.setdefault("capture_output", True)
    return subprocess.run(
        [sys.executable, "-m", "scalecalc", *args], text=True, env=env, timeout=120, **kwargs
    )


@pytest.mark.parametrize("option", ["-V", "--version"])
def test_version(option: str) -> None:
    result = runner.invoke(app, [option])
    assert result.exit_code == 0 and result.stdout == f"scalecalc {scalecalc.__version__}\n"


def test_version_on_a_full_or_closed_stdout_is_one_error_line() -> None:
    with open("/dev/full", "w") as full:
        result = scalecalc_process("--version", stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == 2
    assert result.stderr == (
        "error: stdout: cannot write (No space left on device); nothing was written\n"
    )
    closed = subprocess.run(
        ["sh", "-c", 'exec "$0" -m scalecalc -V >&-', sys.executable],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert (closed.returncode, closed.stderr) == (
        2,
        "error: stdout: is closed; nothing was written\n",
    )


def test_version_into_a_broken_pipe_exits_like_sigpipe() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "scalecalc", "--version"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 128 + signal.SIGPIPE
    assert stderr.startswith("error: stdout: broken pipe") and stderr.count("\n") == 1


def test_shell_completion_is_offered_and_completes_commands_and_options() -> None:
    assert {"--install-completion", "--show-completion"} <= set(
        runner.invoke(app, ["--help"]).stdout.split()
    )
    env = {"_SCALECALC_COMPLETE": "complete_bash", "COMP_WORDS": "scalecalc com", "COMP_CWORD": "1"}
    assert scalecalc_process(env=env).stdout.split() == ["compare"]
    env |= {"COMP_WORDS": "scalecalc compare --target-f", "COMP_CWORD": "2"}
    assert scalecalc_process(env=env).stdout.split() == ["--target-flops", "--target-factor"]


def commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command's path under the app: ("count",), ("profile", "fit"), ..."""
    for name, command in group.commands.items():
        yield (*path, name)
        if hasattr(command, "commands"):
            yield from commands(command, (*path, name))


@pytest.mark.parametrize("columns", ["60", "100"])
def test_help_names_no_python_type(columns: str) -> None:
    paths = [(), *commands(typer.main.get_command(app))]
    assert ("profile", "show") in paths and len(paths) >= 11
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": columns})
        assert result.exit_code == 0, (path, result.output)
        assert not PYTHON_TYPE.search(result.stdout), (path, result.stdout)
    count_help = runner.invoke(app, ["count", "--help"]).stdout
    assert "CONFIG  Preset names or YAML files." in count_help
    assert "--batch-size N " in runner.invoke(app, ["compare", "--help"]).stdout


@pytest.mark.parametrize("columns", ["50", "80"])
def test_command_summaries_are_whole_at_any_width(columns: str) -> None:
    text = runner.invoke(app, ["--help"], env={"COLUMNS": columns}).stdout
    listing = " ".join(text.split("Commands:")[1].split())
    assert "..." not in listing and "…" not in listing
    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        first = " ".join(command.help.split("\n\n")[0].split())
        sentence = first[: first.index(". ") + 1] if ". " in first else first
        assert f"{name} {sentence}" in listing, (name, listing)


@pytest.mark.parametrize(
    ("typo", "suggested"),
    [("resnet5", "resnet50"), ("regnety4gf", "regnety_4gf"), ("vit_b_16", "vit_b16")],
)
def test_a_mistyped_preset_gets_a_suggestion(typo: str, suggested: str) -> None:
    result = runner.invoke(app, ["count", typo])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: unknown preset '{typo}' (did you mean {suggested}")
    assert result.stderr.rstrip().endswith("(or a path ending in .yaml)")


def test_a_name_like_no_preset_gets_no_suggestion() -> None:
    result = runner.invoke(app, ["count", "zzz"])
    assert result.stderr.startswith("error: unknown preset 'zzz'; allowed: convnext_b")


def test_profile_show_lists_each_profile_with_device_setting_and_error() -> None:
    result = runner.invoke(app, ["profile", "show"])
    assert result.exit_code == 0, result.output
    rows = {
        cells[0]: cells
        for line in result.stdout.splitlines()[4:]
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    files = sorted(PROFILES.glob("*.json"))
    assert sorted(rows) == sorted(path.stem for path in files) and len(files) >= 6
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        setting, validation = data["setting"], data["validation"]
        batch = setting["batch_size"] or "varies"
        assert rows[path.stem] == [
            path.stem,
            data["device"],
            ("a training step" if setting["mode"] == "train" else "inference")
            + f", {setting['dtype']}{' AMP' if setting['amp'] else ''}, batch {batch}",
            data["convention"],
            validation["method"],
            f"{validation['median_abs_pct_error']:.1f}%",
            f"{validation['spearman']:.3f}",
        ]
