"""Scaled CNNs and their counts against the paper's reference implementation (pycls).

`data/pycls_reference.json` holds what pycls's own scaler and complexity code produce for every
CNN preset x strategy x factor (written by `data/make_pycls_reference.py`, with the commit);
`data/pycls_zoo_complexity.json` holds pycls's published counts of its model zoo.

pycls's counting convention differs from scalecalc's paper convention in two places, derived
here from the network's shapes rather than absorbed by a tolerance:
- flops: pycls adds one flop per output element of a convolution or linear layer that has a
  bias (the squeeze-excitation 1x1 convolutions and the classifier); the paper convention counts
  multiply-adds only. pycls flops = paper flops + those bias adds.
- acts: pycls counts the output of the ResNet stem's max pool; scalecalc counts only the outputs
  of convolutions, linear layers and matrix products. pycls acts = acts + max-pool outputs.
Params are the same in both.

EfficientNet-B0 entries are in the same file; the efficientnet family's tests compare them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from scalecalc.api import count, load, scale
from scalecalc.config import from_mapping
from scalecalc.families.spec import BaseSpec
from pycls_convention import bias_adds as efficientnet_bias_adds

DATA = Path(__file__).parent / "data"
REFERENCE = json.loads((DATA / "pycls_reference.json").read_text())
PYCLS_COMMIT = "5719de641657c251f807c20a1fcf8ef6f4b60144"


def _groups() -> dict[tuple[str, str], list[dict[str, Any]]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for entry in REFERENCE["models"]:
        if entry["pycls"]["type"] == "anynet":
            groups[entry["base"], entry["strategy"]].append(entry)
    return groups


GROUPS = _groups()
GROUP_IDS = [f"{base}/{strategy}" for base, strategy in sorted(GROUPS)]


def side_after(size: int, stride: int) -> int:
    """Output side of a padded odd-kernel convolution or pool, as pycls's complexity computes it."""
    return (size - 1) // stride + 1


def bias_adds(pycls: dict[str, Any], num_classes: int = 1000) -> int:
    """Flops pycls charges for bias adds: squeeze-excitation convolutions and the classifier."""
    adds = num_classes
    if pycls["se_r"]:
        c_in = pycls["stem_w"]
        for depth, width, bot_mul in zip(pycls["depths"], pycls["widths"], pycls["bot_muls"]):
            for _ in range(depth):
                bottleneck = round(width * bot_mul)
                adds += round(c_in * pycls["se_r"]) + bottleneck  # down, then up
                c_in = width
    return adds


def pool_acts(family: str, pycls: dict[str, Any]) -> int:
    """Outputs of the ResNet stem's 3x3/2 max pool after its 7x7/2 convolution (pycls counts them)."""
    if family != "resnet":
        return 0
    side = side_after(side_after(pycls["resolution"], 2), 2)
    return pycls["stem_w"] * side * side


def stage_fields(spec: BaseSpec) -> dict[str, Any]:
    """scalecalc's spec in pycls's AnyNet terms."""
    ratio = spec.bottleneck_ratio
    return {
        "type": "anynet",
        "depths": list(spec.depths),
        "widths": list(spec.widths),
        "bot_muls": [ratio] * len(spec.depths),
        "group_ws": list(spec.group_widths),
        "stem_w": spec.stem_width,
        "se_r": getattr(spec, "se_ratio", 0.0),
        "resolution": spec.resolution,
    }


def test_reference_names_its_source() -> None:
    assert REFERENCE["source"] == {
        "repo": "facebookresearch/pycls",
        "commit": PYCLS_COMMIT,
        "license": "MIT",
    }
    assert (Path(__file__).parent.parent / REFERENCE["generator"]).is_file()
    assert len(GROUPS) == 8 * 12


@pytest.mark.parametrize(("base", "strategy"), sorted(GROUPS), ids=GROUP_IDS)
def test_scaled_like_pycls(base: str, strategy: str) -> None:
    spec = load(base).spec
    wrong = []
    for entry in GROUPS[base, strategy]:
        scaled = scale(spec, strategy, entry["factor"])
        if stage_fields(scaled) != entry["pycls"]:
            wrong.append((entry["key"], stage_fields(scaled), entry["pycls"]))
    assert not wrong, wrong[:3]


@pytest.mark.parametrize(("base", "strategy"), sorted(GROUPS), ids=GROUP_IDS)
def test_counted_like_pycls(base: str, strategy: str) -> None:
    spec = load(base).spec
    wrong = []
    for entry in GROUPS[base, strategy]:
        pycls, expected = entry["pycls"], entry["complexity"]
        costs = count(scale(spec, strategy, entry["factor"]))
        got = {
            "flops": costs.flops + bias_adds(pycls),
            "params": costs.params,
            "acts": costs.acts + pool_acts(spec.family, pycls),
        }
        if got != expected:
            wrong.append((entry["key"], got, expected))
    assert not wrong, wrong[:3]


