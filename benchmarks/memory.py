"""Predicted peak memory against the measured peak, for every model of `bench`'s default sweep.

Prediction: scalecalc.nn.memory.estimate_peak (meta tensors, no weights), timed per model in one
process after a first call that pays the one-time imports (its time is printed apart); beside
it the closed form, scalecalc.stepmemory.estimate_peak (no torch), which must give the same
bytes, timed as the best of 5 calls (`analytic ms`).
Measurement: each model in a fresh process, with real weights, one warm-up step and one measured
step as `bench` runs them (zero_grad(set_to_none), forward, .float().sum(), backward; or
inference_mode). Two measured peaks:
  allocator  the most bytes torch's CPU allocator had handed out at once, read from the profiler's
             allocation events (torch.profiler, profile_memory=True), which carry the allocator's
             running total; every tensor made in the process is included, kernels' own scratch
             tensors too. This is the CPU twin of torch.cuda.max_memory_allocated.
  rss        peak resident set size minus the resident size before the model was built (VmHWM
             after /proc/self/clear_refs), as `bench` reports it: also counts the C library's
             heap slack, oneDNN's caches and code pages first touched. Measured in the same
             process before the profiled run, without the profiler.
Run: python benchmarks/memory.py [--batch-size 8] [--inference] [--include GLOB...] [--cuda]
     python benchmarks/memory.py --analytic-only   (the closed form's time alone, no torch)
"""

from __future__ import annotations

import argparse
import fnmatch
import multiprocessing
import os
import re
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

GIB = 2**30
MIB = 2**20


def _rss(field: str) -> int:
    found = re.search(
        rf"^{field}:\s+(\d+)\s*kB", Path("/proc/self/status").read_text(), re.MULTILINE
    )
    return int(found.group(1)) * 1024 if found else 0


def _run_steps(spec, batch_size: int, train: bool, device: str) -> None:
    import torch

    from scalecalc.api import build

    model = build(spec, device)
    inputs = torch.randn(batch_size, 3, spec.resolution, spec.resolution, device=device)
    for _ in range(2):  # a warm-up step, then the step as bench times it
        if train:
            model.train()
            model.zero_grad(set_to_none=True)
            model(inputs).float().sum().backward()
        else:
            model.eval()
            with torch.inference_mode():
                model(inputs)
    if device == "cuda":
        torch.cuda.synchronize()


@contextmanager
def _no_stderr() -> Iterator[None]:
    """File descriptor 2 sent to /dev/null: the profiler's C++ side prints `USDT: ...
    profiler_start` lines there, which landed in the middle of the table on a terminal.
    Errors still reach the parent, as exceptions through the pool."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def measure_cpu(spec, batch_size: int, train: bool) -> tuple[int, int]:
    """(allocator peak, RSS peak) of two steps of `spec` on this CPU, in bytes."""
    import ctypes
    import gc

    from torch._C._profiler import _EventType
    from torch.profiler import ProfilerActivity, profile

    Path("/proc/self/clear_refs").write_text("5")
    before = _rss("VmRSS")
    _run_steps(spec, batch_size, train, "cpu")
    rss = _rss("VmHWM") - before
    gc.collect()
    ctypes.CDLL(None).malloc_trim(0)
    with _no_stderr(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        _run_steps(spec, batch_size, train, "cpu")
    peak, stack = 0, list(prof.profiler.kineto_results.experimental_event_tree())
    while stack:
        event = stack.pop()
        stack.extend(event.children)
        if event.tag == _EventType.Allocation and event.extra_fields.device.type == "cpu":
            peak = max(peak, event.extra_fields.total_allocated)
    return peak, rss


def measure_cuda(spec, batch_size: int, train: bool) -> tuple[int, int]:
    """(torch.cuda.max_memory_allocated, 0) over two steps of `spec`, in bytes."""
    import torch

    torch.cuda.reset_peak_memory_stats()
    _run_steps(spec, batch_size, train, "cuda")
    return torch.cuda.max_memory_allocated(), 0


def bench_specs(include: list[str]) -> list[tuple[str, object]]:
    """The models of `scalecalc bench`'s default sweep whose key matches a pattern of `include`."""
    from scalecalc.compare import run as compare
    from scalecalc.sweep import BENCH_SWEEP
    from scalecalc.sweep import expand

    rows = compare.run(expand(BENCH_SWEEP), BENCH_SWEEP.convention)
    return [
        (row.key, row.spec)
        for row in rows
        if any(fnmatch.fnmatch(row.key, pattern) for pattern in include)
    ]


