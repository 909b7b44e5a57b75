"""Correlations of measured runtime with the counts, and pure renderers of a benchmark."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from scalecalc.compare.annotations import Annotation, measured_runtime
from scalecalc.bench.checks import Bound, bounds, caveats, model_groups
from scalecalc.compare.run import CompareRow
from scalecalc.compare.labels import base_title, by_base, scaling_label
from scalecalc.compare.report import row_record
from scalecalc.compare.report import to_csv as compare_csv
from scalecalc.correlation import Correlation, correlate
from scalecalc.costs import MEASURES
from scalecalc.bench.results import read_bench
from scalecalc.errors import ConfigError
from scalecalc.bench.measurement import BenchRow
from scalecalc.tables import decimals, giga, markdown_table, mega, rich_table

ROW_HEADERS = (
    "scaling",
    "s",
    "res",
    "flops (G)",
    "params (M)",
    "acts (M)",
    "median (ms)",
    "time (× base)",
    "spread",
    "images/s",
    "peak mem (MiB)",
)
ROW_ALIGN = "lrrrrrrrrrr"
CORRELATION_HEADERS = ("models", "measure", "Pearson (log)", "Spearman", "n")
CORRELATION_ALIGN = "llrrr"
CORRELATION_NOTE = (
    "Correlation of the median time per iteration with each measure over distinct models: "
    "Pearson's r of the logarithms (1 = runtime is a power of the measure) and Spearman's ρ "
    "(1 = ordering by the measure orders by runtime). The paper expects acts to predict "
    "runtime best on memory-bound GPUs; compute-bound CPUs often follow flops. "
    "*time (× base)* is the median over the base's; *spread* is (slowest − fastest) / median."
)
BOUND_HEADERS = ("models", "looked", "flops/s (G)", "±", "act bytes/s (G)", "±", "n")
BOUND_ALIGN = "llrrrrr"
BOUND_TITLE = "Memory- or compute-bound? (a heuristic)"
BOUND_NOTE = (
    "Per model, *flops/s* is flops × images/s (forward pass, the sweep's convention) and "
    "*act bytes/s* is acts × bytes per element × images/s, a lower bound of the memory traffic; "
    "*±* is the geometric standard deviation across models. Were runtime proportional to flops, "
    "every model would reach the same flops/s; were it proportional to acts, the same act "
    "bytes/s. The device *looked memory-bound* when act bytes/s varied clearly less (by a "
    "factor of 1.25 in log terms) than flops/s, *compute-bound* in the opposite case, else "
    "*unclear*. It is a heuristic over this run, not a property of the hardware."
)
CSV_EXTRA = (
    "median_s",
    "throughput",
    "peak_memory_bytes",
    "estimate_bytes",
    "batch_size",
    "dtype",
    "mode",
    "device",
)


def correlations(rows: Sequence[BenchRow]) -> list[Correlation]:
    """Per base (in order), then over all models when there are several bases."""
    result = []
    for name, distinct in model_groups(rows).items():
        measures = {m: [float(b.row.measure(m)) for b in distinct] for m in MEASURES}
        result += correlate(name, measures, [b.measurement.median for b in distinct])
    return result


def coefficient(value: float | None) -> str:
    """A correlation coefficient to three decimals, or n/a."""
    return decimals(value, 3)


def _correlation_cells(entry: Correlation) -> list[str]:
    return [
        entry.group,
        entry.measure,
        coefficient(entry.pearson_log),
        coefficient(entry.spearman),
        str(entry.points),
    ]


def _base_median(group: Sequence[BenchRow]) -> float | None:
    return next((b.measurement.median for b in group if b.row.strategy is None), None)


def _row_cells(bench_row: BenchRow, base_median: float | None) -> list[str]:
    row, timing = bench_row.row, bench_row.measurement
    peak = "n/a" if timing.peak_memory is None else f"{timing.peak_memory / 2**20:,.0f}"
    ratio = "n/a" if base_median is None else f"{timing.median / base_median:.2f}"
    return [
        scaling_label(row),
        f"{row.factor:.3g}",
        str(row.spec.resolution),
        giga(row.costs.flops),
        mega(row.costs.params),
        mega(row.costs.acts),
        f"{timing.median * 1e3:.1f}",
        ratio,
        f"{timing.spread:.0%}",
        f"{timing.throughput:.1f}",
        peak,
    ]


def setup_line(setup: Mapping[str, Any]) -> str:
    """The setup in one sentence: device, torch, mode, batch, dtype, iterations."""
    rounds = setup.get("rounds", 1)
    per_model = f"{setup['warmup']} warm-up + {setup['iters']} timed iterations"
    return (
        f"{setup['device']}, torch {setup['torch']}; {setup['mode']}, batch {setup['batch_size']}, "
        f"{setup['dtype']}; {per_model}"
        + (f" in each of {rounds} rounds" if rounds > 1 else "")
        + ", median"
    )


def _bound_cells(entry: Bound) -> list[str]:
    def rate(pair: tuple[float, float]) -> str:
        return f"{pair[0] / 1e9:.3g}–{pair[1] / 1e9:.3g}"

    return [
        entry.group,
        entry.verdict,
        rate(entry.flops_per_s),
        f"{math.expm1(entry.flops_log_sd):.0%}",
        rate(entry.act_bytes_per_s),
        f"{math.expm1(entry.act_bytes_log_sd):.0%}",
        str(entry.points),
    ]


def _groups(rows: Sequence[BenchRow]) -> list[list[BenchRow]]:
    lookup: dict[str, list[BenchRow]] = {base: [] for base in by_base([b.row for b in rows])}
    for bench_row in rows:
        lookup[bench_row.row.base].append(bench_row)
    return list(lookup.values())


def to_markdown(
    rows: Sequence[BenchRow], fits: Sequence[Correlation], setup: Mapping[str, Any]
) -> str:
    """The setup and any warnings, per base a table of models and runtimes, the correlation
    table and the bound heuristic."""
    sections = [f"### Benchmark setup\n\n{setup_line(setup)}\n"]
    for group in _groups(rows):
        lines = [_row_cells(b, _base_median(group)) for b in group]
        sections.append(
            f"### {base_title([b.row for b in group])}\n\n"
            + markdown_table(ROW_HEADERS, lines, ROW_ALIGN)
        )
    table = markdown_table(
        CORRELATION_HEADERS, [_correlation_cells(c) for c in fits], CORRELATION_ALIGN
    )
    sections.append(
        f"### Correlation of runtime with flops, params and acts\n\n{table}\n{CORRELATION_NOTE}\n"
    )
    lines = [_bound_cells(b) for b in bounds(rows, setup["dtype"])]
    table = markdown_table(BOUND_HEADERS, lines, BOUND_ALIGN)
    sections.append(f"### {BOUND_TITLE}\n\n{table}\n{BOUND_NOTE}\n")
    warnings = "".join(f"> **Warning:** {c.message}\n" for c in caveats(rows))
    if warnings:
        sections.insert(1, warnings)
    return "\n".join(sections)


def _runtime_record(bench_row: BenchRow) -> dict[str, Any]:
    timing = bench_row.measurement
    return {
        "median_s": timing.median,
        "times_s": list(timing.times),
        "throughput": timing.throughput,
        "batch_size": timing.batch_size,
        "peak_memory_bytes": timing.peak_memory,
        "estimate_bytes": timing.estimate,
    }


def _correlation_record(entry: Correlation) -> dict[str, Any]:
    return {
        "group": entry.group,
        "measure": entry.measure,
        "pearson_log": entry.pearson_log,
        "spearman": entry.spearman,
        "points": entry.points,
    }


def to_json(
    rows: Sequence[BenchRow],
    fits: Sequence[Correlation],
    setup: Mapping[str, Any],
    skipped: Sequence[tuple[str, int]] = (),
) -> str:
    """Setup, rows (compare's record plus `runtime`), correlations, skipped models, warnings
    and the bound heuristic; sorted keys."""
    document = {
        "setup": dict(setup),
        "rows": [{**row_record(b.row), "runtime": _runtime_record(b)} for b in rows],
        "correlations": [_correlation_record(c) for c in fits],
        "skipped": [{"key": key, "estimate_bytes": estimate} for key, estimate in skipped],
        "warnings": [dataclasses.asdict(c) for c in caveats(rows)],
        "bound": [dataclasses.asdict(b) for b in bounds(rows, setup["dtype"])],
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def to_csv(rows: Sequence[BenchRow], setup: Mapping[str, Any]) -> str:
    """compare's CSV columns plus runtime and setup columns, one line per model."""
    counted = list(csv.reader(io.StringIO(compare_csv([b.row for b in rows]))))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*counted[0], *CSV_EXTRA])
    for cells, bench_row in zip(counted[1:], rows):
        timing = bench_row.measurement
        writer.writerow(
            [
                *cells,
                timing.median,
                timing.throughput,
                "" if timing.peak_memory is None else timing.peak_memory,
                timing.estimate,
                timing.batch_size,
                setup["dtype"],
                setup["mode"],
                setup["device_kind"],
            ]
        )
    return out.getvalue()


