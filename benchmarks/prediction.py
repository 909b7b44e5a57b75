"""Refit the built-in device profiles from data/published and print their validation table.

    python benchmarks/prediction.py            # print the table, check the shipped profiles
    python benchmarks/prediction.py --write    # also rewrite scalecalc/profile/builtin/*.json

Columns: the kept profile's form and held-out median absolute % error and Spearman; its held-out
median error on the rows of scalecalc's five families and on the top third by flops; the same
three for the best log-linear form fitted the same way (least absolute deviations, an intercept
per family); and two plain fits (least squares of log time, one intercept): flops only, and
flops + acts. Last, the time to load a profile and predict 100 models.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scalecalc.profile.data import BUILTINS, fit_builtin
from scalecalc.profile.document import BUILTIN_DIR, load_profile, profile_to_json
from scalecalc.profile.fit import (
    CANDIDATES,
    FitRecord,
    choose,
    form_name,
    held_out,
    profile_form,
    trial,
    validate,
)
from scalecalc.profile.model import predict
from scalecalc.profile.roofline import form_blend

DATA = ROOT / "data" / "published"


def _cell(validation: object) -> str:
    return f"{validation.median_abs_pct_error:.1f}% / {validation.spearman:.3f}"


def regions(records: list[FitRecord], predicted: list[float]) -> str:
    """Median absolute % error of `predicted` on every row, on the rows with a family, and on
    the top third by flops, as "all / families / top third"."""
    errors = [abs(p / r.seconds - 1) * 100 for p, r in zip(predicted, records)]
    cut = sorted(r.flops for r in records)[(2 * len(records)) // 3]
    chosen = (
        errors,
        [e for e, r in zip(errors, records) if r.family is not None],
        [e for e, r in zip(errors, records) if r.flops >= cut],
    )
    return " / ".join(f"{statistics.median(part):.1f}%" if part else "-" for part in chosen)


def best_log_linear(records: list[FitRecord], method: str) -> tuple[tuple[str, ...], list[float]]:
    """The log-linear form a fit would keep were the roofline not tried, and its held-out
    predictions."""
    best = choose([trial(records, f, method) for f in CANDIDATES if form_blend(f) is None])[0]
    return best.form, held_out(records, best.form, method)


def main(write: bool) -> int:
    """Fit every built-in profile, print the table; exit 1 if a shipped file differs."""
    header = (
        "| profile | rows (models) | method | kept form | kept: error / Spearman "
        "| kept: all / families / top third | best log-linear: all / families / top third "
        "| flops only, least squares | flops + acts, least squares |"
    )
    print(header)
    print("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    stale = []
    for name, spec in BUILTINS.items():
        profile = fit_builtin(name, DATA)
        records = spec.records(DATA)
        method = profile.validation.method
        flops_only = validate(records, ("flops",), method, families=False, robust=False)
        plain = validate(records, ("flops", "acts"), method, families=False, robust=False)
        kept = regions(records, held_out(records, profile_form(profile), method))
        form, predicted = best_log_linear(records, method)
        print(
            f"| {name} | {profile.source.rows} ({profile.source.models}) | {method} "
            f"| {form_name(profile_form(profile))}; {len(profile.intercepts)} groups "
            f"| {_cell(profile.validation)} | {kept} "
            f"| {form_name(form)}: {regions(records, predicted)} "
            f"| {_cell(flops_only)} | {_cell(plain)} |"
        )
        text = profile_to_json(profile)
        path = BUILTIN_DIR / f"{name}.json"
        if write:
            path.write_text(text, encoding="utf-8")
        elif not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    print()
    print(f"load + predict 100 models: {_prediction_ms():.2f} ms (best of 20)")
    if stale:
        print(f"shipped profiles differ from a fresh fit: {', '.join(stale)} (run with --write)")
        return 1
    return 0


def _prediction_ms() -> float:
    """Best of 20: load the rtx4090 profile from its file and predict 100 models."""
    counts = [(1e9 * 1.1**i, 5e6 * 1.05**i, 8e6 * 1.07**i) for i in range(100)]
    best = math.inf
    for _ in range(20):
        start = time.perf_counter()
        profile = load_profile("rtx4090")
        for flops, params, acts in counts:
            predict(profile, flops, params, acts, "regnet")
        best = min(best, time.perf_counter() - start)
    return best * 1e3


if __name__ == "__main__":
    sys.exit(main("--write" in sys.argv[1:]))
