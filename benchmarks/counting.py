"""Time and peak memory of counting: analytic, meta and fvcore, per model and over a sweep.

Each measurement runs in a fresh process so peak memory (ru_maxrss) belongs to that count alone;
times exclude imports. Per model: one count per process, median over --repeat processes
(fvcore counts a conventionally built model: real weights, default initialisation). Sweep: the
default sweep (its bases x strategies x factors, plus the bases) counted in one process per
counter; fvcore on every k-th model only, extrapolated to the whole sweep. The floor is the wall
time and peak memory of `python -c "import torch"`.

Cost: the largest process is an fvcore count, which builds the model with real weights: 1854 MiB
peak for vit_l16, the largest preset. --giant adds a 1.8 B-parameter ViT, whose fvcore count
peaked at 9280 MiB (7.2 GB of weights alone; a run with it took 24.5 min on a loaded machine).
--quick (one process per measurement, no fvcore, no sweep) counted resnet50 in 22 s on a loaded
2-core CPU.
Run: python benchmarks/counting.py [--quick] [--giant] [--include GLOB] [--repeat N]
     [--skip-fvcore] [--skip-models] [--skip-sweep]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

# A ViT-G/14-sized model (Zhai et al., 2022): about 1.8 B parameters.
GIANT_VIT = {
    "family": "vit",
    "patch_size": 14,
    "hidden_size": 1664,
    "num_layers": 48,
    "num_heads": 16,
    "mlp_size": 8192,
    "resolution": 224,
}


def _spec(name: str):  # noqa: ANN202
    from scalecalc.config import from_mapping, load

    if name == "vit_1.8b":
        return from_mapping(GIANT_VIT, name, "benchmark").spec
    return load(name).spec


def sweep_specs() -> list:
    """The default sweep: every base, then base x strategy x factor, via scalecalc.api.scale
    (the sweep's flops multiples taken as nominal factors: the models counted are as large,
    without the solver's search)."""
    from scalecalc.api import load, scale
    from scalecalc.sweep import DEFAULT_SWEEP

    bases = [load(name).spec for name in DEFAULT_SWEEP.bases]
    scaled = [
        scale(base, strategy, factor)
        for base in bases
        for strategy in DEFAULT_SWEEP.strategies
        for factor in DEFAULT_SWEEP.target_factors
    ]
    return bases + scaled


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _count_once(path: str, spec) -> tuple[float, int]:  # noqa: ANN001
    from scalecalc.api import build, count
    from scalecalc.nn.counting import count_fvcore

    start = time.perf_counter()
    if path == "fvcore":
        model = build(spec, "cpu")  # conventional: real weights, default initialisation
        flops = count_fvcore(model, spec.resolution).flops
        del model
    elif path == "fvcore-sweep":  # scalecalc's fvcore path: meta build, then uninitialised memory
        flops = count(spec, counter="fvcore").flops
    else:
        flops = count(spec, counter=path).flops
    return time.perf_counter() - start, flops


def worker(path: str, name: str, every: int) -> None:
    """Count one model (or the sweep, for name "sweep") by one path; print JSON on stdout."""
    import scalecalc.api  # noqa: F401  (imports torch; imports are not timed)

    specs = sweep_specs()[::every] if name == "sweep" else [_spec(name)]
    seconds, flops = [], []
    for spec in specs:
        elapsed, total = _count_once(path, spec)
        seconds.append(elapsed)
        flops.append(total)
    print(json.dumps({"seconds": seconds, "flops": flops, "peak_mib": _peak_mib()}))


def run_worker(path: str, name: str, every: int = 1) -> dict:
    """One fresh worker process; adds its wall time."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--worker", path, name, str(every)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result = json.loads(out.splitlines()[-1])
    result["wall"] = time.perf_counter() - start
    return result


def import_floor(repeat: int) -> dict:
    """Median wall time and max peak MiB of `python -c "import torch"`."""
    code = "import resource, torch; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    walls, peaks = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        command = [sys.executable, "-c", code]
        out = subprocess.run(command, check=True, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        peaks.append(int(out.stdout.split()[-1]) / 1024)
    return {"wall": statistics.median(walls), "peak_mib": max(peaks)}


def measure(path: str, name: str, repeat: int) -> dict:
    """Median seconds and max peak MiB of one count over `repeat` fresh processes."""
    runs = [run_worker(path, name) for _ in range(repeat)]
    return {
        "seconds": statistics.median(r["seconds"][0] for r in runs),
        "peak_mib": max(r["peak_mib"] for r in runs),
        "flops": runs[0]["flops"][0],
        "wall": statistics.median(r["wall"] for r in runs),
    }


def _time(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds < 0.1 else f"{seconds:.2f} s"


def per_model_table(names: list[str], repeat: int, fvcore_repeat: int, skip_fvcore: bool) -> None:
    """Print the per-model table: time and peak memory of each counter, speed-ups."""
    print(
        "| model | analytic | meta | fvcore | peak MiB analytic / meta / fvcore "
        "| analytic vs meta | analytic vs fvcore |"
    )
    print("| :--- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in names:
        fast = measure("analytic", name, repeat)
        meta = measure("meta", name, repeat)
        assert fast["flops"] == meta["flops"], (name, fast["flops"], meta["flops"])
        peaks = [f"{fast['peak_mib']:.0f}", f"{meta['peak_mib']:.0f}"]
        cells = [name, _time(fast["seconds"]), _time(meta["seconds"])]
        if skip_fvcore:
            cells += ["-", " / ".join(peaks + ["-"])]
            ratio = "-"
        else:
            ref = measure("fvcore", name, 1 if name == "vit_1.8b" else fvcore_repeat)
            assert ref["flops"] == fast["flops"], (name, ref["flops"], fast["flops"])
            cells += [_time(ref["seconds"]), " / ".join(peaks + [f"{ref['peak_mib']:.0f}"])]
            ratio = f"{ref['seconds'] / fast['seconds']:,.0f}x"
        cells += [f"{meta['seconds'] / fast['seconds']:,.0f}x", ratio]
        print("| " + " | ".join(cells) + " |", flush=True)


def sweep_table(every: int, skip_fvcore: bool) -> None:
    """Print the sweep table: each counter over the default sweep in one fresh process."""
    from scalecalc.sweep import DEFAULT_SWEEP

    results = {path: run_worker(path, "sweep") for path in ("analytic", "meta")}
    assert results["analytic"]["flops"] == results["meta"]["flops"]
    models = len(results["analytic"]["seconds"])
    print(
        f"\nSweep: {models} models (bases {', '.join(DEFAULT_SWEEP.bases)} x strategies "
        f"{', '.join(DEFAULT_SWEEP.strategies)} x factors "
        f"{', '.join(f'{f:g}' for f in DEFAULT_SWEEP.target_factors)}, "
        "plus the bases), one process per counter\n"
    )
    print(
        "| counter | models counted | counting time, all models | median per model "
        "| process wall (incl. imports) | peak MiB |"
    )
    print("| :--- | ---: | ---: | ---: | ---: | ---: |")
    for path, result in results.items():
        seconds = result["seconds"]
        print(
            f"| {path} | {models} | {_time(sum(seconds))} | {_time(statistics.median(seconds))} "
            f"| {result['wall']:.2f} s | {result['peak_mib']:.0f} |",
            flush=True,
        )
    if skip_fvcore:
        return
    ref = run_worker("fvcore-sweep", "sweep", every)
    assert ref["flops"] == results["analytic"]["flops"][::every]
    seconds, counted = ref["seconds"], len(ref["seconds"])
    estimate = statistics.mean(seconds) * models
    print(
        f"| fvcore, every {every}th model; total extrapolated to {models} | {counted} "
        f"| ~{_time(estimate)} (extrapolated) | {_time(statistics.median(seconds))} "
        f"| {ref['wall']:.2f} s ({counted} models) | {ref['peak_mib']:.0f} |"
    )


def model_names(include: str, giant: bool) -> list[str]:
    """The presets matching `include`, and the 1.8 B-parameter ViT only with `giant`."""
    from scalecalc.registry import list_presets

    return list_presets(include) + (["vit_1.8b"] if giant else [])


def main() -> None:
    """Print the floor, the per-model table and the sweep table, as the options ask."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--include", default="*", help="glob over preset names")
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per measurement")
    parser.add_argument("--fvcore-repeat", type=int, help="processes per fvcore measurement")
    parser.add_argument("--skip-fvcore", action="store_true")
    parser.add_argument("--skip-models", action="store_true", help="only the sweep")
    parser.add_argument("--skip-sweep", action="store_true", help="only the per-model table")
    parser.add_argument(
        "--sweep-fvcore-every",
        type=int,
        default=8,
        metavar="K",
        help="count every K-th sweep model with fvcore",
    )
    parser.add_argument(
        "--giant",
        action="store_true",
        help="also count a 1.8 B-parameter ViT (its fvcore count peaks at about 9 GiB)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one process per measurement, no fvcore, no sweep",
    )
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        path, name, every = args.worker
        worker(path, name, int(every))
        return
    if args.quick:
        args.repeat, args.skip_fvcore, args.skip_sweep = 1, True, True
    floor = import_floor(args.repeat)
    print(
        f'floor, `python -c "import torch"`: {floor["wall"]:.2f} s wall, '
        f"peak {floor['peak_mib']:.0f} MiB\n"
    )
    if not args.skip_models:
        fvcore_repeat = args.fvcore_repeat or args.repeat
        names = model_names(args.include, args.giant)
        per_model_table(names, args.repeat, fvcore_repeat, args.skip_fvcore)
    if not args.skip_sweep:
        sweep_table(args.sweep_fvcore_every, args.skip_fvcore)


if __name__ == "__main__":
    main()
