"""Numbers beside a sweep's counts: measured runtime, predicted runtime, predicted memory.

Each is an Annotation: per row key its table cells, raw CSV values and JSON object, a note
saying where the numbers come from, and optionally a measure for the equal-flops summary.
The renderers of `compare` treat them all alike. Pure data; the builders of predicted memory
call the torch layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scalecalc.errors import ModelTooLargeError

if TYPE_CHECKING:
    from scalecalc.compare.run import CompareRow
    from scalecalc.profile.model import Profile

# Marks a predicted cell outside the range of counts (or families) its profile was fitted on.
EXTRAPOLATED = "*"


def timed(value: str, extrapolated: bool, error_pct: float) -> str:
    """A predicted time's cell: the value, the extrapolation mark, and ± the error that
    applies, e.g. "0.659 ±14%", "1.23* ±7.4%"."""
    mark = EXTRAPOLATED if extrapolated else ""
    error = f"{error_pct:.0f}" if error_pct >= 10 else f"{error_pct:.1f}"
    return f"{value}{mark} ±{error}%"


@dataclass(frozen=True)
class Measure:
    """A measure shown beside the ranking (measured or predicted time, predicted memory): its
    JSON name, its column header, and by row key its raw value and its table cell."""

    name: str
    header: str
    values: Mapping[str, float]
    cells: Mapping[str, str]
    fields: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # more JSON, by key


@dataclass(frozen=True)
class Annotation:
    """Extra columns of the rows of a sweep, by row key (rows without a value have none)."""

    name: str  # the JSON field of each row, e.g. "runtime"
    headers: tuple[str, ...]  # table headers, one per column
    csv_columns: tuple[str, ...]  # CSV header, one per column
    cells: Mapping[str, tuple[str, ...]]  # row key -> table cells
    csv_values: Mapping[str, tuple[Any, ...]]  # row key -> raw values for CSV
    records: Mapping[str, Mapping[str, Any]]  # row key -> the row's JSON object
    note: str  # one line: where the numbers come from
    document: Mapping[str, Any] = field(default_factory=dict)  # top-level JSON keys
    summary: Measure | None = None  # joins the equal-flops summary as a column

    def row_cells(self, key: str) -> list[str]:
        """The table cells of a row; n/a where it has none."""
        return list(self.cells.get(key, ("n/a",) * len(self.headers)))

    def row_csv(self, key: str) -> list[Any]:
        """The CSV values of a row; empty where it has none."""
        return list(self.csv_values.get(key, ("",) * len(self.csv_columns)))


def measured_runtime(setup: str, by_key: Mapping[str, tuple[float, float]]) -> Annotation:
    """Runtime measured by `scalecalc bench`: (median seconds per iteration, images/s)."""
    return Annotation(
        name="runtime",
        headers=("median (ms)", "images/s"),
        csv_columns=("median_s", "throughput"),
        cells={k: (f"{m * 1e3:.1f}", f"{t:.1f}") for k, (m, t) in by_key.items()},
        csv_values=dict(by_key),
        records={k: {"median_s": m, "throughput": t} for k, (m, t) in by_key.items()},
        note=f"Runtime measured by `scalecalc bench`: {setup}.",
        document={"runtime_setup": setup},
        summary=Measure(
            "median_s",
            "median (ms)",
            {k: m for k, (m, _t) in by_key.items()},
            {k: f"{m * 1e3:.1f}" for k, (m, _t) in by_key.items()},
        ),
    )


def predicted_runtime(rows: Sequence[CompareRow], profile: Profile) -> Annotation:
    """Time per image predicted by a device profile from each row's counts in the profile's
    convention, its images per second and its time over its base's."""
    from scalecalc.api import count
    from scalecalc.profile.model import predict

    def predicted(row: CompareRow, spec: Any) -> Any:
        # Counted again in the profile's convention (closed form, microseconds a model).
        costs = count(spec, profile.convention)
        return predict(profile, costs.flops, costs.params, costs.acts, row.family)

    cells, values, records, seconds, errors = {}, {}, {}, {}, {}
    bases: dict[str, Any] = {}
    for row in rows:
        if row.base not in bases:
            bases[row.base] = predicted(row, _base_spec(rows, row.base) or row.spec)
        own = predicted(row, row.spec)
        ratio = own.seconds_per_image / bases[row.base].seconds_per_image
        cells[row.key] = (
            timed(f"{own.seconds_per_image * 1e3:.3g}", own.extrapolated, own.error_pct),
            f"{own.images_per_second:.4g}",
            f"{ratio:.2f}",
        )
        error = (own.extrapolated, own.error_pct, own.error_region)
        values[row.key] = (own.seconds_per_image, own.images_per_second, ratio, *error)
        errors[row.key] = {
            "extrapolated": own.extrapolated,
            "time_error_pct": own.error_pct,
            "time_error_region": own.error_region,
        }
        records[row.key] = {
            "profile": profile.name,
            "seconds_per_image": own.seconds_per_image,
            "images_per_second": own.images_per_second,
            "ratio_to_base": ratio,
            **errors[row.key],
        }
        seconds[row.key] = own.seconds_per_image
    note = (
        f"Predicted time per image: {profile.describe()}. {_error_note(profile, errors)} "
        f"{EXTRAPOLATED} marks an extrapolation (a count outside the fitted range of the model's "
        "family, or of the profile's `other` group for a family without its own; or a family "
        "the profile has not seen)."
    )
    return Annotation(
        name="prediction",
        headers=("pred. time (ms)", "pred. images/s", "pred. time ×"),
        csv_columns=(
            "predicted_s_per_image",
            "predicted_images_per_s",
            "predicted_time_ratio",
            "predicted_extrapolated",
            "predicted_time_error_pct",
            "predicted_time_error_region",
        ),
        cells=cells,
        csv_values=values,
        records=records,
        note=note,
        document={"profile": profile.name},
        summary=Measure(
            "predicted_s",
            "pred. time (ms)",
            seconds,
            {k: c[0] for k, c in cells.items()},
            errors,
        ),
    )


