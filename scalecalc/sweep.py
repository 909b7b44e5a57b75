"""Sweeps: base models × scaling strategies × flops factors (or flops targets), from YAML."""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scalecalc.config import ModelConfig, load as load_model, read_yaml, spec_from_fields
from scalecalc.counting import CONVENTIONS
from scalecalc.errors import ConfigError, ScalecalcError
from scalecalc.registry import preset_family
from scalecalc.scaling import parse_strategy
from scalecalc.units import parse_count

SWEEP_KEYS = ("bases", "strategies", "factors", "target_flops", "convention")
# How the command line spells each key, for errors about options.
OPTION_NAMES = {
    "bases": "CONFIG",
    "strategies": "--strategies",
    "factors": "--factors",
    "target_flops": "--target-flops",
    "convention": "--convention",
}


@dataclass(frozen=True)
class Sweep:
    """What `scalecalc compare` runs: every base with every strategy at every factor or target."""

    bases: tuple[str, ...]
    strategies: tuple[str, ...]
    factors: tuple[float, ...] = ()
    target_flops: tuple[int, ...] = ()
    convention: str = "paper"


# The built-in default sweep; configs/sweeps/default.yaml holds the same (a test keeps them equal).
# It lives in code so that `scalecalc compare` works from any folder and from a wheel.
DEFAULT_SWEEP = Sweep(
    bases=("regnety_4gf", "resnet50", "vit_b16", "convnext_t", "efficientnet_b0"),
    strategies=("w", "d", "r", "dw", "dwr", "dWr"),
    factors=(2.0, 4.0, 8.0, 16.0),
)


@dataclass(frozen=True)
class Entry:
    """One model of an expanded sweep: a base, or a base scaled by a factor or to a target."""

    key: str
    model: ModelConfig
    strategy: str | None = None
    factor: float | None = None
    target_flops: int | None = None


def make_sweep(
    bases: Any,
    strategies: Any,
    factors: Any = (),
    target_flops: Any = (),
    convention: Any = "paper",
    origin: str | None = None,
) -> Sweep:
    """A validated Sweep; errors are one line naming `origin` (a file; None for the command
    line), the key (or option) and what is allowed."""
    label = functools.partial(_label, origin)
    sweep = Sweep(
        bases=_strings(bases, label("bases")),
        strategies=_strategies(strategies, label("strategies")),
        factors=_factors(factors, label("factors")),
        target_flops=_targets(target_flops, label("target_flops")),
        convention=_convention(convention, label("convention")),
    )
    if not sweep.factors and not sweep.target_flops:
        if origin:
            raise ConfigError(f"{origin}: needs at least one of 'factors' or 'target_flops'")
        raise ConfigError("give --factors, --target-flops or both")
    return sweep


def read_sweep(path: str | Path) -> Sweep:
    """A sweep from a YAML file; relative base paths resolve against the file's folder."""
    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        keys = ", ".join(SWEEP_KEYS)
        raise ConfigError(f"{path}: expected a mapping with keys {keys}, got {kind}")
    for key in data:
        if key not in SWEEP_KEYS:
            raise ConfigError(f"{path}: unknown key {key!r}; allowed: {', '.join(SWEEP_KEYS)}")
    for key in ("bases", "strategies"):
        if key not in data:
            raise ConfigError(f"{path}: missing key {key!r}")
    sweep = make_sweep(
        data["bases"],
        data["strategies"],
        _as_list(data.get("factors", [])),
        _as_list(data.get("target_flops", [])),
        data.get("convention", "paper"),
        origin=str(path),
    )
    folder = path.parent
    bases = tuple(
        str(folder / b) if _is_path(b) and not Path(b).is_absolute() else b for b in sweep.bases
    )
    return dataclasses.replace(sweep, bases=bases)


