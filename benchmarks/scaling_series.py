"""Predicted against measured time ratios along the measured scaling series of a timm file.

    python benchmarks/scaling_series.py                      # rtx4090 vs its own 4090 file
    python benchmarks/scaling_series.py --profile rtx5090    # any built-in timm GPU profile
    python benchmarks/scaling_series.py --steps              # also every step of every series

A series is one design grown along one strategy axis: width (ViT T/S/B/L, DeiT, ConvNeXt,
ResNet-50 -> Wide ResNet-50-2, ResNeXt-101 32x4d -> 32x32d), depth (ResNet 18 -> 200, ResNeXt
50 -> 101, ConvNeXt T -> S), resolution (each model of those series at every image size the
file holds) or compound (EfficientNet B0 -> B5, RegNetX/Y 002 -> 320). For each model after the
series' smallest, the error is predicted time ratio / measured time ratio - 1, both against the
smallest. Two predictions: the shipped profile (fitted on every row, so in-sample) and 5-fold
held-out (each model predicted by a fit on the folds without it, the profile's own form).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scalecalc.profile.data import BUILTINS, timm_records
from scalecalc.profile.document import load_profile
from scalecalc.profile.fit import FitRecord, held_out, profile_form
from scalecalc.profile.model import predict

DATA = ROOT / "data" / "published"
AXES = ("width", "depth", "resolution", "compound")
Series = tuple[
    str, str, list[tuple[str, int]]
]  # axis, name, (timm model, image size) smallest first


def _vit(size: str, patch: int, image: int) -> tuple[str, int]:
    return f"vit_{size}_patch{patch}_{image}", image


def designed() -> list[Series]:
    """The width, depth and compound series, each at every image size it is measured at."""
    out: list[Series] = []
    for r in (224, 384):
        out.append(
            (
                "width",
                f"ViT T/S/B/L p16 @{r}",
                [_vit(s, 16, r) for s in ("tiny", "small", "base", "large")],
            )
        )
        out.append(
            ("width", f"ViT S/B/L p32 @{r}", [_vit(s, 32, r) for s in ("small", "base", "large")])
        )
    out.append(
        (
            "width",
            "DeiT T/S/B @224",
            [(f"deit_{s}_patch16_224", 224) for s in ("tiny", "small", "base")],
        )
    )
    for r in (224, 288):
        out.append(
            (
                "width",
                f"ConvNeXt atto/femto/pico @{r}",
                [(f"convnext_{s}", r) for s in ("atto", "femto", "pico")],
            )
        )
    for r in (224, 288, 384):
        out.append(
            (
                "width",
                f"ConvNeXt S/B/L/XL @{r}",
                [(f"convnext_{s}", r) for s in ("small", "base", "large", "xlarge")],
            )
        )
    for r in (176, 224, 288):
        out.append(
            ("width", f"ResNet-50 -> WRN-50-2 @{r}", [("resnet50", r), ("wide_resnet50_2", r)])
        )
    for r in (176, 224):
        out.append(
            ("width", f"ResNet-101 -> WRN-101-2 @{r}", [("resnet101", r), ("wide_resnet101_2", r)])
        )
    out.append(
        (
            "width",
            "ResNeXt-101 32x4d/8d/16d/32d @224",
            [(f"resnext101_32x{w}d", 224) for w in (4, 8, 16, 32)],
        )
    )
    for r in (224, 288):
        out.append(
            (
                "width",
                f"ResNeXt-101 32x4d -> 64x4d @{r}",
                [("resnext101_32x4d", r), ("resnext101_64x4d", r)],
            )
        )
    for r in (160, 224, 288):
        out.append(("depth", f"ResNet 18/34 @{r}", [("resnet18", r), ("resnet34", r)]))
    for r in (160, 176):
        out.append(
            ("depth", f"ResNet 50/101/152 @{r}", [(f"resnet{d}", r) for d in (50, 101, 152)])
        )
    for r in (224, 288):
        out.append(
            (
                "depth",
                f"ResNet 26/50/101/152/200 @{r}",
                [(f"resnet{d}", r) for d in (26, 50, 101, 152, 200)],
            )
        )
        out.append(
            (
                "depth",
                f"ResNeXt 50 -> 101 32x4d @{r}",
                [("resnext50_32x4d", r), ("resnext101_32x4d", r)],
            )
        )
    for r in (176, 224):
        out.append(
            ("depth", f"WRN 50-2 -> 101-2 @{r}", [("wide_resnet50_2", r), ("wide_resnet101_2", r)])
        )
    for r in (224, 288, 384):
        out.append(
            ("depth", f"ConvNeXt T -> S @{r}", [("convnext_tiny", r), ("convnext_small", r)])
        )
    native = (224, 240, 260, 300, 380, 456)
    out.append(
        (
            "compound",
            "EfficientNet B0-B5 (tf_, native sizes)",
            [(f"tf_efficientnet_b{i}", r) for i, r in enumerate(native)],
        )
    )
    test = (256, 288, 288, 320, 384, 448)
    out.append(
        (
            "compound",
            "EfficientNet B0-B5 (timm, test sizes)",
            [(f"efficientnet_b{i}", r) for i, r in enumerate(test)],
        )
    )
    regnets = ("002", "004", "006", "008", "016", "032", "040", "064", "080", "120", "160", "320")
    for kind in "xy":
        out.append(
            (
                "compound",
                f"RegNet{kind.upper()} 002-320 @224",
                [(f"regnet{kind}_{n}", 224) for n in regnets],
            )
        )
    return out


def indexed(path: Path) -> tuple[list[FitRecord], dict[tuple[str, int], int]]:
    """The file's fitting records and, per (model, image size), its record's index."""
    records = timm_records(path)[0]
    by_counts = {(r.name, r.flops): i for i, r in enumerate(records)}
    index: dict[tuple[str, int], int] = {}
    with path.open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            try:
                key = (row["model"], float(row["infer_gmacs"]) * 1e9)
                size = int(row["infer_img_size"])
            except ValueError:
                continue
            if key in by_counts:
                index.setdefault((row["model"], size), by_counts[key])
    return records, index


def measured_series(index: dict[tuple[str, int], int]) -> list[tuple[str, str, list[int]]]:
    """Every designed series with at least two of its models in the file (as record indices),
    then one resolution series per model of those with two or more image sizes."""
    out, models = [], set()
    for axis, name, members in designed():
        present = [index[m] for m in members if m in index]
        if len(present) >= 2:
            out.append((axis, name, present))
        models.update(model for model, _ in members)
    for model in sorted(models):
        sizes = sorted(size for m, size in index if m == model)
        if len(sizes) >= 2:
            label = f"{model} @{'/'.join(map(str, sizes))}"
            out.append(("resolution", label, [index[(model, s)] for s in sizes]))
    return out


def ratio_errors(
    members: Sequence[int], predicted: Sequence[float], measured: Sequence[float]
) -> list[float]:
    """Per model after the first: predicted ratio to the first / measured ratio - 1, in %."""
    base = members[0]
    return [
        100 * ((predicted[i] / predicted[base]) / (measured[i] / measured[base]) - 1)
        for i in members[1:]
    ]


def _signed(errors: Sequence[float]) -> str:
    return " ".join(f"{e:+.1f}" for e in errors)


def main(argv: Sequence[str]) -> int:
    """Print the per-axis table (and with --steps, every series) for one built-in profile."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--profile", default="rtx4090", help="a built-in profile fitted on a timm file"
    )
    parser.add_argument("--steps", action="store_true", help="print every series' errors")
    args = parser.parse_args(argv)
    spec = BUILTINS.get(args.profile)
    if spec is None or not spec.data.endswith(".csv") or spec.counts:
        timm = ", ".join(n for n, b in BUILTINS.items() if b.data.endswith(".csv") and not b.counts)
        print(
            f"error: --profile: {args.profile!r} is not a timm inference profile; one of {timm}",
            file=sys.stderr,
        )
        return 2
    profile = load_profile(args.profile)
    records, index = indexed(DATA / spec.data)
    measured = [r.seconds for r in records]
    shipped = [
        predict(profile, r.flops, r.params, r.acts, r.family).seconds_per_image for r in records
    ]
    fivefold = held_out(records, profile_form(profile), "5-fold")
    series = measured_series(index)
    print(f"{profile.name} ({profile.form}) vs {Path(spec.data).name}: {len(series)} series")
    print("error of the predicted time ratio to the series' smallest model, in %")
    print()
    print(
        "| axis | series | steps | shipped: median | shipped: worst | 5-fold: median | 5-fold: worst |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for axis in AXES:
        chosen = [s for s in series if s[0] == axis]
        fitted = [e for s in chosen for e in ratio_errors(s[2], shipped, measured)]
        held = [e for s in chosen for e in ratio_errors(s[2], fivefold, measured)]
        cells = [
            f"{statistics.median(map(abs, errors)):.1f} | {max(map(abs, errors)):.1f}"
            for errors in (fitted, held)
        ]
        print(f"| {axis} | {len(chosen)} | {len(fitted)} | {cells[0]} | {cells[1]} |")
    worst = max(series, key=lambda s: max(map(abs, ratio_errors(s[2], shipped, measured))))
    print()
    print(
        f"worst series (shipped): {worst[1]}: {_signed(ratio_errors(worst[2], shipped, measured))}"
    )
    if args.steps:
        print()
        print("| axis | series | shipped | 5-fold |")
        print("| --- | --- | --- | --- |")
        for axis, name, members in series:
            fitted = _signed(ratio_errors(members, shipped, measured))
            held = _signed(ratio_errors(members, fivefold, measured))
            print(f"| {axis} | {name} | {fitted} | {held} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
