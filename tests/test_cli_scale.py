"""`scalecalc scale`: YAML out, factors on stderr, round trip through count and scale."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from scalecalc.api import count, load, scale
from scalecalc.cli import app

runner = CliRunner()


def test_scale_prints_yaml_that_loads_back(tmp_path: Path) -> None:
    result = runner.invoke(app, ["scale", "regnety_4gf", "--strategy", "dWr", "--factor", "4"])
    assert result.exit_code == 0, result.output
    fields = yaml.safe_load(result.stdout)
    assert (fields["resolution"], fields["depths"], fields["widths"]) == (
        240,
        [2, 7, 14, 2],
        [224, 336, 896, 1904],
    )
    assert "target flops 15.893 G (4.000x); realized 15.608 G (3.928x, -1.8%)" in result.stderr
    path = tmp_path / "scaled.yaml"
    path.write_text(result.stdout)
    again = load(path)
    assert again.spec == scale(load("regnety_4gf").spec, "dWr", 4)
    counted = runner.invoke(app, ["count", str(path), "-f", "json"])
    assert '"flops": %d' % count(again.spec).flops in counted.stdout
    rescaled = runner.invoke(app, ["scale", str(path), "-s", "d", "--factor", "2"])
    assert rescaled.exit_code == 0, rescaled.output
    assert yaml.safe_load(rescaled.stdout)["depths"] == [4, 14, 28, 4]


def test_scale_to_target_flops() -> None:
    result = runner.invoke(app, ["scale", "vit_b16", "-s", "d", "--target-factor", "2"])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["num_layers"] == 24
    assert "(2.000x); realized" in result.stderr


def test_scale_errors_are_one_line() -> None:
    cases = [
        (["scale", "resnet50", "-s", "q", "--factor", "2"], "strategy 'q' is not understood"),
        (["scale", "resnet50", "-s", "w", "--factor", "-2"], "factor -2.0 must be a finite"),
        (["scale", "resnet50", "-s", "w"], "give exactly one of --factor"),
        (["scale", "resnet50", "-s", "w", "--target-flops", "lots"], "--target-flops: expected"),
        (["scale", "resnet50", "-s", "w", "--factor", "1e9"], "must be between"),
    ]
    for args, expected in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert expected in result.stderr and result.stderr.count("\n") == 1, result.stderr
        assert result.stdout == ""