def load_base(source: str, origin: str | None = None) -> ModelConfig:
    """A base model: a YAML path, or a preset name (never a file of that name in the cwd)."""
    prefix = f"{origin}: " if origin else ""
    try:
        if _is_path(source):
            return load_model(source)
        family = preset_family(source)
    except ConfigError as error:
        hint = "" if _is_path(source) else " (or a path ending in .yaml)"
        raise ConfigError(f"{prefix}{error}{hint}") from None
    return ModelConfig(source, spec_from_fields(family, dict(family.presets[source]), source))


def expand(sweep: Sweep, origin: str | None = None) -> list[Entry]:
    """Every model of the sweep with a stable key, in order: per base, the base, then each
    strategy's factors (ascending), then its flops targets (ascending)."""
    entries: list[Entry] = []
    owners: dict[str, str] = {}
    for source in sweep.bases:
        label = _label(origin, "bases")
        model = load_base(source, label if origin else None)
        if model.name in owners:
            raise ConfigError(
                f"{label}: {owners[model.name]!r} and {source!r} are both named "
                f"{model.name!r}; give one a 'name:'"
            )
        owners[model.name] = source
        entries.append(Entry(f"{model.name}/base", model))
        for strategy in sweep.strategies:
            for factor in sweep.factors:
                key = f"{model.name}/{strategy}/x{factor:g}"
                entries.append(Entry(key, model, strategy, factor=factor))
            for target in sweep.target_flops:
                key = f"{model.name}/{strategy}/@{format_count(target)}"
                entries.append(Entry(key, model, strategy, target_flops=target))
    keys = [entry.key for entry in entries]
    if len(set(keys)) != len(keys):
        duplicate = next(k for k in keys if keys.count(k) > 1)
        raise ConfigError(f"{origin or 'sweep'}: two entries have the key {duplicate!r}")
    return entries


def format_count(value: int) -> str:
    """A count with an SI suffix for keys and labels: 16000000000 -> '16G'."""
    for suffix, scale in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if value >= scale:
            return f"{value / scale:.6g}{suffix}"
    return str(value)


def _label(origin: str | None, key: str) -> str:
    return f"{origin}: {key}" if origin else OPTION_NAMES[key]


def _is_path(source: str) -> bool:
    return source.endswith((".yaml", ".yml")) or "/" in source or "\\" in source


def _as_list(value: Any) -> Any:
    # A lone scalar (`factors: 4`) is a one-item list; anything else is checked as given.
    scalar = isinstance(value, (int, float, str)) and not isinstance(value, bool)
    return [value] if scalar else value


def _strings(value: Any, label: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise ConfigError(f"{label}: must be a non-empty list, got {value!r}")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(f"{label}: entries must be non-empty strings, got {item!r}")
    items = [item.strip() for item in value]
    if len(set(items)) != len(items):
        duplicate = next(v for v in items if items.count(v) > 1)
        raise ConfigError(f"{label}: {duplicate!r} appears twice")
    return tuple(items)


def _strategies(value: Any, label: str) -> tuple[str, ...]:
    names = []
    for text in _strings(value, label):
        try:
            names.append(parse_strategy(text).name)
        except ScalecalcError as error:
            raise ConfigError(f"{label}: {error}") from None
    return tuple(names)


def _factors(value: Any, label: str) -> tuple[float, ...]:
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{label}: must be a list of numbers > 0, got {value!r}")
    factors = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise ConfigError(f"{label}: {item!r} is not a number; factors must be > 0")
        if not math.isfinite(item) or item <= 0:
            raise ConfigError(f"{label}: {item!r} must be a finite number > 0")
        factors.append(float(item))
    if len(set(factors)) != len(factors):
        raise ConfigError(f"{label}: {value!r} has a factor twice")
    return tuple(sorted(factors))


def _targets(value: Any, label: str) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{label}: must be a list such as [8G, 16G], got {value!r}")
    targets = [parse_count(item, label) for item in value]
    if len(set(targets)) != len(targets):
        raise ConfigError(f"{label}: {value!r} has a target twice")
    return tuple(sorted(targets))


def _convention(value: Any, label: str) -> str:
    if value not in CONVENTIONS:
        raise ConfigError(f"{label}: {value!r} is not one of {', '.join(CONVENTIONS)}")
    return value
