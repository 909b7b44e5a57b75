"""The one registry of model families and their presets."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from scalecalc.errors import ConfigError
from scalecalc.families import Family, convnext, regnet, resnet, vit


def _register(families: Iterable[Family]) -> dict[str, Family]:
    registry: dict[str, Family] = {}
    owners: dict[str, str] = {}
    for family in families:
        if family.name in registry:
            raise ValueError(f"family {family.name!r} registered twice")
        registry[family.name] = family
        for preset in family.presets:
            if preset in owners:
                raise ValueError(f"preset {preset!r} in both {owners[preset]} and {family.name}")
            owners[preset] = family.name
    return registry


FAMILIES: dict[str, Family] = _register(
    [
        Family(
            "resnet", resnet.ResNetSpec, resnet.PRESETS, resnet.build, resnet.scale,
            resnet.complexity, resnet.expand_aliases, frozenset({"groups", "width_per_group"}),
        ),
        Family(
            "regnet", regnet.RegNetSpec, regnet.PRESETS, regnet.build, regnet.scale,
            regnet.complexity, regnet.expand_aliases, frozenset(regnet.PAPER_KEYS),
        ),
        Family("vit", vit.ViTSpec, vit.PRESETS, vit.build, vit.scale, vit.complexity),
        Family(
            "convnext", convnext.ConvNeXtSpec, convnext.PRESETS, convnext.build, convnext.scale,
            convnext.complexity,
        ),
    ]
)


def get_family(name: str) -> Family:
    """The family called `name`, or a ConfigError listing the known ones."""
    try:
        return FAMILIES[name]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown family {name!r}; allowed: {', '.join(sorted(FAMILIES))}"
        ) from None


def preset_family(preset: str) -> Family:
    """The family that owns `preset`, or a ConfigError listing the presets."""
    for family in FAMILIES.values():
        if preset in family.presets:
            return family
    raise ConfigError(f"unknown preset {preset!r}; allowed: {', '.join(list_presets())}")


def list_presets(include: str = "*", exclude: str = "") -> list[str]:
    """Preset names matching the `include` glob and not the `exclude` glob, sorted."""
    names = [name for family in FAMILIES.values() for name in family.presets]
    return sorted(
        name
        for name in names
        if fnmatch.fnmatchcase(name, include) and not (exclude and fnmatch.fnmatchcase(name, exclude))
    )
