"""The one registry of model families and their presets."""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable
from typing import Any

from scalecalc.errors import ConfigError, shown
from scalecalc.families import Family, convnext, efficientnet, regnet, resnet, vit


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
            name="resnet",
            spec_type=resnet.ResNetSpec,
            presets=resnet.PRESETS,
            builder="scalecalc.nn.cnn:build_resnet",
            scale=resnet.scale,
            complexity=resnet.complexity,
            expand_aliases=resnet.expand_aliases,
            alias_keys=frozenset({"groups", "width_per_group"}),
            required_keys={"block": resnet.BLOCKS},
        ),
        Family(
            name="regnet",
            spec_type=regnet.RegNetSpec,
            presets=regnet.PRESETS,
            builder="scalecalc.nn.cnn:build_regnet",
            scale=regnet.scale,
            complexity=regnet.complexity,
            expand_aliases=regnet.expand_aliases,
            alias_keys=frozenset(regnet.PAPER_KEYS),
        ),
        Family(
            name="vit",
            spec_type=vit.ViTSpec,
            presets=vit.PRESETS,
            builder="scalecalc.nn.vit:build_vit",
            scale=vit.scale,
            complexity=vit.complexity,
        ),
        Family(
            name="convnext",
            spec_type=convnext.ConvNeXtSpec,
            presets=convnext.PRESETS,
            builder="scalecalc.nn.convnext:build_convnext",
            scale=convnext.scale,
            complexity=convnext.complexity,
        ),
        Family(
            name="efficientnet",
            spec_type=efficientnet.EfficientNetSpec,
            presets=efficientnet.PRESETS,
            builder="scalecalc.nn.efficientnet:build_efficientnet",
            scale=efficientnet.scale,
            complexity=efficientnet.complexity,
        ),
    ]
)


def get_family(name: str) -> Family:
    """The family called `name`, or a ConfigError listing the known ones."""
    try:
        return FAMILIES[name]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown family {shown(name)}; allowed: {', '.join(sorted(FAMILIES))}"
        ) from None


def preset_family(preset: str) -> Family:
    """The family that owns `preset`, or a ConfigError listing the presets."""
    for family in FAMILIES.values():
        if preset in family.presets:
            return family
    raise unknown_preset(preset)


def unknown_preset(name: Any, alternative: str = "") -> ConfigError:
    """The error for a name that is no preset: the closest presets' names first, then all of
    them and `alternative` (what else the name could have been)."""
    close = difflib.get_close_matches(str(name), list_presets(), n=3)
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    return ConfigError(
        f"unknown preset {shown(name)}{hint}; allowed: {', '.join(list_presets())}{alternative}"
    )


def list_presets(include: str = "*", exclude: str = "") -> list[str]:
    """Preset names matching the `include` glob and not the `exclude` glob, sorted."""
    names = [name for family in FAMILIES.values() for name in family.presets]
    return sorted(
        name
        for name in names
        if fnmatch.fnmatchcase(name, include)
        and not (exclude and fnmatch.fnmatchcase(name, exclude))
    )
