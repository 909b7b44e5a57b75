"""Wall time and peak memory of scalecalc's commands against `python -c "import torch"`.

Every command runs in a fresh process, interleaved with the torch import in each round so that
load on the machine hits both alike; the table gives the median over --repeat rounds, each
command's ratio to the torch import, and peak RSS (from wait4's rusage of that process).
Run: python benchmarks/startup.py [--repeat N] [--only TEXT ...] [--against CHECKOUT]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASELINE = str(REPO / "configs/baselines/costs.json")
TORCH = ("import torch", [sys.executable, "-c", "import torch"])
COMMANDS = [
    ("scalecalc --help", ["--help"]),
    ("scalecalc list", ["list"]),
    ("scalecalc show regnety_4gf", ["show", "regnety_4gf"]),
    (
        "scalecalc scale resnet50 -s dWr --factor 4",
        ["scale", "resnet50", "-s", "dWr", "--factor", "4"],
    ),
    ("scalecalc count resnet50 -f md", ["count", "resnet50", "-f", "md"]),
    ("scalecalc compare -f md", ["compare", "-f", "md"]),
    ("scalecalc compare -f json", ["compare", "-f", "json"]),
    ("scalecalc compare -f csv", ["compare", "-f", "csv"]),
    ("scalecalc compare -f table", ["compare", "-f", "table"]),
    # Predicted memory of every model of the default sweep: peak at batch 32, and the largest
    # batch within a budget.
    ("scalecalc compare --memory -f md", ["compare", "--memory", "-f", "md"]),
    ("scalecalc compare --max-batch 24GiB -f md", ["compare", "--max-batch", "24GiB", "-f", "md"]),
    (
        "scalecalc check --presets --baseline costs.json",
        ["check", "--presets", "--baseline", BASELINE],
    ),
]
# Targets from the house plan: light commands at most 0.25x the torch import, sweeps 0.35x.
TARGETS = {"compare": 0.35, "check": 0.35}


def run(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed")
    return elapsed, usage.ru_maxrss / 1024


def commands(only: list[str] | None) -> list[tuple[str, list[str]]]:
    """The commands whose label contains one of `only` (all of them without it)."""
    if not only:
        return COMMANDS
    return [(label, args) for label, args in COMMANDS if any(text in label for text in only)]


def main() -> None:
    """Measure every command (or those chosen with --only) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--only",
        action="append",
        metavar="TEXT",
        help="measure only the commands whose label contains TEXT (repeatable)",
    )
    parser.add_argument(
        "--against",
        type=Path,
        metavar="CHECKOUT",
        help="also run each command with the scalecalc of another checkout (such as the code "
        "before a change), in the same rounds",
    )
    options = parser.parse_args()
    repeat, chosen = options.repeat, commands(options.only)
    if repeat < 1:
        print(f"error: --repeat: must be at least 1, got {repeat}", file=sys.stderr)
        raise SystemExit(2)
    if not chosen:
        print(
            f"error: --only: no command's label contains {' or '.join(options.only)}",
            file=sys.stderr,
        )
        raise SystemExit(2)
    against = options.against
    if against is not None and not (against / "scalecalc" / "__init__.py").is_file():
        print(f"error: --against: {against} holds no scalecalc/__init__.py", file=sys.stderr)
        raise SystemExit(2)
    entry = [sys.executable, "-m", "scalecalc"]
    jobs = [TORCH]
    for label, args in chosen:
        jobs.append((label, entry + args))
        if against is not None:
            other = ["env", f"PYTHONPATH={against.resolve()}", *entry, *args]
            jobs.append((f"{label} ({against.name})", other))
    times: dict[str, list[float]] = {label: [] for label, _ in jobs}
    peaks: dict[str, float] = {label: 0.0 for label, _ in jobs}
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        for _ in range(repeat):
            for label, argv in jobs:
                seconds, peak = run(argv)
                times[label].append(seconds)
                peaks[label] = max(peaks[label], peak)
    torch_time, torch_peak = statistics.median(times[TORCH[0]]), peaks[TORCH[0]]
    print(f"median of {repeat} interleaved runs; {os.cpu_count()} CPUs\n")
    print("| command | wall (s) | × import torch | target | peak RSS (MiB) | × import torch |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, _ in jobs:
        median = statistics.median(times[label])
        target = next((t for word, t in TARGETS.items() if word in label), 0.25)
        target_text = "" if label == TORCH[0] else f"≤ {target}"
        print(
            f"| `{label}` | {median:.3f} | {median / torch_time:.2f} | {target_text} "
            f"| {peaks[label]:.0f} | {peaks[label] / torch_peak:.2f} |"
        )


if __name__ == "__main__":
    main()
