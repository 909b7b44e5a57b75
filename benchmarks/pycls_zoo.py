"""The 36 models of pycls's model zoo: scalecalc's counts against pycls's, and published GPU times.

Counts every zoo model (RegNetX/Y 200MF-32GF from their paper parameters, ResNet and ResNeXt
50/101/152, EfficientNet-B0-B5) with the analytic counter; checks params exactly, flops and acts
exactly up to what pycls counts and the paper convention does not (bias adds; ResNet's max-pool
output as acts), against pycls's `dev/model_complexity.json`; then correlates the zoo's measured
V100 times per image with flops, params and acts (Pearson on logs, Spearman).

Per image: inference is MODEL_ZOO.md's `infer` column (ms for 64 images on one GPU, derived from
`test_fw_time`) / 64; training is `train_fw_bw_time` (one step on one of 8 GPUs) / (batch / 8),
with the batch size of MODEL_ZOO.md's table.

Run: python benchmarks/pycls_zoo.py DIR, where DIR is a pycls checkout (MODEL_ZOO.md at its
root, model_complexity.json and model_timing.json in dev/) or a folder holding all three, as
data/published/pycls does.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

from scalecalc.api import count
from scalecalc.config import from_mapping
from scalecalc.correlation import pearson_log, spearman

# RegNet paper parameters (depth, w0, wa, wm, group width) of pycls's configs/dds_baselines.
REGNETS = {
    "200MF": ((13, 24, 36.44, 2.49, 8), (13, 24, 36.44, 2.49, 8)),
    "400MF": ((22, 24, 24.48, 2.54, 16), (16, 48, 27.89, 2.09, 8)),
    "600MF": ((16, 48, 36.97, 2.24, 24), (15, 48, 32.54, 2.32, 16)),
    "800MF": ((16, 56, 35.73, 2.28, 16), (14, 56, 38.84, 2.4, 16)),
    "1.6GF": ((18, 80, 34.01, 2.25, 24), (27, 48, 20.71, 2.65, 24)),
    "3.2GF": ((25, 88, 26.31, 2.25, 48), (21, 80, 42.63, 2.66, 24)),
    "4.0GF": ((23, 96, 38.65, 2.43, 40), (22, 96, 31.41, 2.24, 64)),
    "6.4GF": ((17, 184, 60.83, 2.07, 56), (25, 112, 33.22, 2.27, 72)),
    "8.0GF": ((23, 80, 49.56, 2.88, 120), (17, 192, 76.82, 2.19, 56)),
    "12GF": ((19, 168, 73.36, 2.37, 112), (19, 168, 73.36, 2.37, 112)),
    "16GF": ((22, 216, 55.59, 2.1, 128), (18, 200, 106.23, 2.48, 112)),
    "32GF": ((23, 320, 69.86, 2.0, 168), (20, 232, 115.89, 2.53, 232)),
}
RESNET_DEPTHS = {"50": [3, 4, 6, 3], "101": [3, 4, 23, 3], "152": [3, 8, 36, 3]}
RESNET_WIDTHS = [256, 512, 1024, 2048]


def zoo() -> dict[str, tuple[str, dict]]:
    """Timing name -> (pycls config path, scalecalc YAML fields) for all 36 models."""
    models: dict[str, tuple[str, dict]] = {}
    for size, (x, y) in REGNETS.items():
        for kind, params, se in (("X", x, 0.0), ("Y", y, 0.25)):
            depth, w0, wa, wm, gw = params
            fields = {"family": "regnet", "depth": depth, "w0": w0, "wa": wa, "wm": wm}
            fields |= {"group_width": gw, "se_ratio": se}
            path = f"regnet{kind.lower()}/RegNet{kind}-{size}_dds_8gpu.yaml"
            models[f"RegNet{kind}-{size}"] = (path, fields)
    for depth, depths in RESNET_DEPTHS.items():
        plain = {"family": "resnet", "block": "bottleneck", "depths": depths}
        plain["widths"] = RESNET_WIDTHS
        models[f"ResNet-{depth}"] = (f"resnet/R-{depth}-1x64d_dds_8gpu.yaml", plain)
        grouped = plain | {"groups": 32, "width_per_group": 4}
        models[f"ResNeXt-{depth}"] = (f"resnext/X-{depth}-32x4d_dds_8gpu.yaml", grouped)
    for i in range(6):
        preset = {"preset": f"efficientnet_b{i}"}
        models[f"EfficientNet-B{i}"] = (f"effnet/EN-B{i}_dds_8gpu.yaml", preset)
    return models


def pycls_extras(spec: Any) -> tuple[int, int]:
    """(flops, acts) pycls counts beyond scalecalc's paper convention.

    Flops: bias additions (the classifier; SE's two 1x1 convs per block). Acts: the output of
    ResNet's stem max pool (scalecalc counts outputs of convolutions and products only).
    """
    adds, acts = spec.num_classes, 0
    if spec.family == "efficientnet":
        c_in = spec.stem_width
        for depth, width, ratio in zip(spec.depths, spec.widths, spec.exp_ratios):
            for _ in range(depth):
                adds += int(c_in * spec.se_ratio) + c_in * ratio
                c_in = width
    elif spec.family == "regnet" and spec.se_ratio:
        c_in = spec.stem_width
        for depth, width, bottleneck in zip(spec.depths, spec.widths, spec.bottleneck_widths()):
            for _ in range(depth):
                adds += round(c_in * spec.se_ratio) + bottleneck
                c_in = width
    elif spec.family == "resnet":
        pooled = (spec.resolution - 1) // 2 // 2 + 1  # stride-2 conv, then stride-2 pool
        acts = spec.stem_width * pooled * pooled
    return adds, acts


def zoo_table(text: str) -> dict[str, tuple[int, float]]:
    """MODEL_ZOO.md's rows: name -> (training batch size, inference ms for 64 images)."""
    rows = {}
    for name, cells in re.findall(
        r'<a href="configs/dds_baselines/[^"]+">([^<]+)</a></td>(.*?)</tr>', text, re.S
    ):
        values = re.findall(r'<td align="center">([^<]*)</td>', cells)
        rows[name] = (int(values[3]), float(values[4]))
    return rows


def zoo_file(folder: Path, name: str) -> Path:
    """`name` in `folder` or its dev/ (a pycls checkout keeps its JSON there); SystemExit with
    one line if in neither."""
    for place in (folder / name, folder / "dev" / name):
        if place.is_file():
            return place
    refuse(f"{folder}: no {name} in it or in its dev/; give a pycls checkout")


def refuse(message: str) -> NoReturn:
    """One `error:` line on stderr, exit status 2 (as argparse exits on bad arguments)."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def main() -> int:
    """Count, check and correlate; print markdown tables; exit 1 if a count disagrees."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="a pycls checkout, or data/published/pycls")
    args = parser.parse_args()
    try:
        published = json.loads(zoo_file(args.data, "model_complexity.json").read_text())
        timing = json.loads(zoo_file(args.data, "model_timing.json").read_text())
        table = zoo_table(zoo_file(args.data, "MODEL_ZOO.md").read_text())
    except (OSError, ValueError) as error:
        refuse(f"{args.data}: cannot read pycls's zoo files ({error})")
    models = zoo()
    names = sorted(k for k in timing if k != "date-created")
    if sorted(models) != names or not set(models) <= set(table):
        refuse(f"{args.data}: not the 36-model zoo this script knows: {names}")
    print("| model | flops (G) | params (M) | acts (M) | pycls | test ms/img | train ms/img |")
    print("| :--- | ---: | ---: | ---: | :--- | ---: | ---: |")
    measures: dict[str, list[float]] = {"flops": [], "params": [], "acts": []}
    times: dict[str, list[float]] = {"test": [], "train": []}
    mismatches = 0
    for name, (path, fields) in models.items():
        spec = from_mapping(fields, name, name).spec
        costs = count(spec)
        ref = published[f"configs/dds_baselines/{path}"]
        extra_flops, extra_acts = pycls_extras(spec)
        ours = (costs.flops + extra_flops, costs.params, costs.acts + extra_acts)
        same = ours == (ref["flops"], ref["params"], ref["acts"])
        mismatches += not same
        batch, infer_ms = table[name]
        test_ms, train_ms = infer_ms / 64, timing[name]["train_fw_bw_time"] * 1000 / (batch / 8)
        for key in measures:
            measures[key].append(getattr(costs, key))
        times["test"].append(test_ms)
        times["train"].append(train_ms)
        print(
            f"| {name} | {costs.flops / 1e9:.3f} | {costs.params / 1e6:.2f} | "
            f"{costs.acts / 1e6:.2f} | {'equal' if same else f'DIFFERS {ref}'} | "
            f"{test_ms:.3f} | {train_ms:.2f} |"
        )
    print(f"\n{len(models) - mismatches} of {len(models)} models equal pycls's counts.\n")
    print("| time per image | measure | Pearson (logs) | Spearman |")
    print("| :--- | :--- | ---: | ---: |")
    for when, ys in times.items():
        for key, xs in measures.items():
            print(f"| {when} | {key} | {pearson_log(xs, ys):.3f} | {spearman(xs, ys):.3f} |")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