def test_bias_adds_by_hand() -> None:
    # RegNetY-400MF: 16 blocks; SE squeezes the block input to w_in/4 and expands to the
    # bottleneck width (bottleneck ratio 1). Stages [1, 3, 6, 6] at widths [48, 104, 208, 440],
    # stem 32: first blocks squeeze 32, 48, 104, 208 -> 8, 12, 26, 52; the rest w/4.
    pycls = stage_fields(load("regnety_400mf").spec)
    assert pycls["depths"] == [1, 3, 6, 6] and pycls["widths"] == [48, 104, 208, 440]
    se = (8 + 48) + (12 + 104) + 2 * (26 + 104) + (26 + 208) + 5 * (52 + 208)
    se += (52 + 440) + 5 * (110 + 440)
    assert bias_adds(pycls) == 1000 + se
    # ResNet-50 at 224: stem 112, pool 56 -> 64 x 56 x 56 max-pool outputs.
    assert pool_acts("resnet", stage_fields(load("resnet50").spec)) == 64 * 56 * 56


# The pycls model zoo (configs/dds_baselines) by its RegNet parameters (depth, w0, wa, wm,
# group width), as its YAML files give them; all at 224, RegNetY with SE ratio 0.25.
REGNETS = {
    "RegNetX-200MF": (13, 24, 36.44, 2.49, 8),
    "RegNetX-400MF": (22, 24, 24.48, 2.54, 16),
    "RegNetX-600MF": (16, 48, 36.97, 2.24, 24),
    "RegNetX-800MF": (16, 56, 35.73, 2.28, 16),
    "RegNetX-1.6GF": (18, 80, 34.01, 2.25, 24),
    "RegNetX-3.2GF": (25, 88, 26.31, 2.25, 48),
    "RegNetX-4.0GF": (23, 96, 38.65, 2.43, 40),
    "RegNetX-6.4GF": (17, 184, 60.83, 2.07, 56),
    "RegNetX-8.0GF": (23, 80, 49.56, 2.88, 120),
    "RegNetX-12GF": (19, 168, 73.36, 2.37, 112),
    "RegNetX-16GF": (22, 216, 55.59, 2.1, 128),
    "RegNetX-32GF": (23, 320, 69.86, 2.0, 168),
    "RegNetY-200MF": (13, 24, 36.44, 2.49, 8),
    "RegNetY-400MF": (16, 48, 27.89, 2.09, 8),
    "RegNetY-600MF": (15, 48, 32.54, 2.32, 16),
    "RegNetY-800MF": (14, 56, 38.84, 2.4, 16),
    "RegNetY-1.6GF": (27, 48, 20.71, 2.65, 24),
    "RegNetY-3.2GF": (21, 80, 42.63, 2.66, 24),
    "RegNetY-4.0GF": (22, 96, 31.41, 2.24, 64),
    "RegNetY-6.4GF": (25, 112, 33.22, 2.27, 72),
    "RegNetY-8.0GF": (17, 192, 76.82, 2.19, 56),
    "RegNetY-12GF": (19, 168, 73.36, 2.37, 112),
    "RegNetY-16GF": (18, 200, 106.23, 2.48, 112),
    "RegNetY-32GF": (20, 232, 115.89, 2.53, 232),
}
RESNETS = {"R-50-1x64d": [3, 4, 6, 3], "R-101-1x64d": [3, 4, 23, 3], "R-152-1x64d": [3, 8, 36, 3]}
RESNEXTS = {"X-50-32x4d": [3, 4, 6, 3], "X-101-32x4d": [3, 4, 23, 3], "X-152-32x4d": [3, 8, 36, 3]}
ZOO = json.loads((DATA / "pycls_zoo_complexity.json").read_text())


def zoo_spec(name: str) -> BaseSpec | None:
    """The zoo model `name` as a scalecalc spec, or None where scalecalc has no such family."""
    if name.startswith("EN-B"):  # EN-B0 ... EN-B5: the presets are pycls's EN-B*_dds_8gpu
        return load(f"efficientnet_b{name[4]}").spec
    if name in REGNETS:
        depth, w0, wa, wm, group_width = REGNETS[name]
        fields = {"family": "regnet", "depth": depth, "w0": w0, "wa": wa, "wm": wm}
        fields |= {"group_width": group_width, "se_ratio": 0.25 if "Y" in name else 0.0}
        return from_mapping(fields, name, name).spec
    widths = [256, 512, 1024, 2048]
    if name in RESNETS:
        fields = {"family": "resnet", "block": "bottleneck", "depths": RESNETS[name]}
        fields["widths"] = widths
        return from_mapping(fields, name, name).spec
    if name in RESNEXTS:
        fields = {"depths": RESNEXTS[name], "widths": widths, "groups": 32, "width_per_group": 4}
        return from_mapping({"family": "resnet", "block": "bottleneck", **fields}, name, name).spec
    return None


def test_zoo_source() -> None:
    assert ZOO["source"]["commit"] == PYCLS_COMMIT
    assert len(ZOO["models"]) == 36
    assert sum(name.startswith("EN-") for name in ZOO["models"]) == 6


@pytest.mark.parametrize("name", sorted(ZOO["models"]))
def test_zoo_published_counts(name: str) -> None:
    spec = zoo_spec(name)
    assert spec is not None
    published = ZOO["models"][name]
    costs = count(spec)
    if spec.family == "efficientnet":
        expected = {"flops": costs.flops + efficientnet_bias_adds(spec)}
        assert expected | {"params": costs.params, "acts": costs.acts} == published
        return
    pycls = stage_fields(spec)
    assert {
        "flops": costs.flops + bias_adds(pycls),
        "params": costs.params,
        "acts": costs.acts + pool_acts(spec.family, pycls),
    } == published