def _error_note(profile: Profile, errors: Mapping[str, Mapping[str, Any]]) -> str:
    """What ± means, and the error of each region the rows fall in."""
    shown = {e["time_error_region"]: e["time_error_pct"] for e in errors.values()}
    regions = "; ".join(f"{region} {error:.1f}%" for region, error in shown.items())
    few = "too few" if profile.regions is None else f"fewer than {profile.regions.min_rows}"
    what = "the profile's held-out median absolute error"
    if profile.validation.method == "calibrated":
        what = (
            "the calibrated error (the base profile's held-out median absolute error with the "
            "device change and the level added in quadrature)"
        )
    return (
        f"± is {what} in the model's region: its family "
        f"and flops third of the fitted rows, or the coarser region where that holds {few} "
        f"rows (`scalecalc profile show {profile.name}` lists them), inside the fitted range; "
        f"here: {regions}."
    )


def _base_spec(rows: Sequence[CompareRow], base: str) -> Any:
    """The spec of a base's own row, if the sweep has it."""
    return next((r.spec for r in rows if r.base == base and r.strategy is None), None)


@dataclass(frozen=True)
class MemorySetting:
    """What predicted memory is for: batch size, dtype, inference or a training step (with an
    optimizer's state), and an optional budget for the largest batch that fits. With `amp`,
    `dtype` is autocast's low precision and weights, gradients and optimizer state are float32;
    `channels_last` is the input's and convolutions' memory format; `ema` a float32 weight
    copy (training only)."""

    batch_size: int = 1
    dtype: str = "float32"
    train: bool = False
    optimizer: str | None = None
    budget: int | None = None  # bytes; None: no max-batch column
    amp: bool = False
    channels_last: bool = False
    ema: bool = False
    counter: str = "analytic"  # closed form (scalecalc.stepmemory), or "trace" (nn.memory)

    def describe(self) -> str:
        """One line for the note under the tables."""
        step = "training step" if self.train else "inference"
        if self.train:
            step += f", optimizer {self.optimizer or 'none'}"
        return f"{step}, {self.precision}, batch {self.batch_size}"

    @property
    def precision(self) -> str:
        """The dtype, as amp-DTYPE under autocast, with channels-last and ema when set."""
        words = [f"amp-{self.dtype}" if self.amp else self.dtype]
        words += ["channels-last"] * self.channels_last + ["ema"] * self.ema
        return ", ".join(words)

    @property
    def extended(self) -> bool:
        """Whether any of amp, channels-last and ema is set (their fields are then shown)."""
        return self.amp or self.channels_last or self.ema

    def records(self) -> dict[str, bool]:
        """amp, channels_last and ema for a row's JSON and CSV, when any is set."""
        return self.trace_options() if self.extended else {}

    @property
    def device(self) -> str:
        """Where the trace counts blocks: CUDA under AMP (its autocast) or with a device budget,
        else the CPU allocator."""
        return "cuda" if self.amp or self.budget is not None else "cpu"

    def trace_options(self) -> dict[str, bool]:
        """The keyword options of scalecalc.nn.memory.spec_step for this setting."""
        return {"amp": self.amp, "channels_last": self.channels_last, "ema": self.ema}

    @property
    def mode(self) -> str:
        """inference, train, or train+OPTIMIZER."""
        if not self.train:
            return "inference"
        return "train" if self.optimizer is None else f"train+{self.optimizer}"

    def label(self) -> str:
        """What a memory column is for, to name in its header: batch, precision and mode."""
        return f"batch {self.batch_size}, {self.precision}, {self.mode}"


