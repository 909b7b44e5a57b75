"""Time and peak memory of counting: the meta path vs fvcore on a conventionally built model.

Each measurement runs in a fresh process so peak memory (ru_maxrss) belongs to that count alone.
Run: python benchmarks/counting.py [--include GLOB] [--repeat N] [--skip-fvcore]
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
    "family": "vit", "patch_size": 14, "hidden_size": 1664, "num_layers": 48,
    "num_heads": 16, "mlp_size": 8192, "resolution": 224,
}


def _spec(name: str):  # noqa: ANN202
    from scalecalc.config import from_mapping, load

    if name == "vit_1.8b":
        return from_mapping(GIANT_VIT, name, "benchmark").spec
    return load(name).spec


def worker(path: str, name: str) -> None:
    """Count one model by one path and print seconds and peak RSS as JSON."""
    import torch

    from scalecalc.api import build, count
    from scalecalc.counting import count_fvcore

    start = time.perf_counter()
    if path == "meta":
        costs = count(_spec(name))
    elif path == "fvcore":
        spec = _spec(name)
        model = build(spec, "cpu")  # conventional: real weights, default initialisation
        costs = count_fvcore(model, spec.resolution)
    else:  # "import": the floor, a bare `import torch`
        costs = None
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "flops": costs and costs.flops}))
    del torch


def measure(path: str, name: str, repeat: int) -> dict:
    """Median seconds and max peak MiB over `repeat` fresh processes."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--worker", path, name],
            check=True, capture_output=True, text=True,
        ).stdout
        runs.append(json.loads(out.splitlines()[-1]))
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "peak_mib": max(r["peak_mib"] for r in runs),
        "flops": runs[0]["flops"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--include", default="*", help="glob over preset names")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-fvcore", action="store_true")
    parser.add_argument("--worker", nargs=2, metavar=("PATH", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    from scalecalc.registry import list_presets

    floor = measure("import", "-", args.repeat)
    print(f"bare `import torch`: peak {floor['peak_mib']:.0f} MiB\n")
    print("| model | meta (s) | meta peak (MiB) | fvcore (s) | fvcore peak (MiB) | speed-up |")
    print("| :--- | ---: | ---: | ---: | ---: | ---: |")
    for name in list_presets(args.include) + ["vit_1.8b"]:
        fast = measure("meta", name, args.repeat)
        cells = [name, f"{fast['seconds']:.3f}", f"{fast['peak_mib']:.0f}"]
        if args.skip_fvcore:
            cells += ["-", "-", "-"]
        else:
            ref = measure("fvcore", name, 1 if name == "vit_1.8b" else args.repeat)
            assert ref["flops"] == fast["flops"], (name, ref["flops"], fast["flops"])
            speedup = ref["seconds"] / fast["seconds"]
            cells += [f"{ref['seconds']:.2f}", f"{ref['peak_mib']:.0f}", f"{speedup:.0f}x"]
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
