"""The paper's experiment (configs/sweeps/paper.yaml): its ordering of strategies by activations."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import CONFIGS
from typer.testing import CliRunner

from scalecalc.cli import app

# The paper's predicted acts exponents for a plain network (acts ~ flops^k, section 3).
PREDICTED = {"w": 0.5, "dw": 0.75, "dwr": 5 / 6, "dWr": 0.6}
BASES = ("efficientnet_b0", "regnety_400mf")


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    plot = tmp_path_factory.mktemp("paper") / "paper.png"
    args = ["compare", "--sweep", str(CONFIGS / "sweeps" / "paper.yaml"), "-f", "json"]
    result = CliRunner().invoke(app, [*args, "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), plot


def acts_at(rows: list[dict], base: str, strategy: str, flops_ratio: float) -> float:
    """Acts of `strategy` on `base` at `flops_ratio` x the base's flops (log-log interpolation)."""
    points = sorted(
        (math.log(r["ratios"]["flops"]), math.log(r["acts"]))
        for r in rows
        if r["base"] == base and r["strategy"] in (strategy, None)
    )
    xs, ys = zip(*points)
    return math.exp(np.interp(math.log(flops_ratio), xs, ys))


@pytest.mark.parametrize("base", BASES)
def test_at_equal_flops_dwr_has_far_more_acts_than_dwr_fast(output: tuple, base: str) -> None:
    rows = output[0]["rows"]
    acts = {s: acts_at(rows, base, s, 8.0) for s in PREDICTED}
    assert acts["w"] < acts["dWr"] < acts["dw"] < acts["dwr"]
    assert acts["dWr"] < 0.7 * acts["dwr"]  # far below compound scaling
    assert acts["dWr"] < 1.2 * acts["w"]  # close to width-only scaling


@pytest.mark.parametrize("base", BASES)
def test_fitted_acts_exponents_near_the_papers(output: tuple, base: str) -> None:
    fitted = {e["strategy"]: e for e in output[0]["exponents"] if e["base"] == base}
    assert set(fitted) == set(PREDICTED)
    for strategy, k in PREDICTED.items():
        assert fitted[strategy]["predicted_acts"] == pytest.approx(k, abs=5e-3)
        # Rounding widths to multiples of 8 and depths to whole blocks bends the lines a little.
        assert abs(fitted[strategy]["acts"] - k) < 0.09, (strategy, fitted[strategy]["acts"])
    order = sorted(PREDICTED, key=lambda s: fitted[s]["acts"])
    assert order == ["w", "dWr", "dw", "dwr"]


def test_plot_is_written(output: tuple) -> None:
    assert output[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
