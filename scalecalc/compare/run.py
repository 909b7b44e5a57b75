"""Run a sweep into row records (raw integers) and fit cost exponents: the data of `compare`."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scalecalc.costs import Costs
from scalecalc.errors import ConfigError, ScalecalcError
from scalecalc.families.spec import BaseSpec
from scalecalc.scaling import parse_strategy
from scalecalc.sweep import Entry
from scalecalc.compare.time_goals import TimeGoal, Timing, time_goal


@dataclass(frozen=True)
class CompareRow:
    """One counted model of a sweep, with the counts of its base for ratios. A row scaled to a
    multiple of its base's flops has that `target_factor` and the `target_flops` it means."""

    key: str
    base: str
    family: str
    strategy: str | None
    factor: float
    target_flops: int | None
    target_factor: float | None
    convention: str
    spec: BaseSpec
    costs: Costs
    base_costs: Costs
    time_goal: TimeGoal | None = None  # scaled to a predicted time instead of flops

    @property
    def depths(self) -> tuple[int, ...]:
        """Blocks per stage (a ViT has one stage of `num_layers` blocks)."""
        return tuple(getattr(self.spec, "depths", None) or (getattr(self.spec, "num_layers"),))

    @property
    def widths(self) -> tuple[int, ...]:
        """Output width per stage (a ViT's is its hidden size)."""
        return tuple(getattr(self.spec, "widths", None) or (getattr(self.spec, "hidden_size"),))

    def measure(self, name: str) -> int:
        """One of flops, params, acts of this row."""
        return getattr(self.costs, name)

    def ratio(self, name: str) -> float:
        """A measure divided by the base's; for flops, the realized flops factor."""
        return getattr(self.costs, name) / getattr(self.base_costs, name)


@dataclass(frozen=True)
class Exponent:
    """Fitted k in measure ∝ flops^k for one base and strategy, and the plain-net prediction."""

    base: str
    strategy: str
    acts: float | None
    params: float | None
    predicted_acts: float
    predicted_params: float
    points: int


def run(
    entries: Sequence[Entry],
    convention: str = "paper",
    on_entry: Callable[[Entry], None] | None = None,
    counter: Callable[[BaseSpec, str], Costs] | None = None,
    timing: Timing | None = None,
    on_refused: Callable[[str], None] | None = None,
) -> list[CompareRow]:
    """Scale and count every entry (with `counter`, default api.count); each spec counts once.
    Entries with a time goal are solved with `timing` (a device profile). An entry that cannot
    be scaled, solved or counted is a ConfigError naming its key; with `on_refused`, that one
    line is handed to it instead and the entry is left out."""
    if counter is None:
        from scalecalc.api import count as counter
    costs: dict[BaseSpec, Costs] = {}

    def costs_of(spec: BaseSpec) -> Costs:
        if spec not in costs:
            costs[spec] = counter(spec, convention)
        return costs[spec]

    rows = []
    for entry in entries:
        try:
            base_flops = costs_of(entry.model.spec).flops
            target = entry.target_flops
            if entry.target_factor is not None:
                target = round(entry.target_factor * base_flops)
            goal = time_goal(entry, timing)
            if goal is not None and timing is not None:
                spec, factor = timing.solve(entry, goal)
            else:
                spec, factor = _scaled(entry, target, convention, lambda s: costs_of(s).flops)
            rows.append(
                CompareRow(
                    key=entry.key,
                    base=entry.model.name,
                    family=entry.model.family,
                    strategy=entry.strategy,
                    factor=factor,
                    target_flops=target,
                    target_factor=entry.target_factor,
                    convention=convention,
                    spec=spec,
                    costs=costs_of(spec),
                    base_costs=costs_of(entry.model.spec),
                    time_goal=goal,
                )
            )
        except ScalecalcError as error:
            if on_refused is None:
                raise ConfigError(f"{entry.key}: {error}") from None
            on_refused(f"{entry.key}: {error}")
        if on_entry is not None:
            on_entry(entry)
    return rows


def _scaled(
    entry: Entry, target: int | None, convention: str, flops_of: Callable[[BaseSpec], int]
) -> tuple[BaseSpec, float]:
    """The entry's spec and the factor handed to the scaler (1 for a base; for a flops
    `target`, the solver's)."""
    from scalecalc.api import scale

    if entry.strategy is None:
        return entry.model.spec, 1.0
    if entry.factor is not None:
        return scale(entry.model.spec, entry.strategy, entry.factor), entry.factor
    from scalecalc.solver import solve

    assert target is not None
    solution = solve(entry.model.spec, entry.strategy, target, convention, flops_of=flops_of)
    return solution.spec, solution.factor


def changed_fields(rows: Sequence[CompareRow]) -> list[str]:
    """Spec fields (in the spec's order) whose value is not the same in every row."""
    specs = [row.spec.to_dict() for row in rows]
    names = dict.fromkeys(name for spec in specs for name in spec)
    return [name for name in names if any(s.get(name) != specs[0].get(name) for s in specs)]


def fit_exponent(flops: Sequence[float], measure: Sequence[float]) -> float | None:
    """Least-squares slope of log(measure) on log(flops); None without two distinct flops."""
    if len(flops) != len(measure):
        raise ValueError("flops and measure must have the same length")
    xs = [math.log(f) for f in flops]
    ys = [math.log(m) for m in measure]
    mean_x, mean_y = sum(xs) / len(xs) if xs else 0.0, sum(ys) / len(ys) if ys else 0.0
    spread = sum((x - mean_x) ** 2 for x in xs)
    # Below this, the flops are equal up to rounding and the slope means nothing.
    if spread <= 1e-18:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / spread


def predicted_exponents(strategy: str) -> tuple[float, float]:
    """(acts, params) exponents of a plain net: flops ∝ d·w²·r², acts ∝ d·w·r², params ∝ d·w²."""
    parsed = parse_strategy(strategy)
    weights = (parsed.depth, parsed.width, parsed.resolution)
    e_d, e_w, e_r = (weight / parsed.total for weight in weights)
    return e_d + e_w / 2 + e_r, e_d + e_w


def exponents(rows: Sequence[CompareRow]) -> list[Exponent]:
    """Per base and strategy (in row order), k fitted over the base and that strategy's rows."""
    groups: dict[tuple[str, str], list[CompareRow]] = {}
    bases: dict[str, CompareRow] = {}
    for row in rows:
        if row.strategy is None:
            bases[row.base] = row
        else:
            groups.setdefault((row.base, row.strategy), []).append(row)
    fitted = []
    for (base, strategy), members in groups.items():
        points = ([bases[base]] if base in bases else []) + members
        flops = [p.costs.flops for p in points]
        predicted_acts, predicted_params = predicted_exponents(strategy)
        fitted.append(
            Exponent(
                base=base,
                strategy=strategy,
                acts=fit_exponent(flops, [p.costs.acts for p in points]),
                params=fit_exponent(flops, [p.costs.params for p in points]),
                predicted_acts=predicted_acts,
                predicted_params=predicted_params,
                points=len(points),
            )
        )
    return fitted


def unsupported_warnings(rows: Sequence[CompareRow]) -> list[str]:
    """One line per op some counter did not know, naming how many models it touched."""
    seen: dict[str, list[str]] = {}
    for row in rows:
        for op, _calls in row.costs.unsupported:
            seen.setdefault(op, []).append(row.key)
    return [
        f"unsupported op {op} counted as zero in {len(keys)} models (e.g. {keys[0]})"
        for op, keys in seen.items()
    ]
