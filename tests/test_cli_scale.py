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


def test_scale_refuses_an_unreachable_target(tmp_path: Path) -> None:
    # w tops out at 8.54 T flops on ResNet-50 and bottoms out at 0.121 G: a target beyond
    # either by more than 5% is refused, one line naming the model, strategy and target.
    cases = [
        (["--target-flops", "1e18"], "target of 1e+18 flops: the largest model"),
        (["--target-flops", "1K"], "target of 1000 flops: the smallest model"),
        (["--target-factor", "1e-9"], "target of 4 flops: the smallest model"),
    ]
    out = tmp_path / "scaled.yaml"
    for goal, expected in cases:
        result = runner.invoke(app, ["scale", "resnet50", "-s", "w", *goal, "-o", str(out)])
        assert (result.exit_code, result.stdout) == (2, ""), result.output
        assert result.stderr.startswith("error: resnet50: strategy 'w' cannot reach the ")
        assert expected in result.stderr and result.stderr.count("\n") == 1
        assert not out.exists()
    # Down-scaling within reach is answered: a model within 5% of half the flops.
    result = runner.invoke(app, ["scale", "resnet50", "-s", "w", "--target-factor", "0.5"])
    assert result.exit_code == 0, result.output
    half = count(load("resnet50").spec).flops / 2
    out.write_text(result.stdout)
    realized = count(load(out).spec).flops
    assert abs(realized / half - 1) <= 0.05
    assert f"(0.500x); realized {realized / 1e9:.3f} G" in result.stderr
