"""The model the solvers choose for every solve of the shipped and tested sweeps.

A change to the solvers' search (grid, bracket, bisection) must leave every chosen model as it
was; the factor reported beside it may change. This script lists each chosen spec, flops goals
over configs/sweeps/*.yaml, the built-in default sweep and the sweeps the tests solve, time goals
over the default sweep's models with two fixed time formulas (not the shipped profiles, which
are refitted), and writes them to
tests/data/solver_choices.json (--write) or reports every solve whose spec differs from that
file (the default; exit 1 on a difference). tests/test_solver_choices.py runs the same check.
Run: python benchmarks/solverchoices.py [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHOICES = REPO / "tests" / "data" / "solver_choices.json"
# The sweeps the tests solve for flops targets: (bases, strategies, factors, flops targets,
# target factors), as tests/test_compare*.py, test_equal_flops.py and test_sweep.py make them.
TEST_SWEEPS = [
    (["regnetx_400mf", "resnet50"], ["w", "dWr"], [2], ["8G"], []),
    (["regnetx_400mf", "resnet50"], ["d", "dWr"], [2, 4, 8], [], []),
    (["regnetx_400mf", "resnet50"], ["w", "dWr"], [2, 4], [], []),
    (["resnet50"], ["w", "d"], [2, 4], [], []),
    (["regnetx_400mf"], ["w", "dWr", "w1_g1"], [2, 4], [], []),
    (["regnety_4gf", "resnet50", "vit_b16", "convnext_t"], ["w", "d", "r", "dw", "dwr", "dWr"],
     [4], [], [4]),
    (["regnetx_400mf", "resnet50"], ["dWr", "w"], [4, 2.5], ["16G"], [4, 1.5]),
]  # fmt: skip
# Predicted seconds per image as flops^a · acts^b (times a constant, which no choice depends on):
# near a GPU's balance (time mostly from flops) and a memory-bound one (mostly from acts).
TIME_FORMULAS = {"flops^0.8 acts^0.2": (0.8, 0.2), "flops^0.4 acts^0.6": (0.4, 0.6)}
TIME_FACTORS = (0.5, 2, 4, 8, 16)


def flops_choices() -> dict[str, str]:
    """Solve key -> repr of the chosen spec, for every flops goal of every sweep."""
    from scalecalc.compare.run import run
    from scalecalc.sweep import DEFAULT_SWEEP, expand
    from scalecalc.sweep_file import make_sweep, read_sweep

    sweeps = {"default": DEFAULT_SWEEP}
    for path in sorted((REPO / "configs" / "sweeps").glob("*.yaml")):
        sweeps[path.name] = read_sweep(path)
    for i, (bases, strategies, factors, flops, target_factors) in enumerate(TEST_SWEEPS):
        sweeps[f"test{i}"] = make_sweep(bases, strategies, factors, flops, target_factors)
    choices = {}
    for name, sweep in sweeps.items():
        for row in run(expand(sweep), convention=sweep.convention):
            if row.target_flops is not None:
                choices[f"{name}:{row.key}"] = repr(row.spec)
    return choices


def time_choices() -> dict[str, str]:
    """Solve key -> repr of the chosen spec, for time goals over the default sweep's models."""
    from scalecalc.api import count, load
    from scalecalc.errors import StrategyError
    from scalecalc.families.spec import BaseSpec
    from scalecalc.profile.document import load_profile
    from scalecalc.sweep import DEFAULT_SWEEP
    from scalecalc.time_solver import solve_time

    profile = load_profile("v100-pycls-train")  # only checked for exponents >= 0
    choices = {}
    for name, (a, b) in TIME_FORMULAS.items():

        def seconds(spec: BaseSpec, a: float = a, b: float = b) -> float:
            costs = count(spec)
            return 1e-12 * costs.flops**a * costs.acts**b

        for base in DEFAULT_SWEEP.bases:
            spec = load(base).spec
            for strategy in DEFAULT_SWEEP.strategies:
                for factor in TIME_FACTORS:
                    key = f"time:{name}:{base}/{strategy}/@{factor:g}xT"
                    goal = factor * seconds(spec)
                    try:
                        solution = solve_time(spec, strategy, goal, profile, time_of=seconds)
                    except StrategyError as error:
                        choices[key] = f"refused: {str(error).split(':')[0]}"
                        continue
                    choices[key] = repr(solution.spec)
    return choices


def all_choices() -> dict[str, str]:
    """Every solve's key and chosen spec."""
    return {**flops_choices(), **time_choices()}


def differences(choices: dict[str, str], stored: dict[str, str]) -> list[str]:
    """One line for each solve whose choice differs from the stored one (or is new or gone)."""
    keys = sorted(choices.keys() | stored.keys())
    return [
        f"{key}: {stored.get(key, 'absent')} -> {choices.get(key, 'absent')}"
        for key in keys
        if choices.get(key) != stored.get(key)
    ]


def main() -> int:
    """Write or check tests/data/solver_choices.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the choices file")
    args = parser.parse_args()
    choices = all_choices()
    if args.write:
        CHOICES.write_text(json.dumps(choices, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"{len(choices)} solves written to {CHOICES.relative_to(REPO)}")
        return 0
    stored = json.loads(CHOICES.read_text(encoding="utf-8"))
    changed = differences(choices, stored)
    print("\n".join(changed) or f"all {len(choices)} solves choose the stored model")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
