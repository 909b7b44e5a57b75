"""Random specs of every family against torchvision's and timm's own models.

Each spec is drawn from a seeded generator (off-grid widths and image sizes included), the
equivalent torchvision or timm model is built in the test without weights, and its parameters
(`numel`), multiply-adds (`torch.utils.flop_counter`) and fvcore flops and activations must
equal scalecalc's closed-form counts: params and paper flops directly, fvcore flops and acts in
scalecalc's `fvcore` convention. The one difference is stated where it arises: scalecalc's
`fvcore` convention charges a global mean over tokens one flop per element, like an adaptive
average pool; fvcore's own table has no rule for `aten::mean` and skips it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from independent import (
    fvcore_counts,
    multiply_adds,
    params,
    timm_convnext,
    timm_vit,
    torchvision_regnet,
    torchvision_resnet,
)
from torch import nn

from scalecalc.api import count
from scalecalc.config import from_mapping
from scalecalc.families.spec import BaseSpec

EXAMPLES = 4  # per family and variant; each is built and traced three times


def resnet_fields(rng: random.Random, block: str) -> dict[str, Any]:
    """ResNet (basic) or ResNet/ResNeXt (bottleneck via torchvision's groups/width_per_group)."""
    depths = [rng.randint(1, 2) for _ in range(4)]
    if block == "basic":
        widths = [rng.randint(1, 12) * 4 for _ in range(4)]
        return {"block": "basic", "depths": depths, "widths": widths}
    groups = rng.choice([1, 2, 4, 8, 32])
    width_per_group = rng.choice([4, 8, 24, 64])
    # planes * width_per_group / 64 >= 1 keeps a channel per group; planes need not be round
    planes = [rng.randint(-(-64 // width_per_group), 40) for _ in range(4)]
    return {
        "block": "bottleneck",
        "depths": depths,
        "widths": [4 * p for p in planes],
        "groups": groups,
        "width_per_group": width_per_group,
    }


def regnet_fields(rng: random.Random) -> dict[str, Any]:
    """RegNet stage form: 1-4 stages, X or Y (SE), bottleneck ratio 1, 1/2 or 1/4."""
    stages = rng.randint(1, 4)
    ratio = rng.choice([1.0, 0.5, 0.25])
    widths, group_widths = [], []
    for _ in range(stages):
        bottleneck = rng.randint(1, 24) * 2
        divisors = [g for g in range(1, bottleneck + 1) if bottleneck % g == 0]
        widths.append(int(bottleneck / ratio))
        group_widths.append(rng.choice(divisors))
    return {
        "depths": [rng.randint(1, 2) for _ in range(stages)],
        "widths": widths,
        "group_widths": group_widths,
        "bottleneck_ratio": ratio,
        "se_ratio": rng.choice([0.0, 0.25]),
        "stem_width": rng.choice([8, 16, 32]),
    }


def vit_fields(rng: random.Random) -> dict[str, Any]:
    """ViT with or without class token, any image size from one patch up."""
    patch = rng.choice([4, 8, 16])
    heads, head_size = rng.randint(1, 4), rng.choice([8, 16])
    hidden = heads * head_size
    return {
        "patch_size": patch,
        "hidden_size": hidden,
        "num_layers": rng.randint(1, 3),
        "num_heads": heads,
        "mlp_size": hidden * rng.choice([1, 2, 4]),
        "class_token": rng.random() < 0.5,
        "resolution": rng.randint(patch, 72),
    }


def convnext_fields(rng: random.Random) -> dict[str, Any]:
    """ConvNeXt with any widths, with or without layer scale, any size from 32.

    The MLP ratio stays 4: timm's ConvNeXt (like torchvision's) has no argument for it.
    """
    return {
        "depths": [rng.randint(1, 2) for _ in range(4)],
        "widths": [rng.randint(1, 12) * 4 for _ in range(4)],
        "layer_scale": rng.choice([0.0, 1e-6]),
    }


def draw(family: str, variant: str, seed: int) -> tuple[dict[str, Any], BaseSpec]:
    """A seeded random config of `family` and the scalecalc spec it loads to."""
    rng = random.Random(f"{family}/{variant}/{seed}")
    generators: dict[str, Callable[[random.Random], dict[str, Any]]] = {
        "resnet": lambda r: resnet_fields(r, variant),
        "regnet": regnet_fields,
        "vit": vit_fields,
        "convnext": convnext_fields,
    }
    fields = {"resolution": rng.randint(32, 80), "num_classes": rng.randint(1, 50)}
    fields |= generators[family](rng)
    return fields, from_mapping({"family": family, **fields}, "drawn", "drawn").spec


def reference_model(family: str, fields: dict[str, Any], spec: Any) -> nn.Module:
    """The torchvision or timm model for a drawn spec, in eval mode."""
    if family == "resnet":
        model = torchvision_resnet(spec, fields.get("groups", 1), fields.get("width_per_group", 64))
    elif family == "regnet":
        model = torchvision_regnet(spec)
    elif family == "vit":
        model = timm_vit(spec)
    else:
        model = timm_convnext(spec)
    return model.eval()


CASES = [
    (family, variant, seed)
    for family, variant in [
        ("resnet", "bottleneck"),
        ("resnet", "basic"),
        ("regnet", ""),
        ("vit", ""),
        ("convnext", ""),
    ]
    for seed in range(EXAMPLES)
]


@pytest.mark.parametrize(("family", "variant", "seed"), CASES)
def test_counts_equal_the_reference_model(family: str, variant: str, seed: int) -> None:
    fields, spec = draw(family, variant, seed)
    model = reference_model(family, fields, spec)
    paper, fvcore = count(spec), count(spec, "fvcore")
    fvcore_flops, fvcore_acts = fvcore_counts(model, spec.resolution)
    if family == "vit" and not spec.class_token:
        fvcore_flops += spec.num_tokens * spec.hidden_size  # the token mean (see above)
    assert (params(model), multiply_adds(model, spec.resolution)) == (paper.params, paper.flops)
    assert (fvcore_flops, fvcore_acts) == (fvcore.flops, fvcore.acts), fields


def test_the_issue_example_of_torchvision_groups() -> None:
    # ResNeXt 32x4d at widths [96, 192, 384, 768]: torchvision floors 24 * 4 / 64 = 1.5 to 1.
    fields = {"depths": [3, 4, 6, 3], "widths": [96, 192, 384, 768], "groups": 32}
    fields |= {"family": "resnet", "block": "bottleneck", "width_per_group": 4}
    spec = from_mapping(fields, "x", "x").spec
    model = torchvision_resnet(spec, 32, 4)
    assert params(model) == count(spec).params == 4_020_488
