"""Sweeps: base models × scaling strategies × flops factors or flops targets, expanded into
the models they name, each with a stable key."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from scalecalc.config import ModelConfig, load
from scalecalc.durations import format_seconds
from scalecalc.errors import ConfigError, shown

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


def expand(sweep: Sweep, origin: str | None = None) -> list[Entry]:
    """Every model of the sweep with a stable key, in order: per base, the base, then each
    strategy's factors, flops targets and target factors (each ascending)."""
    entries: list[Entry] = []
    owners: dict[str, str] = {}
    for source in sweep.bases:
        label = key_label(origin, "bases")
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


def key_label(origin: str | None, key: str) -> str:
    """A sweep key as errors name it: `origin: key` for a file, the option for the command line."""
    return f"{origin}: {file_key(key)}" if origin else OPTION_NAMES[key]


def file_key(key: str) -> str:
    """A sweep's field as a sweep file spells it."""
    return "target_time" if key == "target_times" else key