def to_rich(
    rows: Sequence[BenchRow], fits: Sequence[Correlation], setup: Mapping[str, Any]
) -> list[Any]:
    """Rich tables for a terminal: the setup and warnings, one per base, the correlations and
    the bound heuristic."""
    tables: list[Any] = [setup_line(setup), *(f"Warning: {c.message}" for c in caveats(rows))]
    for group in _groups(rows):
        lines = [_row_cells(b, _base_median(group)) for b in group]
        tables.append(rich_table(base_title([b.row for b in group]), ROW_HEADERS, ROW_ALIGN, lines))
    lines = [_correlation_cells(c) for c in fits]
    tables.append(
        rich_table(
            "Correlation of runtime with each measure",
            CORRELATION_HEADERS,
            CORRELATION_ALIGN,
            lines,
        )
    )
    lines = [_bound_cells(b) for b in bounds(rows, setup["dtype"])]
    tables += [
        rich_table(BOUND_TITLE, BOUND_HEADERS, BOUND_ALIGN, lines),
        BOUND_NOTE.replace("*", ""),
    ]
    return tables


# What must agree between a bench file's row and a compare row for the runtime to be joined.
SAME_MODEL = ("resolution", "depths", "widths", "params", "acts")


def read_runtimes(path: Path) -> tuple[str, dict[str, dict[str, Any]]]:
    """The setup line and the rows by key of a `scalecalc bench --format json` file, read and
    validated by bench.results.read_bench."""
    try:
        measured = read_bench(path)
    except ConfigError as error:
        raise ConfigError(f"--bench: {error}") from None
    return setup_line(measured.setup), measured.by_key()


