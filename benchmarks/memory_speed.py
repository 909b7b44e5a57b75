"""The closed form's time per model as `compare --memory` and `--max-batch` spend it, on compare's
default sweep, in the step settings users ask for; torch is never imported.

Each model's peak (and, with a budget, its largest batch in the CUDA device view) is worked out
as `compare` does (scalecalc.compare.annotations), timed alone: the best of --repeat calls per
model, each on a fresh stepmemory.Peaks. The table gives the median, the mean, the slowest and
the sum over the sweep's distinct models, and the replays a model took on average (one draws the lines and
gives the peak; more where batch 1 is off the lines or a CUDA bracket is wider than one batch).
Run: python benchmarks/memory_speed.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from scalecalc import stepmemory
from scalecalc.compare import run as compare
from scalecalc.compare.annotations import MemorySetting, _peak_and_largest
from scalecalc.sweep import DEFAULT_SWEEP, expand

GIB = 2**30
SETTINGS = [
    ("`--memory` (inference, batch 1: the default)", MemorySetting()),
    ("`--max-batch 24GiB` (inference, batch 1)", MemorySetting(budget=24 * GIB)),
    (
        "`--memory --train --optimizer adamw --batch-size 64`",
        MemorySetting(batch_size=64, train=True, optimizer="adamw"),
    ),
    (
        "`--max-batch 24GiB --train --optimizer sgd --amp --dtype float16` (timm's runs)",
        MemorySetting(train=True, optimizer="sgd", amp=True, dtype="float16", budget=24 * GIB),
    ),
]


def time_setting(rows: list, setting: MemorySetting, repeat: int) -> tuple[list[float], float]:
    """Per distinct model, the best of `repeat` timings in ms; and the replays per model."""
    real = stepmemory.replay
    replays = 0

    def counting(*args, **options):
        nonlocal replays
        replays += 1
        return real(*args, **options)

    stepmemory.replay = counting
    times = []
    try:
        for row in rows:
            best = float("inf")
            for _ in range(repeat):
                started = time.perf_counter()
                _peak_and_largest(row, setting)
                best = min(best, time.perf_counter() - started)
            times.append(1000 * best)
    finally:
        stepmemory.replay = real
    return times, replays / (repeat * len(rows))


def main() -> int:
    """Print the table: per setting, the time per model and the replays it took."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timings per model; best kept")
    args = parser.parse_args()
    rows = compare.run(expand(DEFAULT_SWEEP), DEFAULT_SWEEP.convention)
    distinct = list({row.spec: row for row in rows}.values())
    print(f"# compare's default sweep: {len(distinct)} distinct models; best of {args.repeat}")
    print("| compare option | median ms | mean ms | max ms | total ms | replays per model |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, setting in SETTINGS:
        times, replays = time_setting(distinct, setting, args.repeat)
        print(
            f"| {label} | {statistics.median(times):.2f} | {statistics.mean(times):.2f} | "
            f"{max(times):.2f} | "
            f"{sum(times):.0f} | {replays:.2f} |",
            flush=True,
        )
    print(f"# torch imported: {'torch' in sys.modules}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
