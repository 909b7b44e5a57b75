"""timm model names that are scalecalc specs: the same blocks, widths and depths (timm's
definitions at the revision of its 2022 benchmark runs). Variants with other blocks or layers
(d/t/ts stems, GroupNorm, pruned widths, TF 'same' padding, hybrid, relative-position,
distilled, layer-scale DeiT-3 and conv-MLP ConvNeXt models) are left out on purpose."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pycls_zoo import REGNETS  # noqa: E402

from scalecalc.config import spec_from_fields  # noqa: E402
from scalecalc.families.spec import BaseSpec  # noqa: E402
from scalecalc.registry import get_family  # noqa: E402

_BOTTLENECK = {"widths": [256, 512, 1024, 2048]}
_BASIC = {"block": "basic", "widths": [64, 128, 256, 512], "bottleneck_ratio": 1}


def _resnext(depths: list[int], groups: int, per_group: int) -> dict[str, Any]:
    return _BOTTLENECK | {"depths": depths, "groups": groups, "width_per_group": per_group}


def _regnet(depth: int, w0: int, wa: float, wm: float, group: int, se: bool) -> dict[str, Any]:
    fields = {"depth": depth, "w0": w0, "wa": wa, "wm": wm, "group_width": group}
    return fields | ({"se_ratio": 0.25} if se else {})


def _vit(patch: int, hidden: int, layers: int, heads: int, mlp: int) -> dict[str, Any]:
    return {
        "patch_size": patch,
        "hidden_size": hidden,
        "num_layers": layers,
        "num_heads": heads,
        "mlp_size": mlp,
    }


def _convnext(depths: list[int], widths: list[int]) -> dict[str, Any]:
    return {"depths": depths, "widths": widths}


# timm's regnet.py names its models by pycls's (the same paper parameters).
_REGNET_SIZES = {
    "200MF": "002", "400MF": "004", "600MF": "006", "800MF": "008", "1.6GF": "016",
    "3.2GF": "032", "4.0GF": "040", "6.4GF": "064", "8.0GF": "080", "12GF": "120",
    "16GF": "160", "32GF": "320",
}  # fmt: skip


def _regnets() -> dict[str, tuple[str, Any]]:
    names: dict[str, tuple[str, Any]] = {}
    for size, (x, y) in REGNETS.items():
        names[f"regnetx_{_REGNET_SIZES[size]}"] = ("regnet", _regnet(*x, se=False))
        names[f"regnety_{_REGNET_SIZES[size]}"] = ("regnet", _regnet(*y, se=True))
    return names


TIMM_SPECS: dict[str, tuple[str, Any]] = {
    "resnet18": ("resnet", _BASIC | {"depths": [2, 2, 2, 2]}),
    "resnet34": ("resnet", _BASIC | {"depths": [3, 4, 6, 3]}),
    "resnet26": ("resnet", _BOTTLENECK | {"depths": [2, 2, 2, 2]}),
    "resnet50": ("resnet", _BOTTLENECK | {"depths": [3, 4, 6, 3]}),
    "resnet101": ("resnet", _BOTTLENECK | {"depths": [3, 4, 23, 3]}),
    "resnet152": ("resnet", _BOTTLENECK | {"depths": [3, 8, 36, 3]}),
    "resnet200": ("resnet", _BOTTLENECK | {"depths": [3, 24, 36, 3]}),
    "resnext50_32x4d": ("resnet", _resnext([3, 4, 6, 3], 32, 4)),
    "resnext101_32x4d": ("resnet", _resnext([3, 4, 23, 3], 32, 4)),
    "resnext101_32x8d": ("resnet", _resnext([3, 4, 23, 3], 32, 8)),
    "resnext101_64x4d": ("resnet", _resnext([3, 4, 23, 3], 64, 4)),
    **_regnets(),
    "convnext_tiny": ("convnext", _convnext([3, 3, 9, 3], [96, 192, 384, 768])),
    "convnext_small": ("convnext", _convnext([3, 3, 27, 3], [96, 192, 384, 768])),
    "convnext_base": ("convnext", _convnext([3, 3, 27, 3], [128, 256, 512, 1024])),
    "convnext_large": ("convnext", _convnext([3, 3, 27, 3], [192, 384, 768, 1536])),
    "convnext_xlarge": ("convnext", _convnext([3, 3, 27, 3], [256, 512, 1024, 2048])),
    "vit_tiny_patch16": ("vit", _vit(16, 192, 12, 3, 768)),
    "vit_small_patch16": ("vit", _vit(16, 384, 12, 6, 1536)),
    "vit_small_patch32": ("vit", _vit(32, 384, 12, 6, 1536)),
    "vit_base_patch8": ("vit", _vit(8, 768, 12, 12, 3072)),
    "vit_base_patch16": ("vit", _vit(16, 768, 12, 12, 3072)),
    "vit_base_patch32": ("vit", _vit(32, 768, 12, 12, 3072)),
    "vit_large_patch14": ("vit", _vit(14, 1024, 24, 16, 4096)),
    "vit_large_patch16": ("vit", _vit(16, 1024, 24, 16, 4096)),
    "vit_large_patch32": ("vit", _vit(32, 1024, 24, 16, 4096)),
    "vit_huge_patch14": ("vit", _vit(14, 1280, 32, 16, 5120)),
    "vit_giant_patch14": ("vit", _vit(14, 1408, 40, 16, 6144)),
    "deit_tiny_patch16": ("vit", _vit(16, 192, 12, 3, 768)),
    "deit_small_patch16": ("vit", _vit(16, 384, 12, 6, 1536)),
    "deit_base_patch16": ("vit", _vit(16, 768, 12, 12, 3072)),
}
# Suffixes that name the weights or the image size, not another design.
_SUFFIXES = ("_in22ft1k", "_sam", "_224", "_384", "_240", "_256")
_EFFICIENTNETS = tuple(f"efficientnet_b{i}" for i in range(6))


def timm_spec(model: str, image_size: int) -> BaseSpec | None:
    """The spec of timm's `model` at `image_size`, or None where scalecalc has no same design."""
    base = model
    for _ in range(3):
        for suffix in _SUFFIXES:
            base = base.removesuffix(suffix)
    if model in _EFFICIENTNETS:
        family = get_family("efficientnet")
        fields = dict(family.presets[model]) | {"resolution": image_size}
        return spec_from_fields(family, fields, model)
    if base not in TIMM_SPECS:
        return None
    family_name, fields = TIMM_SPECS[base]
    family = get_family(family_name)
    return spec_from_fields(family, fields | {"resolution": image_size}, model)
