"""Reading and validating sweeps: a sweep file's keys, each value's rules, one-line errors."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scalecalc.config import is_path, preset_names
from scalecalc.costs import CONVENTIONS
from scalecalc.durations import format_seconds, parse_seconds
from scalecalc.errors import ConfigError, ScalecalcError, shown
from scalecalc.inputs import is_finite_number
from scalecalc.scaling import parse_strategy
from scalecalc.sweep import OPTION_NAMES, Sweep, file_key, first_duplicate, format_count, key_label
from scalecalc.units import parse_count

SWEEP_KEYS = (
    "bases",
    "strategies",
    "factors",
    "target_flops",
    "target_factors",
    "convention",
    "target_time",
    "target_time_factors",
)
# Keys of which a sweep needs at least one: what each strategy is scaled to.
GOAL_KEYS = ("factors", "target_flops", "target_factors", "target_times", "target_time_factors")
# A sweep asks at equal flops or at equal predicted time, never both.
TIME_GOALS = ("target_times", "target_time_factors")
# Models in one sweep: each is scaled and counted, so this bounds a sweep's work and output.
MAX_SWEEP_MODELS = 10_000


def make_sweep(
    bases: Any,
    strategies: Any,
    factors: Any = (),
    target_flops: Any = (),
    target_factors: Any = (),
    convention: Any = "paper",
    origin: str | None = None,
    target_times: Any = (),
    target_time_factors: Any = (),
) -> Sweep:
    """A validated Sweep; errors are one line naming `origin` (a file; None for the command
    line), the key (or option) and what is allowed."""
    label = functools.partial(key_label, origin)
    sweep = Sweep(
        bases=valid_strings(bases, label("bases")),
        strategies=valid_strategies(strategies, label("strategies")),
        factors=valid_factors(factors, label("factors")),
        target_flops=valid_flops_targets(target_flops, label("target_flops")),
        target_factors=valid_factors(target_factors, label("target_factors")),
        convention=valid_convention(convention, label("convention")),
        target_times=valid_times(target_times, label("target_times")),
        target_time_factors=valid_factors(target_time_factors, label("target_time_factors")),
    )
    return valid_sweep(sweep, origin)


def valid_sweep(sweep: Sweep, origin: str | None) -> Sweep:
    """`sweep` if it has a goal and is not too large; ConfigError naming `origin` otherwise."""
    if not any(getattr(sweep, key) for key in GOAL_KEYS):
        if origin:
            keys = ", ".join(repr(file_key(key)) for key in GOAL_KEYS)
            raise ConfigError(f"{origin}: needs at least one of {keys}")
        raise ConfigError(
            "give at least one of --factors, --target-flops, --target-factor, --target-time, "
            "--target-time-factor"
        )
    _refuse_mixed_goals(sweep, origin)
    per_base = 1 + len(sweep.strategies) * sum(len(getattr(sweep, key)) for key in GOAL_KEYS)
    if len(sweep.bases) * per_base > MAX_SWEEP_MODELS:
        raise ConfigError(
            f"{origin or 'sweep'}: {len(sweep.bases)} bases x {per_base} models each is "
            f"{len(sweep.bases) * per_base} models; at most {MAX_SWEEP_MODELS} are run at once"
        )
    return sweep


def read_sweep(path: str | Path) -> Sweep:
    """A sweep from a YAML file; relative base paths resolve against the file's folder."""
    from scalecalc.yamlfile import read_yaml

    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        keys = ", ".join(SWEEP_KEYS)
        raise ConfigError(f"{path}: expected a mapping with keys {keys}, got {kind}")
    for key in data:
        if key not in SWEEP_KEYS:
            raise ConfigError(f"{path}: unknown key {shown(key)}; allowed: {', '.join(SWEEP_KEYS)}")
    for key in ("bases", "strategies"):
        if key not in data:
            raise ConfigError(f"{path}: missing key {key!r}")
    sweep = make_sweep(
        data["bases"],
        data["strategies"],
        _as_list(data.get("factors", [])),
        _as_list(data.get("target_flops", [])),
        _as_list(data.get("target_factors", [])),
        data.get("convention", "paper"),
        origin=str(path),
        target_times=_as_list(data.get("target_time", [])),
        target_time_factors=_as_list(data.get("target_time_factors", [])),
    )
    folder = path.parent
    bases = tuple(
        b if b in preset_names() or not is_path(b) or Path(b).is_absolute() else str(folder / b)
        for b in sweep.bases
    )
    return dataclasses.replace(sweep, bases=bases)


