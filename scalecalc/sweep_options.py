"""The sweep as the command line asks for it: a sweep file or a default, with parts replaced."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from scalecalc.scaling import parse_strategy_list
from scalecalc.sweep import Entry, Sweep, expand
from scalecalc.sweep_file import (
    read_sweep,
    valid_convention,
    valid_factors,
    valid_flops_targets,
    valid_strategies,
    valid_strings,
    valid_sweep,
    valid_times,
)


@dataclass(frozen=True)
class SweepOptions:
    """The sweep options of `compare` and `bench`, as given (None: not given). Repeated and
    comma-separated values are lists of text, checked when the sweep is made."""

    configs: list[str] | None = None
    sweep_file: Path | None = None
    strategies: list[str] | None = None
    factors: list[str] | None = None
    target_flops: list[str] | None = None
    target_factors: list[str] | None = None
    target_times: list[str] | None = None
    target_time_factors: list[str] | None = None
    convention: str | None = None

    @property
    def goals_given(self) -> bool:
        """Whether the command line gives what each strategy is scaled to."""
        goals = (
            self.factors,
            self.target_flops,
            self.target_factors,
            self.target_times,
            self.target_time_factors,
        )
        return any(goal is not None for goal in goals)

    @property
    def inputs(self) -> list[str | Path]:
        """The files the sweep reads that no output may replace: the configs and the sweep."""
        return [*(self.configs or []), *([self.sweep_file] if self.sweep_file is not None else [])]


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


def _numbers(values: list[str] | None) -> list[float | str]:
    return [_number(value) for value in _split(values) or []]


def sweep_from_options(default: Sweep, options: SweepOptions) -> tuple[Sweep, list[Entry]]:
    """`default` (or --sweep FILE) with the parts given on the command line replaced, expanded."""
    sweep_file, configs = options.sweep_file, options.configs
    start = default if sweep_file is None else read_sweep(sweep_file)
    # What the command line gives replaces the file's (or the default's), which were parsed
    # and checked once already: `target_flops: [500K]` is 500000 now, no longer text.
    sweep = start
    if configs:
        sweep = dataclasses.replace(sweep, bases=valid_strings(configs, "CONFIG"))
    if options.strategies is not None:
        parsed = parse_strategy_list(options.strategies, "--strategies")
        sweep = dataclasses.replace(sweep, strategies=valid_strategies(parsed, "--strategies"))
    # Any of the goals given replaces all of them.
    if options.goals_given:
        sweep = dataclasses.replace(
            sweep,
            factors=valid_factors(_numbers(options.factors), "--factors"),
            target_flops=valid_flops_targets(_split(options.target_flops) or [], "--target-flops"),
            target_factors=valid_factors(_numbers(options.target_factors), "--target-factor"),
            target_times=valid_times(_split(options.target_times) or [], "--target-time"),
            target_time_factors=valid_factors(
                _numbers(options.target_time_factors), "--target-time-factor"
            ),
        )
    if options.convention is not None:
        convention = valid_convention(options.convention, "--convention")
        sweep = dataclasses.replace(sweep, convention=convention)
    sweep = valid_sweep(sweep, None)
    return sweep, expand(sweep, None if sweep_file is None or configs else str(sweep_file))
