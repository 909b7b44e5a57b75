"""`profile calibrate` judged on devices the base profile never saw, and `profile fit`'s time.

    python benchmarks/calibration.py          # the calibration table and the 5-fold fit's time
    python benchmarks/calibration.py --loo    # also time a leave-one-out fit (tens of seconds)

Each row calibrates a built-in profile by one or five models measured on another device (taken
from that device's file) and judges it on the file's other rows: median absolute % error of
predicted vs measured time per image before calibration, after it, the error the calibrated
profile states, the best any single shift could do, and how the profile was moved (one level
per family, or the roofline's terms separately). The CPU rows use
benchmarks/data/bench-cpu-threads1.json: `scalecalc bench` of 12 presets on this machine's
CPU (batch 1, --threads 1 on a shared 2-core machine, fvcore counts).
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scalecalc.bench.results import read_bench
from scalecalc.profile.calibrate import Measured, calibrate
from scalecalc.profile.data import records_of_bench, timm_records
from scalecalc.profile.document import load_profile
from scalecalc.profile.fit import CANDIDATES, FitRecord
from scalecalc.profile.model import Profile, predict
from scalecalc.profile.userfit import FitOptions, fit_user_file

TIMM = ROOT / "data" / "published" / "timm"
CPU = ROOT / "benchmarks" / "data" / "bench-cpu-threads1.json"
FILES = {
    "4090": TIMM / "benchmark-infer-amp-nchw-pt291-cu128-4090.csv",
    "5090": TIMM / "benchmark-infer-amp-nchw-pt291-cu130-5090.csv",
}
# The five models measured, at 224 pixels: their GMACs in the timm files.
AT_224 = {
    "resnet50": 4.11e9,
    "vit_base_patch16_224": 17.58e9,
    "convnext_tiny": 4.47e9,
    "efficientnet_b0": 0.4e9,
    "regnety_040": 4.0e9,
}
FIVE = tuple(AT_224)
CPU_THREE = ("resnet50/base", "vit_s16/base", "efficientnet_b0/base")
# (base profile, judged on, models measured, target %)
CASES = (
    ("rtx4090", "5090", ("resnet50",), 15),
    ("rtx4090", "5090", FIVE, 15),
    ("rtx3090", "4090", ("resnet50",), 15),
    ("rtx3090", "4090", FIVE, 15),
    ("rtx5090", "4090", ("resnet50",), 15),
    ("cpu-i9-10940x", "cpu", ("resnet50/base",), 25),
    ("cpu-i9-10940x", "cpu", CPU_THREE, 25),
)


def records(device: str) -> list[FitRecord]:
    """The measured rows of a device: a timm file (ResNet-50 etc. at 224 first) or the CPU's."""
    if device == "cpu":
        return records_of_bench(read_bench(CPU))
    return timm_records(FILES[device])[0]


def measured(rows: Sequence[FitRecord], names: Sequence[str]) -> list[FitRecord]:
    """Each name's row closest to its 224-pixel GMACs (timm files hold several sizes)."""
    chosen = []
    for name in names:
        same = [r for r in rows if r.name == name]
        at_224 = AT_224.get(name, same[0].flops)
        chosen.append(min(same, key=lambda r: abs(r.flops - at_224)))
    return chosen


def error(profile: Profile, rows: Sequence[FitRecord], shift: float = 0.0) -> float:
    """Median absolute % error of `profile` (times e^shift) on `rows`."""
    return statistics.median(
        abs(
            math.exp(shift)
            * predict(profile, r.flops, r.params, r.acts, r.family).seconds_per_image
            / r.seconds
            - 1
        )
        * 100
        for r in rows
    )


def main(loo: bool) -> int:
    """Print the calibration table and the fit times; exit 0."""
    print(
        "| base | judged on (rows) | measured | uncalibrated | calibrated | stated "
        "| best single shift | moved | target |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: |")
    for base_name, device, names, target in CASES:
        base = load_profile(base_name)
        rows = records(device)
        used = measured(rows, names)
        judged = [r for r in rows if r not in used]
        models = [
            Measured(r.name, r.family, r.flops, r.params, r.acts, 1 / r.seconds) for r in used
        ]
        calibrated, notes = calibrate(base, models, name="mine", device=device)
        moved = "terms" if any(n.startswith("terms moved") for n in notes) else "level"
        ratios = [
            math.log(
                r.seconds / predict(base, r.flops, r.params, r.acts, r.family).seconds_per_image
            )
            for r in judged
        ]
        got = error(calibrated, judged)
        print(
            f"| {base_name} | {device} ({len(judged)}) | {', '.join(names)} "
            f"| {error(base, judged):.1f}% | {got:.1f}% "
            f"| {calibrated.validation.median_abs_pct_error:.1f}% "
            f"| {error(base, judged, statistics.median(ratios)):.1f}% | {moved} "
            f"| {'≤' if got <= target else '>'} {target}% |"
        )
    print()
    methods = ["5-fold", "loo"] if loo else ["5-fold"]
    for method in methods:
        start = time.perf_counter()
        profile, _ = fit_user_file(FILES["4090"], "speed", FitOptions(validation=method))
        seconds = time.perf_counter() - start
        print(
            f"profile fit {FILES['4090'].name} --validation {method}: {seconds:.1f} s "
            f"({profile.source.rows} rows, {profile.source.models} models, "
            f"{len(CANDIDATES)} forms)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main("--loo" in sys.argv[1:]))
