"""EfficientNet: pycls's published counts, independent implementations, scaling, validation."""

from __future__ import annotations

import sys
import types

import pytest
import torch
from pycls_convention import bias_adds

from scalecalc.api import build, count, load, scale
from scalecalc.config import from_mapping
from scalecalc.errors import SpecError
from scalecalc.families.efficientnet import EfficientNetSpec

# pycls dev/model_complexity.json, configs/dds_baselines/effnet/EN-B{i}_dds_8gpu.yaml.
PYCLS = {
    "efficientnet_b0": (5_288_548, 385_825_092, 6_748_036),
    "efficientnet_b1": (7_794_184, 686_817_992, 10_884_328),
    "efficientnet_b2": (9_109_994, 993_578_282, 13_832_834),
    "efficientnet_b3": (12_233_232, 1_827_162_472, 23_831_296),
    "efficientnet_b4": (19_341_616, 4_393_801_064, 49_489_032),
    "efficientnet_b5": (30_389_784, 10_266_426_072, 98_857_400),
}


def test_bias_adds_of_b0_by_hand() -> None:
    # (se + expanded) per block, stage by stage: 32 -> 8 + 32; 16 -> 4 + 96; 24 -> 6 + 144 (x2);
    # 40 -> 10 + 240 (x2); 80 -> 20 + 480 (x3); 112 -> 28 + 672 (x3); 192 -> 48 + 1152 (x4).
    blocks = 40 + 100 + 150 * 2 + 250 * 2 + 500 * 3 + 700 * 3 + 1200 * 4
    assert bias_adds(load("efficientnet_b0").spec) == blocks + 1000 == 10_340


@pytest.mark.parametrize("name", sorted(PYCLS))
def test_presets_reproduce_pycls(name: str) -> None:
    params, flops, acts = PYCLS[name]
    spec = load(name).spec
    costs = count(spec)
    assert (costs.params, costs.acts) == (params, acts)
    assert costs.flops + bias_adds(spec) == flops


def test_preset_resolutions_are_the_training_sizes() -> None:
    sizes = [load(f"efficientnet_b{i}").spec.resolution for i in range(6)]
    assert sizes == [224, 240, 260, 300, 380, 456]


def _import_torchvision_models() -> types.ModuleType:
    # torchvision's compiled ops do not load against this torch; its model code is pure Python.
    for name in ("torchvision._meta_registrations", "torchvision._autograd_registrations"):
        sys.modules.setdefault(name, types.ModuleType(name))
    import torchvision.models

    return torchvision.models


def test_b0_params_equal_torchvision_and_timm() -> None:
    models = _import_torchvision_models()
    import timm

    with torch.device("meta"):
        others = [models.efficientnet_b0(), timm.create_model("efficientnet_b0")]
    ours = count(load("efficientnet_b0").spec).params
    assert [sum(p.numel() for p in m.parameters()) for m in others] == [ours, ours]


def test_b0_equals_torchvision_under_fvcore() -> None:
    from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis

    model = _import_torchvision_models().efficientnet_b0().eval()
    x = torch.zeros(1, 3, 64, 64)
    flops, acts = FlopCountAnalysis(model, x), ActivationCountAnalysis(model, x)
    for analysis in (flops, acts):
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    ours = count(load("efficientnet_b0").spec.replace(resolution=64), "fvcore")
    assert (ours.flops, ours.acts) == (flops.total(), acts.total())


# fvcore traces with the JIT and runs a real forward pass: small factors and images keep it fast;
# each scaled model in one convention (alternating), as analytic = meta in both is tested in
# test_analytic.py's grid.
SCALED = [
    (strategy, factor, ("paper", "fvcore")[i % 2])
    for i, (strategy, factor) in enumerate(
        (s, f) for s in ("w", "d", "r", "dwr", "dWr", "effnet") for f in (2, 4)
    )
]


@pytest.mark.slow
@pytest.mark.parametrize(("strategy", "factor", "convention"), SCALED)
def test_scaled_b0_analytic_meta_fvcore_agree(
    strategy: str, factor: float, convention: str
) -> None:
    spec = scale(load("efficientnet_b0").spec, strategy, factor).replace(resolution=32)
    analytic = count(spec, convention)
    assert analytic == count(spec, convention, "meta") == count(spec, convention, "fvcore")


