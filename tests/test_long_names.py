"""Output files whose names are as long as a folder takes: written whole, with no temporary
file left; a name longer than the folder takes is refused before any work."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

import scalecalc.compare.run
from scalecalc.cli import app

runner = CliRunner()
TINY = str(Path(__file__).parent / "data" / "bench_tiny.yaml")


def longest_name(folder: Path, suffix: str) -> str:
    """A file name of exactly the most bytes `folder` takes (255 on common file systems)."""
    limit = os.pathconf(folder, "PC_NAME_MAX")
    return "n" * (limit - len(suffix)) + suffix


def test_compare_writes_an_output_whose_name_is_the_longest_allowed(tmp_path: Path) -> None:
    name = longest_name(tmp_path, ".json")
    args = ["compare", TINY, "-s", "w", "--factors", "2", "-f", "json", "-o", str(tmp_path / name)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert os.listdir(tmp_path) == [name]
    rows = json.loads((tmp_path / name).read_text())["rows"]
    assert [row["factor"] for row in rows] == [1.0, 2.0]


def test_check_update_writes_a_baseline_whose_name_is_the_longest_allowed(tmp_path: Path) -> None:
    name = longest_name(tmp_path, ".json")
    result = runner.invoke(app, ["check", TINY, "-b", str(tmp_path / name), "--update"])
    assert result.exit_code == 0, result.output
    assert os.listdir(tmp_path) == [name]
    again = runner.invoke(app, ["check", TINY, "-b", str(tmp_path / name)])
    assert again.exit_code == 0, again.output


def test_a_name_longer_than_the_folder_takes_is_refused_before_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file system whose names are at most 100 bytes (eCryptfs takes 143): the name fits a
    # path lookup, so only the folder's own limit tells that it cannot be created.
    real = os.pathconf
    monkeypatch.setattr(
        os, "pathconf", lambda path, name: 100 if name == "PC_NAME_MAX" else real(path, name)
    )

    def never(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the sweep ran")

    monkeypatch.setattr(scalecalc.compare.run, "run", never)
    output = tmp_path / ("n" * 120 + ".md")
    for args in (
        ["compare", TINY, "-s", "w", "--factors", "2", "-o", str(output)],
        ["check", TINY, "-b", str(output), "--update"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert result.stderr.endswith(": the name is 123 bytes; this folder takes at most 100\n")
        assert result.stderr.count("\n") == 1 and os.listdir(tmp_path) == []