def _peak_and_largest(row: CompareRow, setting: MemorySetting) -> tuple[int, int | None]:
    """The peak of the row's model at the setting's batch, and the largest batch whose device
    view fits the budget (None: no budget), in closed form or traced as the setting says."""
    step_options = (setting.dtype, setting.train, setting.optimizer, setting.device)
    budget = setting.budget
    option = "--memory"
    try:
        if setting.counter == "trace":
            from scalecalc.nn.devicebatch import device_max_batch
            from scalecalc.nn.memory import spec_step

            step = spec_step(row.spec, *step_options, **setting.trace_options())
            peak = step.estimate(setting.batch_size).total_bytes
            option = "--max-batch"
            return peak, None if budget is None else device_max_batch(step, budget)
        from scalecalc.devicememory import device_max_batch as fitting_batch
        from scalecalc.stepmemory import Peaks

        peaks = Peaks(row.spec, *step_options, **setting.trace_options())
        if budget is None:
            return peaks.peak(setting.batch_size), None
        peaks.lines(setting.batch_size)  # the replay that draws them gives this peak too
        peak = peaks.peak(setting.batch_size)
        option = "--max-batch"
        return peak, fitting_batch(peaks.weights, peaks.max_batch, budget)
    except ModelTooLargeError as error:
        raise ModelTooLargeError(f"{option}: {row.key}: {error}") from None


def predicted_memory(rows: Sequence[CompareRow], setting: MemorySetting) -> Annotation:
    """Peak memory of each row's model at the setting's batch size, in closed form
    (scalecalc.stepmemory) or traced on the meta device (scalecalc.nn.memory), and the largest
    batch whose CUDA device view fits the budget when one is given. The peak is in CUDA's
    512-byte blocks under AMP or with a budget, else as the CPU allocator holds it."""
    cells, values, records = {}, {}, {}
    steps: dict[Any, tuple[int, int | None]] = {}
    for row in rows:
        if row.spec not in steps:  # a spec twice in a sweep is counted once
            steps[row.spec] = _peak_and_largest(row, setting)
        peak, largest = steps[row.spec]
        cells[row.key] = (f"{peak / 2**20:.0f}",) + (() if largest is None else (str(largest),))
        values[row.key] = (peak,) + (() if largest is None else (largest,))
        values[row.key] += (setting.batch_size, setting.dtype, setting.mode)
        values[row.key] += tuple(setting.records().values())
        records[row.key] = {"peak_bytes": peak} | (
            {} if largest is None else {"max_batch": largest}
        )
        records[row.key] |= {
            "batch_size": setting.batch_size,
            "dtype": setting.dtype,
            "mode": setting.mode,
        } | setting.records()
    header = f"peak memory (MiB, {setting.label()})"
    headers: tuple[str, ...] = (header,)
    columns: tuple[str, ...] = ("peak_memory_bytes",)
    how = "meta-device trace" if setting.counter == "trace" else "closed form"
    note = f"Predicted peak memory ({how}): {setting.describe()}."
    document: dict[str, Any] = {"memory_setting": setting.describe()}
    if setting.budget is not None:
        headers += (
            f"max batch ({setting.budget / 2**30:g} GiB device, {setting.precision}, "
            f"{setting.mode})",
        )
        columns += ("max_batch",)
        note += (
            f" Max batch: the largest whose CUDA device view (tensors, allocator reserve, "
            f"workspaces, context) fits in {setting.budget / 2**30:g} GiB."
        )
        document["memory_budget_bytes"] = setting.budget
    columns += ("memory_batch_size", "memory_dtype", "memory_mode")
    if setting.extended:
        columns += ("memory_amp", "memory_channels_last", "memory_ema")
    peaks = {key: float(value[0]) for key, value in values.items()}
    measure = Measure(
        "peak_memory_bytes", header, peaks, {key: cell[0] for key, cell in cells.items()}
    )
    return Annotation("memory", headers, columns, cells, values, records, note, document, measure)


def over_device_memory(memory: Annotation, profile: Profile) -> str | None:
    """One line when some predicted peak exceeds the memory of the profile's device (None when
    every peak fits, or the profile states no memory)."""
    if profile.device_memory is None:
        return None
    peaks = {key: record["peak_bytes"] for key, record in memory.records.items()}
    over = [key for key, peak in peaks.items() if peak > profile.device_memory]
    if not over:
        return None
    largest = max(over, key=lambda key: peaks[key])
    return (
        f"predicted peak memory of {len(over)} of {len(peaks)} models exceeds the "
        f"{profile.device_memory / 2**30:g} GiB of {profile.device} (profile {profile.name}); "
        f"largest: {largest} at {peaks[largest] / 2**30:.1f} GiB"
    )
