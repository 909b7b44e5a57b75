"""Sweeps: base models × scaling strategies × flops factors or flops targets, from YAML."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scalecalc.config import ModelConfig, is_path, load, preset_names, read_yaml
from scalecalc.costs import CONVENTIONS
from scalecalc.durations import format_seconds, parse_seconds
from scalecalc.errors import ConfigError, ScalecalcError, shown
from scalecalc.inputs import is_finite_number
from scalecalc.registry import list_presets
from scalecalc.scaling import parse_strategy, parse_strategy_list
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
# How the command line spells each key, for errors about options.
OPTION_NAMES = {
    "bases": "CONFIG",
    "strategies": "--strategies",
    "factors": "--factors",
    "target_flops": "--target-flops",
    "target_factors": "--target-factor",
    "convention": "--convention",
    "target_times": "--target-time",
    "target_time_factors": "--target-time-factor",
}
# Models in one sweep: each is scaled and counted, so this bounds a sweep's work and output.
MAX_SWEEP_MODELS = 10_000


@dataclass(frozen=True)
class Sweep:
    """What `scalecalc compare` runs: every base with every strategy at every factor, flops
    target, and flops target given as a multiple of the base's flops."""

    bases: tuple[str, ...]
    strategies: tuple[str, ...]
    factors: tuple[float, ...] = ()
    target_flops: tuple[int, ...] = ()
    target_factors: tuple[float, ...] = ()
    convention: str = "paper"
    target_times: tuple[float, ...] = ()  # seconds: per image, or per run with --epochs
    target_time_factors: tuple[float, ...] = ()  # multiples of the base's predicted time


# The built-in default sweep; configs/sweeps/default.yaml holds the same (a test keeps them equal).
# It lives in code so that `scalecalc compare` works from any folder and from a wheel. Each
# strategy is solved for 2 to 16 times its base's flops, so that its models compare at equal
# flops (a nominal factor lands each strategy elsewhere).
DEFAULT_SWEEP = Sweep(
    bases=("regnety_4gf", "resnet50", "vit_b16", "convnext_t", "efficientnet_b0"),
    strategies=("w", "d", "r", "dw", "dwr", "dWr"),
    target_factors=(2.0, 4.0, 8.0, 16.0),
)

# What `scalecalc bench` runs by default, small enough for a CPU: 9 models from 0.4 to 1.6 GF,
# about 17 s at batch 8 on an idle 2-core CPU (docs/benchmarks.md, Bench on a CPU).
BENCH_SWEEP = Sweep(bases=("regnety_400mf",), strategies=("w", "d", "r", "dWr"), factors=(2.0, 4.0))


@dataclass(frozen=True)
class Entry:
    """One model of an expanded sweep: a base, or a base scaled by a factor, to a flops target,
    or to a multiple of its own flops (`target_factor`)."""

    key: str
    model: ModelConfig
    strategy: str | None = None
    factor: float | None = None
    target_flops: int | None = None
    target_factor: float | None = None
    target_time: float | None = None
    target_time_factor: float | None = None


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
    label = functools.partial(_label, origin)
    sweep = Sweep(
        bases=_strings(bases, label("bases")),
        strategies=_strategies(strategies, label("strategies")),
        factors=_factors(factors, label("factors")),
        target_flops=_targets(target_flops, label("target_flops")),
        target_factors=_factors(target_factors, label("target_factors")),
        convention=_convention(convention, label("convention")),
        target_times=_times(target_times, label("target_times")),
        target_time_factors=_factors(target_time_factors, label("target_time_factors")),
    )
    return _checked(sweep, origin)


def _checked(sweep: Sweep, origin: str | None) -> Sweep:
    """`sweep` if it has a goal and is not too large; ConfigError naming `origin` otherwise."""
    if not any(getattr(sweep, key) for key in GOAL_KEYS):
        if origin:
            keys = ", ".join(repr(_file_key(key)) for key in GOAL_KEYS)
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