def join_runtimes(
    rows: Sequence[CompareRow], setup: str, records: Mapping[str, Mapping[str, Any]]
) -> tuple[Annotation, list[str], list[str]]:
    """Runtimes for the rows whose key the bench file has, for the same model; also the keys
    it lacks and the keys where it measured a different model (other sizes or resolution)."""
    joined: dict[str, tuple[float, float]] = {}
    missing, different = [], []
    for row in rows:
        record = records.get(row.key)
        if record is None:
            missing.append(row.key)
        elif any(record.get(field) != value for field, value in _model_fields(row).items()):
            different.append(row.key)
        else:
            runtime = record["runtime"]
            joined[row.key] = (float(runtime["median_s"]), float(runtime["throughput"]))
    return measured_runtime(setup, joined), missing, different


def _model_fields(row: CompareRow) -> dict[str, Any]:
    record = row_record(row)
    return {field: record[field] for field in SAME_MODEL}


def runtimes_for(
    rows: Sequence[CompareRow], path: Path, measured: tuple[str, dict[str, dict[str, Any]]]
) -> tuple[Annotation, list[str]]:
    """Runtimes for `rows` from what `read_runtimes(path)` read, and warnings about the rows
    it has no runtime for or measured as another model."""
    runtimes, missing, different = join_runtimes(rows, *measured)
    warnings = []
    if missing:
        warnings.append(
            f"{path} has no runtime for {len(missing)} of {len(rows)} models (e.g. {missing[0]})"
        )
    if different:
        warnings.append(
            f"{path} measured other models for {len(different)} of {len(rows)} keys "
            f"(e.g. {different[0]}: other sizes or resolution); runtime left out"
        )
    return runtimes, warnings


def renderer(
    fmt: str,
    rows: Sequence[BenchRow],
    fits: Sequence[Correlation],
    setup: Mapping[str, Any],
    skipped: Sequence[tuple[str, int]],
) -> Callable[[], Any]:
    """The renderer of format `fmt` (one of tables.FORMATS) over a benchmark."""
    renderers: dict[str, Callable[[], Any]] = {
        "json": lambda: to_json(rows, fits, setup, skipped),
        "csv": lambda: to_csv(rows, setup),
        "md": lambda: to_markdown(rows, fits, setup),
        "table": lambda: to_rich(rows, fits, setup),
    }
    return renderers[fmt]
