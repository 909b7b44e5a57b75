"""YAML configs and presets into validated specs (scalecalc.yamlfile reads the YAML text)."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scalecalc.errors import ConfigError, SpecError, shown
from scalecalc.families import Family
from scalecalc.families.spec import BaseSpec
from scalecalc.files import STDIN
from scalecalc.inputs import is_finite_number, is_text
from scalecalc.registry import get_family, list_presets, preset_family, unknown_preset

RESERVED_KEYS = ("family", "preset", "name")


@dataclass(frozen=True)
class ModelConfig:
    """A named, validated model spec: what `count`, `scale` and `compare` work on."""

    name: str
    spec: BaseSpec

    @property
    def family(self) -> str:
        """The spec's family name."""
        return self.spec.family


def load(source: str | Path, origin: str | None = None) -> ModelConfig:
    """A model from a preset name or a YAML file, the one rule for every command: a preset's
    name always means the preset (write ./NAME for a file of that name); anything else is a
    path, and `-` is YAML on standard input. Errors name `origin` (the sweep file that lists
    `source`) when given."""
    text = str(source)
    prefix = f"{origin}: " if origin else ""
    try:
        if text in preset_names():
            family = preset_family(text)
            return ModelConfig(text, spec_from_fields(family, dict(family.presets[text]), text))
        if text != STDIN and not is_path(text):
            raise unknown_preset(text, " (or a path ending in .yaml)")
        from scalecalc.yamlfile import read_yaml

        if text == STDIN:
            return from_mapping(read_yaml(Path(STDIN)), "stdin", "stdin")
        path = Path(source)
        return from_mapping(read_yaml(path), path.stem, str(path))
    except ConfigError as error:
        raise ConfigError(f"{prefix}{error}") from None


def is_path(source: str) -> bool:
    """Whether a model argument that is not a preset names a file (.yaml, or has a folder)."""
    return (
        source == "-"
        or source.endswith((".yaml", ".yml"))
        or "/" in source
        or "\\" in source
        or Path(source).exists()
    )


def preset_names() -> frozenset[str]:
    """The names that mean a built-in preset."""
    return frozenset(list_presets())


def from_mapping(data: Any, default_name: str, origin: str) -> ModelConfig:
    """A model from a parsed YAML mapping (family or preset, optional name, spec fields)."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise ConfigError(f"{origin}: expected a mapping with 'family' or 'preset', got {kind}")
    fields = {key: value for key, value in data.items() if key not in RESERVED_KEYS}
    bad_key = next((key for key in data if not isinstance(key, str)), None)
    if bad_key is not None:
        raise ConfigError(f"{origin}: key {shown(bad_key)} is not a string")
    name = data.get("name", default_name)
    if not is_text(name) or not name.strip():
        raise ConfigError(f"{origin}: name: must be a non-empty UTF-8 string, got {shown(name)}")
    preset = data.get("preset")
    if preset is not None:
        if not isinstance(preset, str):
            raise ConfigError(f"{origin}: preset: must be a string, got {shown(preset)}")
        family = _family_of_preset(preset, origin)
        if "family" in data and data["family"] != family.name:
            raise ConfigError(
                f"{origin}: family: preset {shown(preset)} is a {family.name}, "
                f"not {shown(data['family'])}"
            )
        fields = _merge(family, dict(family.presets[preset]), fields, origin)
    elif "family" in data:
        family = _get_family(data["family"], origin)
        for key, allowed in family.required_keys.items():
            if key not in fields:
                raise ConfigError(
                    f"{origin}: {key}: is required for family {family.name} without a preset; "
                    f"allowed: {', '.join(allowed)}"
                )
    else:
        raise ConfigError(f"{origin}: needs a 'family' or a 'preset' key")
    return ModelConfig(name, spec_from_fields(family, fields, origin))


def _family_of_preset(preset: str, origin: str) -> Family:
    try:
        return preset_family(preset)
    except ConfigError as error:
        raise ConfigError(f"{origin}: preset: {error}") from None


def _get_family(name: Any, origin: str) -> Family:
    try:
        return get_family(name)
    except ConfigError as error:
        raise ConfigError(f"{origin}: family: {error}") from None


def _merge(family: Family, base: dict, overrides: dict, origin: str) -> dict:
    """Preset fields with overrides; overriding a spec field drops the preset's aliases."""
    if family.alias_keys & overrides.keys():
        return {**base, **overrides}
    try:
        expanded = family.expand_aliases(base)
    except SpecError as error:
        raise ConfigError(f"{origin}: {error}") from None
    return {**expanded, **overrides}


def spec_from_fields(family: Family, fields: dict[str, Any], origin: str) -> BaseSpec:
    """Validate YAML-style fields (lists, ints for floats, aliases) into the family's spec."""
    try:
        fields = family.expand_aliases(fields)
        allowed = {f.name for f in dataclasses.fields(family.spec_type)}
        for key in fields:
            if key not in allowed:
                options = sorted(allowed | family.alias_keys | {"name", "preset"})
                raise SpecError(
                    str(key), f"unknown key for family {family.name}; allowed: {', '.join(options)}"
                )
        for field in dataclasses.fields(family.spec_type):
            required = (
                field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING
            )
            if required and field.name not in fields:
                raise SpecError(field.name, f"is required for family {family.name}")
        hints = typing.get_type_hints(family.spec_type)
        return family.spec_type(**{k: _coerce(v, hints[k]) for k, v in fields.items()})
    except SpecError as error:
        raise ConfigError(f"{origin}: {error}") from None


def _coerce(value: Any, hint: Any) -> Any:
    """YAML lists become tuples and integers become floats where the spec wants them."""
    if typing.get_origin(hint) is tuple and isinstance(value, list):
        item = typing.get_args(hint)[0]
        return tuple(_coerce(v, item) for v in value)
    if hint is float and isinstance(value, int) and is_finite_number(value):
        return float(value)
    return value


def dump(model: ModelConfig) -> str:
    """YAML text for a model that `load` reads back to an equal spec."""
    from scalecalc.yamlfile import dump_mapping

    return dump_mapping({"name": model.name, **model.spec.to_dict()})
