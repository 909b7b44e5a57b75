"""Input values at the edges: numbers beyond a float, text no output can write, standard input."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
from typer.testing import CliRunner

from scalecalc.cli import app
from scalecalc.config import spec_from_fields
from scalecalc.errors import ScalecalcError, StrategyError
from scalecalc.inputs import is_finite_number, is_text
from scalecalc.registry import FAMILIES
from scalecalc.scaling import parse_strategy, parse_strategy_list
from scalecalc.sweep import first_duplicate
from scalecalc.sweep_file import make_sweep
from scalecalc.units import parse_count

runner = CliRunner()
HUGE = 10**400  # no float holds it


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("value", [HUGE, -HUGE, math.inf, -math.inf, math.nan, [HUGE] * 4])
def test_every_field_refuses_unusable_numbers_as_one_error(family: str, value: object) -> None:
    # Through the API, where no YAML length limit applies: every field and alias of the family.
    owner = FAMILIES[family]
    preset = next(iter(owner.presets.values()))
    keys = {f.name for f in dataclasses.fields(owner.spec_type)} | set(owner.alias_keys)
    for key in sorted(keys):
        with pytest.raises(ScalecalcError, match=rf"^x: {key}: |^x: \w+: "):
            spec_from_fields(owner, {**preset, key: value}, "x")


def test_a_float_field_given_a_huge_int_is_a_type_error_naming_the_key() -> None:
    owner = FAMILIES["resnet"]
    fields = {"depths": [1], "widths": [256], "bottleneck_ratio": HUGE}
    with pytest.raises(
        ScalecalcError, match="^x: bottleneck_ratio: must be a finite number, got 1"
    ):
        spec_from_fields(owner, fields, "x")


def test_is_finite_number_and_is_text() -> None:
    assert is_finite_number(2**1023) and not is_finite_number(2**1024)
    assert not any(map(is_finite_number, [True, math.nan, math.inf, "1", None]))
    assert is_text("naïve ×") and not is_text("x\ud800") and not is_text(b"x")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("16G", 16 * 10**9), ("1e6", 10**6), ("2.5M", 2_500_000), ("0.5K", 500), (16e9, 16 * 10**9)],
)
def test_parse_count(text: object, expected: int) -> None:
    assert parse_count(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("16", "'16' has no unit and is below 1M; write the unit, one of K (1e3), M (1e6)"),
        (999_999, "999999 has no unit and is below 1M"),
        (HUGE, "must be between 1 and 1e18"),
        ("1" + "0" * 5000, "must be between 1 and 1e18"),
        (math.nan, "must be between 1 and 1e18, got nan"),
        ("1e19", "must be between 1 and 1e18"),
    ],
)
def test_parse_count_refuses(text: object, message: str) -> None:
    with pytest.raises(ScalecalcError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_count(text, "--target-flops")


def test_strategy_lists() -> None:
    assert parse_strategy_list(["w,dwr", " dWr "]) == ["w", "dwr", "dWr"]
    for values in ([""], [","], ["w,"], ["w", " "], []):
        with pytest.raises(StrategyError, match="has an empty strategy"):
            parse_strategy_list(values, "--strategies")


def test_strategy_weights_are_bounded() -> None:
    assert parse_strategy("d1000_w0.5").depth == 1000.0
    with pytest.raises(StrategyError, match="weights must be at most 1000"):
        parse_strategy("d" + "9" * 400)


@pytest.mark.parametrize("option", ["''", "','"])
def test_empty_strategy_options_are_errors(option: str) -> None:
    result = runner.invoke(app, ["compare", "resnet50", "-s", option[1:-1], "--factors", "2"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: --strategies: ") and "empty strategy" in result.stderr


def test_duplicates_are_found_in_linear_time() -> None:
    assert first_duplicate(range(10**6)) is None  # a quadratic search would take hours
    assert first_duplicate([*range(10**6), 5]) == 5


def test_a_sweep_has_at_most_10000_models() -> None:
    factors = [1 + i / 1000 for i in range(2500)]
    make_sweep(["resnet50"], ["w", "d", "r"], factors)  # 1 + 7,500 models
    with pytest.raises(ScalecalcError, match="1 bases x 10001 models each is 10001 models"):
        make_sweep(["resnet50"], ["w", "d", "r", "dwr"], factors)


def test_a_config_on_standard_input() -> None:
    result = runner.invoke(app, ["count", "-", "-f", "json"], input="preset: resnet50\n")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    # ResNet-50 at 224: 4,089,184,256 multiply-adds (fvcore's and torchvision's figure).
    assert (row["name"], row["flops"], row["params"]) == ("stdin", 4_089_184_256, 25_557_032)


def test_standard_input_is_read_bounded() -> None:
    result = runner.invoke(app, ["count", "-"], input=b"y\n" * (1 << 20))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == "error: stdin: file is over 1048576 bytes; the limit is 1048576\n"


def test_a_sweep_on_standard_input() -> None:
    sweep = "bases: [resnet50]\nstrategies: [d]\nfactors: [2]\n"
    result = runner.invoke(app, ["compare", "--sweep", "-", "-f", "json"], input=sweep)
    assert result.exit_code == 0, result.output
    keys = [row["key"] for row in json.loads(result.stdout)["rows"]]
    assert keys == ["resnet50/base", "resnet50/d/x2"]