def _error(estimate: int, measured: int) -> str:
    return f"{100 * (estimate - measured) / measured:+.1f}%" if measured else "-"


def headers(measured: str) -> list[str]:
    """The table's column names; each error names what it is measured against."""
    return [
        "model",
        "res",
        "estimate MiB",
        f"{measured} MiB",
        f"error vs {measured}",
        "rss MiB",
        "error vs rss",
        "estimate s",
        "analytic ms",
    ]


def analytic_ms(spec, batch_size: int, train: bool, device: str) -> tuple[int, float]:
    """The closed form's peak of `spec`, and its time: the best of 5 calls, in milliseconds."""
    from scalecalc.stepmemory import estimate_peak

    times = []
    for _ in range(5):
        started = time.perf_counter()
        peak = estimate_peak(spec, batch_size, train=train, device=device).total_bytes
        times.append(time.perf_counter() - started)
    return peak, 1000 * min(times)


def analytic_only(specs: list, batch_size: int, train: bool, device: str) -> int:
    """Print the closed form's peak and time per model, without importing torch."""
    print(f"# closed form, {'training step' if train else 'inference'}, batch {batch_size}")
    print("| model | res | estimate MiB | analytic ms |")
    print("|---|---:|---:|---:|")
    times = []
    for key, spec in specs:
        peak, ms = analytic_ms(spec, batch_size, train, device)
        times.append(ms)
        print(f"| {key} | {spec.resolution} | {peak / MIB:.1f} | {ms:.2f} |", flush=True)
    print(
        f"# {len(specs)} models: analytic time median {statistics.median(times):.2f} ms, "
        f"max {max(times):.2f} ms, total {sum(times):.1f} ms; torch imported: "
        f"{'torch' in sys.modules}"
    )
    return 0


def main() -> int:
    """Print the table: estimate, measured peaks and errors, estimate time, per model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--inference", action="store_true", help="inference instead of training")
    parser.add_argument("--include", nargs="+", default=["*"], help="model keys (fnmatch)")
    parser.add_argument("--cuda", action="store_true", help="measure on CUDA instead of the CPU")
    parser.add_argument(
        "--analytic-only", action="store_true", help="time the closed form alone (no torch)"
    )
    args = parser.parse_args()
    train, device = not args.inference, "cuda" if args.cuda else "cpu"
    specs = bench_specs(args.include)
    if not specs:
        print(
            f"error: --include: no model of bench's default sweep matches {args.include}",
            file=sys.stderr,
        )
        return 2
    if args.analytic_only:
        return analytic_only(specs, args.batch_size, train, device)
    import torch

    from scalecalc.nn.memory import estimate_peak

    started = time.perf_counter()
    estimate_peak(specs[0][1], 1, train=train, device=device)
    first = time.perf_counter() - started
    measure = measure_cuda if args.cuda else measure_cpu
    context = multiprocessing.get_context("spawn")
    print(
        f"# {'training step' if train else 'inference'}, batch {args.batch_size}, float32, "
        f"{device}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"first estimate (imports) {first:.2f} s"
    )
    measured_name = "max_allocated" if args.cuda else "allocator"
    print("| " + " | ".join(headers(measured_name)) + " |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    errors, times, closed_form = [], [], []
    for key, spec in specs:
        started = time.perf_counter()
        estimate = estimate_peak(spec, args.batch_size, train=train, device=device).total_bytes
        times.append(time.perf_counter() - started)
        twin, ms = analytic_ms(spec, args.batch_size, train, device)
        closed_form.append(ms)
        if twin != estimate:
            print(f"error: {key}: closed form {twin} B, trace {estimate} B", file=sys.stderr)
            return 1
        with context.Pool(1) as pool:
            allocated, rss = pool.apply(measure, (spec, args.batch_size, train))
        errors.append(abs(estimate - allocated) / allocated)
        print(
            f"| {key} | {spec.resolution} | {estimate / MIB:.1f} | {allocated / MIB:.1f} | "
            f"{_error(estimate, allocated)} | {rss / MIB:.1f} | {_error(estimate, rss)} | "
            f"{times[-1]:.2f} | {closed_form[-1]:.2f} |",
            flush=True,
        )
    print(
        f"# {len(specs)} models: largest |error| vs {measured_name} {100 * max(errors):.1f}%, "
        f"median {100 * statistics.median(errors):.1f}%; estimate time median "
        f"{statistics.median(times):.2f} s, max {max(times):.2f} s; closed form (equal bytes) "
        f"median {statistics.median(closed_form):.2f} ms, max {max(closed_form):.2f} ms",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
