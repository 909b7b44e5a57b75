"""ResNet configs name their block: basic and bottleneck blocks differ about 7x in cost at one
set of widths, so a config without a preset must say which it means."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scalecalc.api import count
from scalecalc.cli import app
from scalecalc.config import load
from scalecalc.errors import ConfigError

runner = CliRunner()
RESNET18 = Path(__file__).parent / "data" / "resnet18.yaml"
WIDTHS = "widths: [64, 128, 256, 512]\n"
STAGES = "depths: [2, 2, 2, 2]\n" + WIDTHS


def test_resnet18_from_yaml_has_torchvisions_published_counts() -> None:
    # torchvision's resnet18 weights: 11,689,512 params, 1.814 GFLOPS (multiply-adds).
    costs = count(load(RESNET18).spec)
    assert costs.params == 11_689_512
    assert round(costs.flops / 1e9, 3) == 1.814


def test_resnet34_from_yaml_has_torchvisions_published_counts(tmp_path: Path) -> None:
    # torchvision's resnet34 weights: 21,797,672 params, 3.664 GFLOPS.
    path = tmp_path / "r34.yaml"
    path.write_text("family: resnet\nblock: basic\ndepths: [3, 4, 6, 3]\n" + WIDTHS)
    costs = count(load(path).spec)
    assert (costs.params, round(costs.flops / 1e9, 3)) == (21_797_672, 3.664)


def test_a_resnet_without_a_block_is_refused_naming_file_key_and_choices(tmp_path: Path) -> None:
    path = tmp_path / "r18.yaml"
    path.write_text("family: resnet\n" + STAGES)
    expected = (
        f"{path}: block: is required for family resnet without a preset; allowed: bottleneck, basic"
    )
    with pytest.raises(ConfigError) as error:
        load(path)
    assert str(error.value) == expected
    result = runner.invoke(app, ["count", str(path)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"error: {expected}\n"


def test_a_preset_keeps_its_block_and_overrides_need_none(tmp_path: Path) -> None:
    path = tmp_path / "r50.yaml"
    path.write_text("preset: resnet50\nresolution: 160\n")
    assert load(path).spec.block == "bottleneck"
    assert load("resnet50").spec.block == "bottleneck"


def test_show_writes_the_block_and_basic_blocks_have_no_group_widths() -> None:
    result = runner.invoke(app, ["show", str(RESNET18)])
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.stdout)
    assert shown["block"] == "basic"
    assert "group_widths" not in shown and "bottleneck_ratio" not in shown
    reloaded = runner.invoke(app, ["count", "-", "-f", "json"], input=result.stdout)
    assert '"params": 11689512' in reloaded.stdout


def test_basic_block_tables_do_not_repeat_widths_as_group_widths() -> None:
    result = runner.invoke(app, ["compare", str(RESNET18), "-s", "w", "--factors", "2", "-f", "md"])
    assert result.exit_code == 0, result.output
    assert "group widths" not in result.stdout
    assert "| w | 2 | 224 | 2-2-2-2 | 88-184-360-728 |" in result.stdout


def test_bottleneck_resnets_still_show_their_group_widths(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("preset: resnext50_32x4d\n")
    result = runner.invoke(app, ["compare", str(path), "-s", "dWr", "--factors", "4", "-f", "md"])
    assert "| group widths |" in result.stdout and "| 4-8-16-32 |" in result.stdout