def expand(sweep: Sweep, origin: str | None = None) -> list[Entry]:
    """Every model of the sweep with a stable key, in order: per base, the base, then each
    strategy's factors, flops targets and target factors (each ascending)."""
    entries: list[Entry] = []
    owners: dict[str, str] = {}
    for source in sweep.bases:
        label = _label(origin, "bases")
        model = load(source, label if origin else None)
        if model.name in owners:
            raise ConfigError(
                f"{label}: {shown(owners[model.name])} and {shown(source)} are both named "
                f"{shown(model.name)}; give one a 'name:'"
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
            for multiple in sweep.target_factors:
                key = f"{model.name}/{strategy}/@{multiple:g}x"
                entries.append(Entry(key, model, strategy, target_factor=multiple))
            for seconds in sweep.target_times:
                key = f"{model.name}/{strategy}/@{format_seconds(seconds)}"
                entries.append(Entry(key, model, strategy, target_time=seconds))
            for multiple in sweep.target_time_factors:
                key = f"{model.name}/{strategy}/@{multiple:g}xT"
                entries.append(Entry(key, model, strategy, target_time_factor=multiple))
    duplicate = first_duplicate(entry.key for entry in entries)
    if duplicate is not None:
        raise ConfigError(f"{origin or 'sweep'}: two entries have the key {shown(duplicate)}")
    return entries


def _split(values: list[str] | None) -> list[str] | None:
    """Repeated and comma-separated option values as one list (None when not given)."""
    if values is None:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _number(text: str) -> float | str:
    # Left as text when it is not a number, so the sweep's validation names the option.
    try:
        return float(text)
    except ValueError:
        return text


def sweep_from_options(
    default: Sweep,
    sweep_file: Path | None,
    configs: list[str] | None,
    strategies: list[str] | None,
    factors: list[str] | None,
    target_flops: list[str] | None,
    target_factors: list[str] | None,
    convention: str | None,
    target_times: list[str] | None = None,
    target_time_factors: list[str] | None = None,
) -> tuple[Sweep, list[Entry]]:
    """`default` (or --sweep FILE) with the parts given on the command line replaced, expanded."""
    start = default if sweep_file is None else read_sweep(sweep_file)
    # What the command line gives replaces the file's (or the default's), which were parsed
    # and checked once already: `target_flops: [500K]` is 500000 now, no longer text.
    sweep = start
    if configs:
        sweep = dataclasses.replace(sweep, bases=_strings(configs, "CONFIG"))
    if strategies is not None:
        parsed = parse_strategy_list(strategies, "--strategies")
        sweep = dataclasses.replace(sweep, strategies=_strategies(parsed, "--strategies"))
    # Any of the goals given replaces all of them.
    goals = (factors, target_flops, target_factors, target_times, target_time_factors)
    if any(goal is not None for goal in goals):
        sweep = dataclasses.replace(
            sweep,
            factors=_factors([_number(f) for f in _split(factors) or []], "--factors"),
            target_flops=_targets(_split(target_flops) or [], "--target-flops"),
            target_factors=_factors(
                [_number(f) for f in _split(target_factors) or []], "--target-factor"
            ),
            target_times=_times(_split(target_times) or [], "--target-time"),
            target_time_factors=_factors(
                [_number(f) for f in _split(target_time_factors) or []], "--target-time-factor"
            ),
        )
    if convention is not None:
        sweep = dataclasses.replace(sweep, convention=_convention(convention, "--convention"))
    sweep = _checked(sweep, None)
    return sweep, expand(sweep, None if sweep_file is None or configs else str(sweep_file))


def check_entries(
    sources: list[str], presets: bool, convention: str | None
) -> tuple[list[Entry], str]:
    """What `scalecalc check` recounts: the entries of the sweeps and models named (the default
    sweep when none are), and every preset with `presets`, in order and without repeats; and
    the convention to count with (given, else the sweeps' own)."""
    if convention is not None:
        _convention(convention, "--convention")
    entries: list[tuple[Entry, str]] = []
    conventions: dict[str, str] = {}
    if not sources:
        entries += [(e, "the default sweep") for e in expand(DEFAULT_SWEEP)]
        conventions["the default sweep"] = DEFAULT_SWEEP.convention
    for source in sources:
        if _is_sweep_file(source):
            sweep = read_sweep(source)
            entries += [(e, source) for e in expand(sweep, source)]
            conventions[source] = sweep.convention
        else:
            model = load(source)
            entries.append((Entry(f"{model.name}/base", model), source))
    if presets:
        entries += [(Entry(f"{name}/base", load(name)), "--presets") for name in list_presets()]
    if convention is None:
        found = set(conventions.values())
        if len(found) > 1:
            listed = ", ".join(f"{where}: {name}" for where, name in conventions.items())
            raise ConfigError(f"the sweeps use different conventions ({listed}); pass --convention")
        convention = found.pop() if found else "paper"
    return _unique(entries), convention


def _is_sweep_file(source: str) -> bool:
    """Whether `source` is a sweep file: a YAML mapping with a `bases` or `strategies` key."""
    if source in preset_names() or Path(source).suffix not in (".yaml", ".yml"):
        return False
    data = read_yaml(Path(source))
    return isinstance(data, dict) and ("bases" in data or "strategies" in data)


def _unique(entries: list[tuple[Entry, str]]) -> list[Entry]:
    """Entries with repeats dropped; one key for two different models is an error."""
    seen: dict[str, tuple[Entry, str]] = {}
    for entry, where in entries:
        if entry.key in seen:
            first, first_where = seen[entry.key]
            if first != entry:
                raise ConfigError(
                    f"{where}: entry {shown(entry.key)} is also defined, differently, by "
                    f"{first_where}; "
                    "give one model another 'name:'"
                )
            continue
        seen[entry.key] = (entry, where)
    return [entry for entry, _ in seen.values()]


def first_duplicate(items: Iterable[Hashable]) -> Hashable | None:
    """The first item that appeared before, or None (linear time, for lists of any length)."""
    seen: set[Hashable] = set()
    for item in items:
        if item in seen:
            return item
        seen.add(item)
    return None


def format_count(value: int) -> str:
    """A count with an SI suffix for keys and labels: 16000000000 -> '16G'."""
    for suffix, scale in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if value >= scale:
            return f"{value / scale:.6g}{suffix}"
    return str(value)


def _label(origin: str | None, key: str) -> str:
    return f"{origin}: {_file_key(key)}" if origin else OPTION_NAMES[key]


def _as_list(value: Any) -> Any:
    # A lone scalar (`factors: 4`) is a one-item list; anything else is checked as given.
    scalar = isinstance(value, (int, float, str)) and not isinstance(value, bool)
    return [value] if scalar else value


def _strings(value: Any, label: str) -> tuple[str, ...]:
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


def _targets(value: Any, label: str) -> tuple[int, ...]:
    return _quantities(value, label, parse_count, format_count, "[8G, 16G]", "target")


def _times(value: Any, label: str) -> tuple[float, ...]:
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


def _file_key(key: str) -> str:
    """A sweep's field as a sweep file spells it."""
    return "target_time" if key == "target_times" else key


def _refuse_mixed_goals(sweep: Sweep, origin: str | None) -> None:
    """ConfigError if the sweep asks both at equal flops and at equal time."""
    times = [k for k in TIME_GOALS if getattr(sweep, k)]
    flops = [k for k in GOAL_KEYS if k not in TIME_GOALS and getattr(sweep, k)]
    if times and flops:
        name = (lambda k: repr(_file_key(k))) if origin else (lambda k: OPTION_NAMES[k])
        raise ConfigError(
            f"{origin + ': ' if origin else ''}{name(times[0])} conflicts with {name(flops[0])}: a "
            "comparison is at equal predicted time or at equal flops; give one"
        )


def _convention(value: Any, label: str) -> str:
    if not isinstance(value, str) or value not in CONVENTIONS:
        raise ConfigError(f"{label}: {shown(value)} is not one of {', '.join(CONVENTIONS)}")
    return value
