"""A short fuzzing run of the CLI; `python benchmarks/fuzz_cli.py` runs the long one."""

from __future__ import annotations

from fuzzing import run


def test_mutated_configs_never_crash_the_cli() -> None:
    outcomes = run(count=400, seed=2021, process_every=200)
    # Both outcomes occur: the mutations are neither all fatal nor all harmless.
    assert outcomes[0] > 20 and outcomes[2] > 100, outcomes
