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

The transfer table measures what a change of device adds to a base's own held-out error once
the best single level is set, τ = √(best-level error² - base error²) in log time, for every
built-in GPU profile on every other GPU file (the 3090 also on torch 1.13) and the i9 profile on
this CPU: the largest GPU τ is calibrate's GPU_TRANSFER, the CPU's its CPU_TRANSFER. The
held-out table then calibrates each GPU direction with τ taken from the other device pairs only
(their largest) and compares the error it states with the error it achieves.
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
from scalecalc.profile.calibrate import CPU_TRANSFER, GPU_TRANSFER, Measured, calibrate
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
    "3090": TIMM / "benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv",
    "3090 torch 1.13": TIMM / "benchmark-infer-amp-nchw-pt113-cu117-rtx3090.csv",
}
# (base profile, device file, the device pair): every built-in GPU inference profile on the
# other GPU files; the rtx3090 profile is fitted on the 3090 torch 2.4 file.
DIRECTIONS = (
    ("rtx3090", "4090", "3090-4090"),
    ("rtx4090", "3090", "3090-4090"),
    ("rtx3090", "5090", "3090-5090"),
    ("rtx5090", "3090", "3090-5090"),
    ("rtx4090", "5090", "4090-5090"),
    ("rtx5090", "4090", "4090-5090"),
    ("rtx3090", "3090 torch 1.13", "torch 2.4-1.13"),
)
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


def ratios(profile: Profile, rows: Sequence[FitRecord]) -> list[float]:
    """Each row's log(measured / predicted seconds per image) on `profile`."""
    return [
        math.log(
            r.seconds / predict(profile, r.flops, r.params, r.acts, r.family).seconds_per_image
        )
        for r in rows
    ]


def transfer(base_name: str, device: str) -> float:
    """τ of a base on a device's file: √(best-level error² - base error²) in log time (0 where
    the best level does better than the base's own held-out error)."""
    base, rows = load_profile(base_name), records(device)
    best = math.log1p(error(base, rows, statistics.median(ratios(base, rows))) / 100)
    own = math.log1p(base.validation.median_abs_pct_error / 100)
    return math.sqrt(max(0.0, best**2 - own**2))


def calibrated(
    base_name: str, device: str, names: Sequence[str], tau: float | None = None
) -> tuple[Profile, Profile, list[FitRecord], list[str]]:
    """The base, it calibrated by `names` measured on the device's file (τ `tau`, else the
    shipped one), the file's other rows that judge it, and calibrate's report lines."""
    base, rows = load_profile(base_name), records(device)
    used = measured(rows, names)
    models = [Measured(r.name, r.family, r.flops, r.params, r.acts, 1 / r.seconds) for r in used]
    profile, notes = calibrate(base, models, name="mine", device=device, transfer=tau)
    return base, profile, [r for r in rows if r not in used], notes


def transfer_tables() -> None:
    """Print τ per direction and the held-out check of the stated error, pair by pair."""
    taus = {(b, d): transfer(b, d) for b, d, _ in DIRECTIONS}
    print("| base | on | τ (log time) |")
    print("| --- | --- | ---: |")
    for (base_name, device), tau in taus.items():
        print(f"| {base_name} | {device} | {tau:.3f} |")
    cpu = transfer("cpu-i9-10940x", "cpu")
    print(f"| cpu-i9-10940x | cpu | {cpu:.3f} |")
    print(
        f"\nGPU τ (largest): {max(taus.values()):.3f}, shipped {GPU_TRANSFER}; "
        f"CPU τ: {cpu:.3f}, shipped {CPU_TRANSFER}\n"
    )
    print("| held-out pair | τ from the other pairs | base | on | measured | stated | achieved |")
    print("| --- | ---: | --- | --- | --- | ---: | ---: |")
    for base_name, device, pair in DIRECTIONS:
        tau = max(taus[b, d] for b, d, other in DIRECTIONS if other != pair)
        for names in (("resnet50",), FIVE):
            _, profile, judged, _ = calibrated(base_name, device, names, tau)
            stated = profile.validation.median_abs_pct_error
            got = error(profile, judged)
            print(
                f"| {pair} | {tau:.3f} | {base_name} | {device} "
                f"| {'five' if names == FIVE else names[0]} | {stated:.1f}% | {got:.1f}% "
                f"{'≤' if got <= stated else '>'} stated |"
            )
    print()


def main(loo: bool) -> int:
    """Print the calibration and transfer tables and the fit times; exit 0."""
    print(
        "| base | judged on (rows) | measured | uncalibrated | calibrated | stated "
        "| best single shift | moved | target | stated ≥ achieved |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | --- |")
    for base_name, device, names, target in CASES:
        base, profile, judged, notes = calibrated(base_name, device, names)
        moved = "terms" if any(n.startswith("terms moved") for n in notes) else "level"
        got = error(profile, judged)
        print(
            f"| {base_name} | {device} ({len(judged)}) | {', '.join(names)} "
            f"| {error(base, judged):.1f}% | {got:.1f}% "
            f"| {profile.validation.median_abs_pct_error:.1f}% "
            f"| {error(base, judged, statistics.median(ratios(base, judged))):.1f}% | {moved} "
            f"| {'≤' if got <= target else '>'} {target}% "
            f"| {'yes' if profile.validation.median_abs_pct_error >= got else 'no'} |"
        )
    print()
    transfer_tables()
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
