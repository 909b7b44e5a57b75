"""Terminal tables in a real pseudo-terminal of 80 columns: every number whole, every header
shown, whatever TERM says."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from terminals import REPO, run_in_terminal

COMPARE = ["compare", "regnety_4gf", "--target-factor", "4", "-s", "dWr,dwr,w"]


def expected_cells() -> list[list[str]]:
    """Each model's numbers as the table prints them, from the JSON output's raw integers."""
    result = subprocess.run(
        [sys.executable, "-m", "scalecalc", *COMPARE, "--format", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=True,
    )
    rows = json.loads(result.stdout)["rows"]
    base = next(row for row in rows if row["key"].endswith("/base"))
    return [
        [f"{row['flops'] / 1e9:.3f}", f"{row['params'] / 1e6:.3f}", f"{row['acts'] / 1e6:.3f}"]
        + [f"{row[m] / base[m]:.2f}" for m in ("flops", "params", "acts")]
        for row in rows
    ]


@pytest.mark.parametrize("term", ["xterm-256color", "dumb"])
def test_an_80_column_terminal_shows_every_number_and_header(term: str) -> None:
    text = run_in_terminal(COMPARE, 80, term)
    lines = [line.rstrip() for line in text.splitlines()]
    assert max(map(len, lines)) <= 80, text
    assert "…" not in text
    header = next(i for i, line in enumerate(lines) if "(px)" in line)
    assert lines[header].split()[-6:] == ["(G)", "×", "(M)", "×", "(M)", "×"], text
    tokens = [set(line.split()) for line in lines[header + 1 :]]
    for cells in expected_cells():  # dWr's acts × is 2.17, dwr's 3.23: both once cut to 3 places
        assert any(set(cells) <= line for line in tokens), (cells, text)


def test_a_table_too_wide_for_the_terminal_grows_rather_than_cut() -> None:
    """At 40 columns the numbers alone need more: lines pass 40, every number stays whole."""
    text = run_in_terminal(COMPARE, 40, "xterm")
    tokens = set(text.split())
    assert max(map(len, text.splitlines())) > 40
    assert {cell for cells in expected_cells() for cell in cells} <= tokens