def _as_list(value: Any) -> Any:
    # A lone scalar (`factors: 4`) is a one-item list; anything else is checked as given.
    scalar = isinstance(value, (int, float, str)) and not isinstance(value, bool)
    return [value] if scalar else value


def valid_strings(value: Any, label: str) -> tuple[str, ...]:
    """Non-empty, distinct strings (a lone string is a list of one), stripped."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise ConfigError(f"{label}: must be a non-empty list, got {shown(value)}")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(f"{label}: entries must be non-empty strings, got {shown(item)}")
    items = [item.strip() for item in value]
    duplicate = first_duplicate(items)
    if duplicate is not None:
        raise ConfigError(f"{label}: {shown(duplicate)} appears twice")
    return tuple(items)


def valid_strategies(value: Any, label: str) -> tuple[str, ...]:
    """Strategy names in the grammar, distinct, as their canonical names."""
    names = []
    for text in valid_strings(value, label):
        try:
            names.append(parse_strategy(text).name)
        except ScalecalcError as error:
            raise ConfigError(f"{label}: {error}") from None
    return tuple(names)


def valid_factors(value: Any, label: str) -> tuple[float, ...]:
    """Finite numbers > 0, distinct, ascending."""
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{label}: must be a list of numbers > 0, got {shown(value)}")
    factors = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise ConfigError(f"{label}: {shown(item)} is not a number; factors must be > 0")
        if not is_finite_number(item) or item <= 0:
            raise ConfigError(f"{label}: {shown(item)} must be a finite number > 0")
        factors.append(float(item))
    duplicate = first_duplicate(factors)
    if duplicate is not None:
        raise ConfigError(f"{label}: factor {duplicate:g} appears twice")
    return tuple(sorted(factors))


def valid_flops_targets(value: Any, label: str) -> tuple[int, ...]:
    """Flops counts (500K, 16G), distinct, ascending."""
    return _quantities(value, label, parse_count, format_count, "[8G, 16G]", "target")


def valid_times(value: Any, label: str) -> tuple[float, ...]:
    """Durations with a unit (0.8ms, 72h) in seconds, distinct, ascending."""
    return _quantities(value, label, parse_seconds, format_seconds, "[0.8ms, 72h]", "time")


def _quantities(
    value: Any,
    label: str,
    parse: Callable[[Any, str], Any],
    show: Callable[[Any], str],
    example: str,
    noun: str,
) -> tuple[Any, ...]:
    """A list of values with units, each parsed, without repeats, ascending."""
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{label}: must be a list such as {example}, got {shown(value)}")
    items = [parse(item, label) for item in value]
    duplicate = first_duplicate(items)
    if duplicate is not None:
        raise ConfigError(f"{label}: {noun} {show(duplicate)} appears twice")
    return tuple(sorted(items))


def _refuse_mixed_goals(sweep: Sweep, origin: str | None) -> None:
    """ConfigError if the sweep asks both at equal flops and at equal time."""
    times = [k for k in TIME_GOALS if getattr(sweep, k)]
    flops = [k for k in GOAL_KEYS if k not in TIME_GOALS and getattr(sweep, k)]
    if times and flops:
        name = (lambda k: repr(file_key(k))) if origin else (lambda k: OPTION_NAMES[k])
        raise ConfigError(
            f"{origin + ': ' if origin else ''}{name(times[0])} conflicts with {name(flops[0])}: a "
            "comparison is at equal predicted time or at equal flops; give one"
        )


def valid_convention(value: Any, label: str) -> str:
    """One of the flops conventions."""
    if not isinstance(value, str) or value not in CONVENTIONS:
        raise ConfigError(f"{label}: {shown(value)} is not one of {', '.join(CONVENTIONS)}")
    return value
