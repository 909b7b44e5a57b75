"""Equal-time goals of a sweep: what predicted time each strategy is grown to, and solving it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scalecalc.compare.annotations import Annotation
from scalecalc.durations import format_seconds
from scalecalc.errors import ConfigError
from scalecalc.families.spec import BaseSpec
from scalecalc.profile.model import Profile
from scalecalc.compare.run_cost import RunSetting
from scalecalc.time_solver import TOLERANCE, predicted_seconds, solve_time

if TYPE_CHECKING:
    from scalecalc.compare.run import CompareRow
    from scalecalc.sweep import Entry, Sweep
    from scalecalc.sweep_options import SweepOptions

KINDS = ("target_time", "target_time_factor")


@dataclass(frozen=True)
class TimeGoal:
    """A row's goal: `kind` (a time, or a multiple of the base's predicted time), the value
    given (seconds per image, seconds per run with a run setting, or the multiple) and the
    predicted seconds per image it comes to."""

    kind: str
    value: float
    seconds_per_image: float
    per_run: bool = False

    @property
    def label(self) -> str:
        """How tables name the goal: @0.8ms, @72h, @4xT."""
        if self.kind == "target_time_factor":
            return f"@{self.value:g}xT"
        return f"@{format_seconds(self.value)}"


@dataclass
class Timing:
    """What time goals are solved with: a device profile and, for run budgets, a run setting.
    Predicted times are kept by spec, so each model is predicted once."""

    profile: Profile
    run: RunSetting | None = None
    _seconds: dict[BaseSpec, float] = field(default_factory=dict)

    def seconds(self, spec: BaseSpec) -> float:
        """Predicted seconds per image of `spec`."""
        if spec not in self._seconds:
            self._seconds[spec] = predicted_seconds(self.profile, spec)
        return self._seconds[spec]

    def goal(self, entry: Entry) -> TimeGoal:
        """The entry's goal in predicted seconds per image."""
        if entry.target_time_factor is not None:
            base = self.seconds(entry.model.spec)
            factor = entry.target_time_factor
            return TimeGoal("target_time_factor", factor, base * factor)
        assert entry.target_time is not None
        if self.run is None:
            return TimeGoal("target_time", entry.target_time, entry.target_time)
        per_image = self.run.per_image(entry.target_time)
        return TimeGoal("target_time", entry.target_time, per_image, per_run=True)

    def solve(self, entry: Entry, goal: TimeGoal) -> tuple[BaseSpec, float]:
        """The entry's spec grown to its goal and the factor used; StrategyError if missed."""
        assert entry.strategy is not None
        solution = solve_time(
            entry.model.spec, entry.strategy, goal.seconds_per_image, self.profile, self.seconds
        )
        return solution.spec, solution.factor


def is_time_entry(entry: Entry) -> bool:
    """Whether the entry is scaled to a time goal."""
    return entry.target_time is not None or entry.target_time_factor is not None


def time_goal(entry: Entry, timing: Timing | None) -> TimeGoal | None:
    """The entry's time goal, None if it has none; ConfigError if it needs a profile."""
    if not is_time_entry(entry):
        return None
    if timing is None:
        raise ConfigError("a time goal needs a device profile (--profile)")
    return timing.goal(entry)


def goal_annotation(
    rows: Sequence[CompareRow], predicted: Mapping[str, float], timing: Timing
) -> Annotation:
    """Each time-goal row's goal and predicted time over it (from -3% to 0%); the note says
    what the goals mean."""
    found = {
        row.key: (row.time_goal, predicted[row.key] / row.time_goal.seconds_per_image)
        for row in rows
        if row.time_goal is not None
    }
    run = timing.run
    budget = "" if run is None else f"; a time goal is the budget of {run.describe()}"
    return Annotation(
        name="time_goal",
        headers=("time / goal",),
        csv_columns=("time_goal_kind", "time_goal_value", "time_goal_s_per_image"),
        cells={key: (f"{ratio:.3f}",) for key, (_goal, ratio) in found.items()},
        csv_values={
            key: (goal.kind, goal.value, goal.seconds_per_image)
            for key, (goal, _ratio) in found.items()
        },
        records={
            key: {
                "kind": goal.kind,
                "value": goal.value,
                "per_run": goal.per_run,
                "seconds_per_image": goal.seconds_per_image,
                "time_vs_goal": ratio,
            }
            for key, (goal, ratio) in found.items()
        },
        note=(
            f"Equal time: each strategy grown until its time per image predicted by "
            f"{timing.profile.name} ({timing.profile.setting.describe()}) is within "
            f"-{TOLERANCE:.0%}…0% of the goal (@4xT: 4× the base's own){budget}."
        ),
    )


def timing(
    sweep: Sweep, options: SweepOptions, profile: Profile | None, run: RunSetting | None
) -> Timing | None:
    """What time goals and run hours are predicted with; ConfigError naming the option (or the
    sweep file's key) that needs --profile."""
    needs = []
    from_file = not options.goals_given and options.sweep_file is not None
    if sweep.target_times:
        needs.append(f"{options.sweep_file}: target_time" if from_file else "--target-time")
    if sweep.target_time_factors:
        key = "target_time_factors"
        needs.append(f"{options.sweep_file}: {key}" if from_file else "--target-time-factor")
    if run is not None:
        needs.append("--epochs")
    if profile is None:
        if needs:
            raise ConfigError(
                f"{needs[0]}: needs --profile NAME|FILE (times are predicted by a device profile)"
            )
        return None
    return Timing(profile, run)


def mode_mismatch(profile: Profile | None, train: bool, inference: bool) -> str | None:
    """A warning when the profile predicts inference but the question is training (a run, a
    training step's memory) or the reverse; None when they agree or nothing asks."""
    if profile is None or not (train or inference):
        return None
    asked = "train" if train else "inference"
    if profile.setting.mode == asked:
        return None
    question = "a training run" if train else "inference"
    return (
        f"--profile {profile.name} predicts {profile.setting.describe()}, but the question is "
        f"{question}; its times are used as they are"
    )
