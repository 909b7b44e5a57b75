"""Strategy grammar, factor math and the reference CNN scaling rules.

The rules are stated in docs/counting.md, sections Scaling strategies and Rules per family.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from spec_strategies import strategy_names

from scalecalc.api import count, load, scale
from scalecalc.errors import StrategyError
from scalecalc.scaling import (
    adjust_compatibility,
    parse_strategy,
    scale_group_width,
    scaling_factors,
)


@pytest.mark.parametrize(
    ("text", "weights"),
    [
        ("w", (0, 1, 0, 0)),
        ("dwr", (1, 1, 0, 1)),
        ("dr", (1, 0, 0, 1)),
        ("dWr", (1, 8, 8, 1)),
        ("d1_w8_g8_r1", (1, 8, 8, 1)),
        ("w2.5_r0.5", (0, 2.5, 0, 0.5)),
        ("fast:0.8", (0.1, 0.8, 0.8, 0.1)),
        ("fast:0", (0.5, 0, 0, 0.5)),
    ],
)
def test_grammar(text: str, weights: tuple) -> None:
    strategy = parse_strategy(text)
    assert (strategy.depth, strategy.width, strategy.group, strategy.resolution) == pytest.approx(
        weights
    )


@pytest.mark.parametrize(
    "text", ["", "x", "wd", "dd", "d1_d2", "g1", "d0_w0_r0", "w-1", "fast:1.5", "fast:nan", "w1_"]
)
def test_invalid_strategies_list_the_grammar(text: str) -> None:
    with pytest.raises(StrategyError, match="a strategy is letters from d, w, r"):
        parse_strategy(text)


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, True])
def test_invalid_factors(bad: float) -> None:
    with pytest.raises(StrategyError, match="must be a finite number > 0"):
        scaling_factors("w", bad)


@given(strategy_names, st.floats(1 / 64, 64))
def test_flops_identity(text: str, s: float) -> None:
    f = scaling_factors(text, s)
    assert f.depth * f.width**2 * f.resolution**2 == pytest.approx(s, rel=1e-12)


def test_factor_exponents_by_hand() -> None:
    f = scaling_factors("dWr", 4)  # d = 4^0.1, w = g = 4^0.4, r = 4^0.05
    assert (f.depth, f.width, f.group, f.resolution) == pytest.approx(
        (4**0.1, 4**0.4, 4**0.4, 4**0.05)
    )
    f = scaling_factors("dwr", 8)  # each third of the flops: d = 2, w = r = sqrt 2
    assert (f.depth, f.width, f.group, f.resolution) == pytest.approx((2, 2**0.5, 1, 2**0.5))


def test_effnet_keeps_efficientnets_ratios() -> None:
    f = scaling_factors("effnet", 2)
    logs = (math.log(f.depth), math.log(f.width), math.log(f.resolution))
    assert [x / logs[0] for x in logs] == pytest.approx(
        [1, math.log(1.1) / math.log(1.2), math.log(1.15) / math.log(1.2)]
    )


def test_rounding_rules_by_hand() -> None:
    assert [scale_group_width(g, 1) for g in (1, 2, 3, 5, 6, 12, 20, 64)] == [
        1,
        2,
        4,
        4,
        8,
        16,
        16,
        64,  # 12/8 = 1.5 and 20/8 = 2.5 round half to even
    ]
    # bottleneck 100 with group width 64: round(100 / 64) = 2 groups -> 128
    assert adjust_compatibility(100, 1.0, 64) == (128, 64)
    # ratio 0.25: bottleneck 90, group 64 -> one group of 64 -> width 256
    assert adjust_compatibility(360, 0.25, 64) == (256, 64)
    # ratio 4: multiple lcm(4, 4) = 4
    assert adjust_compatibility(10, 4.0, 4) == (10, 4)


def test_regnety_4gf_matches_the_reference_scaler() -> None:
    # pycls's scale_model output (tests/data/pycls_reference.json, regnety_4gf/dWr/x4, /dwr/x4)
    spec = load("regnety_4gf").spec
    fast = scale(spec, "dWr", 4)
    assert (fast.resolution, fast.depths, fast.widths, set(fast.group_widths)) == (
        240,
        (2, 7, 14, 2),
        (224, 336, 896, 1904),
        {112},
    )
    compound = scale(spec, "dwr", 4)
    assert (compound.resolution, compound.depths, compound.widths) == (
        284,
        (3, 10, 19, 3),
        (128, 256, 640, 1344),
    )


def test_resnet50_width_scaling_is_a_no_op_at_2x() -> None:
    # Bottleneck widths snap back to multiples of the (unscaled) group width.
    spec = load("resnet50").spec
    assert scale(spec, "w", 2) == spec
    assert scale(spec, "dw", 4) == scale(spec, "d", 2)


@pytest.mark.parametrize("name", ["resnext50_32x4d", "regnetx_4gf"])
def test_width_scaling_of_grouped_nets_falls_short(name: str) -> None:
    spec = load(name).spec
    realized = count(scale(spec, "w", 4)).flops / count(spec).flops
    assert 1 < realized < 4


def test_stem_is_not_scaled() -> None:
    spec = load("regnety_400mf").spec
    assert scale(spec, "dwr", 16).stem_width == spec.stem_width == 32


def test_vit_rules() -> None:
    spec = load("vit_b16").spec
    wide = scale(spec, "w", 4)  # width x2: heads 12 -> 24 at head size 64, MLP ratio 4 kept
    assert (wide.num_heads, wide.hidden_size, wide.mlp_size) == (24, 1536, 6144)
    assert scale(spec, "r", 2).resolution == 320  # 224 * sqrt 2 = 316.8 -> 20 patches of 16
    assert scale(spec, "d", 3).num_layers == 36


def test_convnext_rules() -> None:
    spec = load("convnext_t").spec
    scaled = scale(spec, "dwr", 4)
    assert all(w % 8 == 0 for w in scaled.widths) and scaled.resolution % 32 == 0
    assert scaled.depths == (5, 5, 14, 5)  # depth x 4^(1/3) = 1.587: 4.76, 14.3
    assert scaled.resolution == 288  # 224 x 4^(1/6) = 282.2 -> 9 x 32
