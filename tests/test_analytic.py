"""The analytic counter equals the traced meta counter: totals and every stage, both conventions."""

from __future__ import annotations

import pytest
from conftest import PRESETS
from hypothesis import given, settings
from spec_strategies import (
    convnext_specs,
    efficientnet_specs,
    regnet_specs,
    resnet_specs,
    vit_specs,
)
from torch import nn
from typer.testing import CliRunner

from scalecalc.api import build, count, load, scale
from scalecalc.cli import app
from scalecalc.costs import CONVENTIONS, COUNTERS, Costs
from scalecalc.nn.counting import count_meta
from scalecalc.families.spec import BaseSpec
from scalecalc.families.convnext import ConvNeXtSpec
from scalecalc.families.efficientnet import EfficientNetSpec
from scalecalc.families.regnet import RegNetSpec
from scalecalc.families.resnet import ResNetSpec
from scalecalc.families.vit import ViTSpec
from scalecalc.registry import get_family

BASES = [
    "resnet50",
    "resnext50_32x4d",
    "regnetx_400mf",
    "regnety_4gf",
    "vit_b16",
    "convnext_t",
    "efficientnet_b0",
]
STRATEGIES = ["w", "d", "r", "dw", "dwr", "dWr"]
FACTORS = [0.5, 2, 4, 8, 16]


def meta_costs(spec: BaseSpec, conventions: tuple[str, ...] = CONVENTIONS) -> dict[str, Costs]:
    """The independent value: the traced meta counter, one meta build for all conventions."""
    model = build(spec, "meta")
    return {c: count_meta(model, spec.resolution, c) for c in conventions}


def assert_analytic_equals_meta(spec: BaseSpec, conventions: tuple[str, ...] = CONVENTIONS) -> None:
    """Whole Costs equal (totals, each StageCosts, no unsupported ops) in every convention."""
    for convention, traced in meta_costs(spec, conventions).items():
        assert traced.unsupported == ()
        analytic = count(spec, convention, "analytic")
        assert analytic.stages == traced.stages, (convention, spec)
        assert analytic == traced, (convention, spec)


@pytest.mark.parametrize("name", PRESETS)
def test_presets(name: str) -> None:
    assert_analytic_equals_meta(load(name).spec)


# Meta tracing costs ~0.1-0.3 ms per dispatched op whatever the resolution, so the grid's time
# is its total depth; each scaled model is traced in one convention (alternating over the grid)
# to stay within budget. Presets and the property tests below cover both on every model.
GRID = [
    (base, strategy, factor, CONVENTIONS[(i + j) % 2])
    for i, base in enumerate(BASES)
    for j, (strategy, factor) in enumerate((s, f) for s in STRATEGIES for f in FACTORS)
]


@pytest.mark.slow
@pytest.mark.parametrize(("base", "strategy", "factor", "convention"), GRID)
def test_scaled_models(base: str, strategy: str, factor: float, convention: str) -> None:
    spec = scale(load(base).spec, strategy, factor)
    assert_analytic_equals_meta(spec, (convention,))


def test_grid_covers_every_base_strategy_and_convention() -> None:
    for base in BASES:
        for strategy in STRATEGIES:
            cells = [(f, c) for b, s, f, c in GRID if (b, s) == (base, strategy)]
            assert sorted(f for f, _ in cells) == sorted(FACTORS)
            assert {c for _, c in cells} == set(CONVENTIONS)


# --- property tests over random valid specs of every family ---


@settings(max_examples=25)
@given(resnet_specs(grid=False))
def test_random_resnets(spec: ResNetSpec) -> None:
    assert_analytic_equals_meta(spec)


@settings(max_examples=25)
@given(regnet_specs(grid=False))
def test_random_regnets(spec: RegNetSpec) -> None:
    assert_analytic_equals_meta(spec)


@settings(max_examples=25)
@given(vit_specs(grid=False))
def test_random_vits(spec: ViTSpec) -> None:
    assert_analytic_equals_meta(spec)


@settings(max_examples=25)
@given(convnext_specs(grid=False))
def test_random_convnexts(spec: ConvNeXtSpec) -> None:
    assert_analytic_equals_meta(spec)


@settings(max_examples=25)
@given(efficientnet_specs(grid=False))
def test_random_efficientnets(spec: EfficientNetSpec) -> None:
    assert_analytic_equals_meta(spec)


# --- the analytic counter is the default and builds nothing ---


def test_analytic_builds_no_module(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the analytic counter built a torch module")

    spec = load("regnety_4gf").spec
    expected = meta_costs(spec, ("paper",))["paper"]
    monkeypatch.setattr(nn.Module, "__init__", refuse)
    assert get_family("regnet").complexity(spec, "paper") == expected
    assert count(spec) == expected  # the default counter is the analytic one


def test_unknown_counter_and_convention_are_errors() -> None:
    spec = load("vit_s16").spec
    with pytest.raises(ValueError, match="analytic, meta, fvcore"):
        count(spec, counter="trace")
    with pytest.raises(ValueError, match="convention"):
        count(spec, "timm", "analytic")


def test_cli_counter_option() -> None:
    assert COUNTERS == ("analytic", "meta", "fvcore")
    runner = CliRunner()
    outputs = {}
    for counter in (None, "analytic", "meta"):  # fvcore == meta is proven in test_presets
        args = ["count", "resnet50", "-f", "json"] + (["--counter", counter] if counter else [])
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        outputs[counter] = result.stdout
    assert outputs[None] == outputs["analytic"] == outputs["meta"]
    assert '"params": 25557032' in outputs[None]
    result = runner.invoke(app, ["count", "resnet50", "--counter", "trace"])
    assert result.exit_code != 0 and "analytic" in result.output
