"""An op the counters have no rule for is reported, end to end, never counted silently as zero.

The model is real: a network whose classifier output goes through `cumsum`, an ATen op that
neither the meta counter's table nor fvcore's has. Only the model changes; the counters, the
`count` command and the compare reports run unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from scalecalc.compare import run as compare
from scalecalc.compare import report as compare_report
from scalecalc.api import count, load
from scalecalc.cli import app
from scalecalc.nn.blocks import PoolLinearHead
from scalecalc.sweep import Sweep, expand

runner = CliRunner()
CONFIG = "family: regnet\ndepths: [1, 1]\nwidths: [16, 32]\ngroup_widths: [8, 8]\nresolution: 32\n"


@pytest.fixture
def cumsum_head(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every pooled classifier head ends in a cumulative sum over the classes."""
    forward = PoolLinearHead.forward

    def with_cumsum(self: PoolLinearHead, x: torch.Tensor) -> torch.Tensor:
        return forward(self, x).cumsum(1)

    monkeypatch.setattr(PoolLinearHead, "forward", with_cumsum)


@pytest.mark.parametrize("counter", ["meta", "fvcore"])
def test_count_reports_the_op_on_stderr_and_in_json(
    cumsum_head: None, counter: str, tmp_path: Path
) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(CONFIG)
    result = runner.invoke(app, ["count", str(config), "--counter", counter, "-f", "json"])
    assert result.exit_code == 0, result.output
    [record] = json.loads(result.stdout)
    assert record["unsupported_ops"] == {"aten::cumsum": 1}
    assert "tiny: unsupported op aten::cumsum (1 calls) counted as zero" in result.stderr
    # the counted part is still exact: the cumulative sum adds nothing the analytic count has
    analytic = count(load(config).spec)
    assert (record["flops"], record["params"], record["acts"]) == (
        analytic.flops,
        analytic.params,
        analytic.acts,
    )


def test_compare_reports_the_op_in_json_and_on_stderr(cumsum_head: None, tmp_path: Path) -> None:
    config = tmp_path / "tiny.yaml"
    config.write_text(CONFIG)
    entries = expand(Sweep(bases=(str(config),), strategies=("w",), factors=(2.0,)))
    rows = compare.run(entries, counter=lambda spec, convention: count(spec, convention, "meta"))
    document = json.loads(compare_report.to_json(rows, compare.exponents(rows), "paper"))
    assert [row["unsupported_ops"] for row in document["rows"]] == [{"aten::cumsum": 1}] * 2
    assert compare.unsupported_warnings(rows) == [
        "unsupported op aten::cumsum counted as zero in 2 models (e.g. tiny/base)"
    ]