def test_block_structure() -> None:
    net = build(load("efficientnet_b0").spec, "meta")
    first, second = net.stages[0][0], net.stages[1][1]
    assert isinstance(first.expand, torch.nn.Identity)  # ratio 1: no expansion
    assert first.residual is False  # 32 -> 16 channels
    assert second.residual is True  # 24 -> 24, stride 1
    assert isinstance(second.se.act, torch.nn.SiLU)
    assert second.dwise[0][0].groups == 144 and second.dwise[0][0].kernel_size == (3, 3)


def test_scaling_rule_by_hand() -> None:
    spec = load("efficientnet_b0").spec
    wide = scale(spec, "w", 4)  # width x2, every width on a multiple of 8
    assert wide.widths == (32, 48, 80, 160, 224, 384, 640)
    assert (wide.stem_width, wide.head_width) == (64, 2560)
    deep = scale(spec, "d", 2)  # depth x2, half to even: 1.0->2, 2->4, 3->6
    assert deep.depths == (2, 4, 4, 6, 6, 8, 2)
    big = scale(spec, "r", 2)  # 224 x sqrt 2 = 316.8 -> 316 (multiple of 4)
    assert big.resolution == 316
    narrow = scale(spec, "w", 1 / 16)  # width / 4, then halves to even: 80 / 4 / 8 = 2.5 -> 2
    assert narrow.widths == (8, 8, 8, 16, 32, 48, 80) and narrow.stem_width == 8


BAD = [
    ({"widths": [16, 24]}, "widths: must have 7 entries"),
    ({"kernels": [3, 3, 4, 3, 5, 5, 3]}, "kernels: entries must be odd"),
    ({"strides": [1, 2, 3, 2, 1, 2, 1]}, "strides: entries must be between 1 and 2, got 3"),
    ({"exp_ratios": [0, 6, 6, 6, 6, 6, 6]}, "exp_ratios: entries must be between 1 and 64"),
    ({"se_ratio": 1.5}, "se_ratio: must be between 0 and 1"),
    ({"head_width": 0}, "head_width: must be between 1"),
    ({"exp_ratios": [1, 6, 6, 6, 6, 6, 6.5]}, "exp_ratios: must be a list of integers"),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_invalid_specs_name_the_key(change: dict, message: str) -> None:
    fields = load("efficientnet_b0").spec.to_dict()
    fields.pop("family")
    fields.update(change)
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    with pytest.raises(SpecError, match=message):
        EfficientNetSpec(**fields)


def test_effnet_strategy_on_b0_lands_near_the_published_b4() -> None:
    from scalecalc.solver import solve

    b4 = load("efficientnet_b4").spec
    solution = solve(load("efficientnet_b0").spec, "effnet", count(b4).flops)
    ours = solution.spec
    assert ours.depths == b4.depths  # 1.2 per flops doubling reproduces B4's depths
    assert abs(ours.resolution - b4.resolution) <= 4  # 376 vs 380
    assert all(abs(a - b) <= 8 for a, b in zip(ours.widths, b4.widths))
    assert abs(solution.flops / count(b4).flops - 1) < 0.01


def test_squeeze_excite_width_is_truncated_from_the_block_input() -> None:
    # pycls's EffNet has SE(w_exp, int(w_in * se_r)) and torchvision's MBConv
    # max(1, input_channels // 4): truncation, unlike RegNetY's round(). A 30-wide stem into a
    # block of expansion 1 with ratio 0.25 gives int(7.5) = 7 SE channels, where round gives 8.
    fields = {"family": "efficientnet", "stem_width": 30, "depths": [1], "widths": [16]}
    fields |= {"exp_ratios": [1], "kernels": [3], "strides": [1], "resolution": 32}
    plain = count(from_mapping({**fields, "se_ratio": 0.0}, "x", "test").spec)
    with_se = count(from_mapping({**fields, "se_ratio": 0.25}, "x", "test").spec)
    expanded, se = 30, 7
    # 1x1 reduce (weights + bias) and 1x1 expand (weights + bias) on the 30 expanded channels
    assert with_se.params - plain.params == expanded * se + se + se * expanded + expanded == 457
