"""EfficientNet-B0 scaled by every strategy equals what the paper's reference scaler produces.

tests/data/pycls_reference.json holds pycls's own scaler output and complexity for each entry.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pycls_convention import bias_adds

from scalecalc.api import count, load, scale
from scalecalc.scaling import parse_strategy

REFERENCE = Path(__file__).parent / "data" / "pycls_reference.json"
MODELS = [
    m
    for m in json.loads(REFERENCE.read_text(encoding="utf-8"))["models"]
    if m["pycls"]["type"] == "effnet"
]


def test_reference_covers_every_named_strategy_at_2_to_16() -> None:
    named = {"w", "d", "r", "dw", "dr", "wr", "dwr", "dWr"}
    cells = {(m["base"], m["strategy"], m["factor"]) for m in MODELS}
    for strategy in named:
        for factor in (2.0, 4.0, 8.0, 16.0):
            assert ("efficientnet_b0", strategy, factor) in cells, (strategy, factor)


@pytest.mark.parametrize("model", MODELS, ids=[m["key"] for m in MODELS])
def test_scaled_efficientnet_equals_pycls(model: dict) -> None:
    parse_strategy(model["strategy"])  # every reference strategy is in scalecalc's grammar
    spec = scale(load(model["base"]).spec, model["strategy"], model["factor"])
    ours = {
        "type": "effnet",
        "depths": list(spec.depths),
        "widths": list(spec.widths),
        "exp_rs": [float(r) for r in spec.exp_ratios],
        "kernels": list(spec.kernels),
        "strides": list(spec.strides),
        "stem_w": spec.stem_width,
        "head_w": spec.head_width,
        "se_r": spec.se_ratio,
        "resolution": spec.resolution,
    }
    assert ours == model["pycls"]
    costs = count(spec)
    expected = model["complexity"]
    assert (costs.params, costs.acts) == (expected["params"], expected["acts"])
    assert costs.flops + bias_adds(spec) == expected["flops"]
