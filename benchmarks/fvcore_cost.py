"""Time and peak memory of the fvcore counter per model, to calibrate its refusal bounds.

Each model is counted in a fresh subprocess; peak memory is the growth of the peak resident
set over the process after imports. Prints a table and the fitted coefficients.

Run: python benchmarks/fvcore_cost.py [MODEL.yaml or preset ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = [
    "resnet50",
    "vit_b16",
    "convnext_t",
    "regnety_4gf",
    "family: vit\npatch_size: 16\nhidden_size: 1024\nnum_layers: 24\nnum_heads: 16\n"
    "mlp_size: 4096\nresolution: 384",
    "family: resnet\nblock: bottleneck\n"
    "depths: [50, 50, 50, 50]\nwidths: [64, 128, 256, 512]\nresolution: 32",
    "family: resnet\nblock: bottleneck\n"
    "depths: [100, 100, 100, 100]\nwidths: [64, 128, 256, 512]\nresolution: 32",
    "family: resnet\nblock: bottleneck\n"
    "depths: [3, 4, 6, 3]\nwidths: [256, 512, 1024, 2048]\nresolution: 512",
]

CHILD = """
import json, resource, sys, time
from pathlib import Path
from scalecalc.api import build, count, load
from scalecalc.config import from_mapping
from scalecalc.yamlfile import read_yaml
from scalecalc.nn.counting import count_fvcore
source = sys.argv[1]
model = from_mapping(read_yaml(Path(source)), "m", source) if source.endswith(".yaml") else load(source)
analytic = count(model.spec)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
start = time.perf_counter()
# The counter's own path without its refusal checks, which this measures for.
costs = count_fvcore(build(model.spec, "meta").to_empty(device="cpu"), model.spec.resolution)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
assert (costs.flops, costs.params, costs.acts) == (analytic.flops, analytic.params, analytic.acts)
print(json.dumps({"seconds": seconds, "peak": peak, "flops": costs.flops, "params": costs.params,
                  "acts": costs.acts, "blocks": model.spec.num_blocks}))
"""


def measure(source: str, scratch: Path) -> dict:
    """Run one fvcore count in a subprocess and return its measurements."""
    if "\n" in source:
        path = scratch / f"model{abs(hash(source))}.yaml"
        path.write_text(source + "\n")
        source = str(path)
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, source], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        print(f"error: {source.splitlines()[0]}: {last}", file=sys.stderr)
        raise SystemExit(2)
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    """Measure each model given (or DEFAULT) and print the table and the fits."""
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "models", nargs="*", metavar="MODEL", help="preset names or YAML files (default: 8 models)"
    )
    sources = parser.parse_args().models or DEFAULT
    rows = []
    print("| model | blocks | flops (G) | params (M) | acts (M) | seconds | peak MiB |")
    print("| :--- | ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as scratch:
        for source in sources:
            row = measure(source, Path(scratch))
            rows.append(row)
            label = source.replace("\n", " ")[:60]
            print(
                f"| {label} | {row['blocks']} | {row['flops'] / 1e9:.2f} | {row['params'] / 1e6:.1f}"
                f" | {row['acts'] / 1e6:.1f} | {row['seconds']:.1f} | {row['peak'] / 2**20:.0f} |",
                flush=True,
            )
    a = np.array([[r["params"], r["acts"]] for r in rows], dtype=float) * 4
    peak = np.array([r["peak"] for r in rows], dtype=float)
    print("peak bytes ~ 4 * (p * params + q * acts):", np.linalg.lstsq(a, peak, rcond=None)[0])
    t = np.array([[r["blocks"], r["flops"]] for r in rows], dtype=float)
    seconds = np.array([r["seconds"] for r in rows], dtype=float)
    print("seconds ~ a * blocks + b * flops:", np.linalg.lstsq(t, seconds, rcond=None)[0])


if __name__ == "__main__":
    main()
