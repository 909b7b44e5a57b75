"""The CUDA device view of a traced peak, and timm's out-of-memory brackets it was fitted on."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from test_benchmarks import module, script

from scalecalc.devicememory import (
    CONTEXT,
    CUBLAS_WORKSPACE,
    RESERVE,
    SEGMENT,
    allocated_budget,
    device_view,
    fixed_bytes,
)

MIB = 2**20
GIB = 2**30


def test_device_view_adds_reserve_in_segments_workspace_and_context() -> None:
    # 8 GiB of tensors: 8 * 1.0875 = 8.7 GiB = 8908.8 MiB, rounded up to 2 MiB segments: 8910 MiB;
    # cuBLAS: 2 * 4 MiB + 8 * 16 KiB = 8.125 MiB; context 1 GiB.
    view = device_view(8 * GIB)
    assert (RESERVE, CONTEXT, SEGMENT) == (Fraction(7, 80), 1024 * MIB, 2 * MIB)
    assert view.reserved == 8910 * MIB
    assert view.cublas_workspace == CUBLAS_WORKSPACE == 8 * MIB + 128 * 1024
    assert view.total == 8910 * MIB + 8 * MIB + 128 * 1024 + 1024 * MIB


def test_allocated_budget_is_the_exact_inverse() -> None:
    for device in (24 * GIB, 80 * 10**9, fixed_bytes() + SEGMENT, 3 * GIB + 12345):
        largest = allocated_budget(device)
        assert device_view(largest).total <= device < device_view(largest + 1).total
    # Below the context and workspace no step fits; at exactly that, an empty one does.
    assert allocated_budget(fixed_bytes() - 1) == -1
    assert allocated_budget(fixed_bytes()) == 0


def test_timm_ladder_and_brackets() -> None:
    brackets = module("oom_brackets")
    # timm's decay_batch_step docstring, two steps per power of two: 64, 48, 32, 24, ...
    assert brackets.ladder(64) == [64, 48, 32, 24, 16, 12, 8, 6, 4, 3, 2, 1]
    assert brackets.ladder()[:6] == [512, 384, 256, 192, 128, 96]
    assert brackets.bracket(96) == (96, 128) and brackets.bracket(512) == (512, None)
    # Inside the bracket, one step above it, one below.
    assert brackets.steps_off(127, 96) == 0
    assert brackets.steps_off(128, 96) == 1
    assert brackets.steps_off(95, 96) == -1
    assert brackets.steps_off(0, 1) == -1


def test_every_expressible_timm_name_has_timms_parameter_count() -> None:
    # The names map to specs with the same design: each has the param count timm printed.
    import csv

    from scalecalc.api import count

    brackets = module("oom_brackets")
    names = module("timmnames")
    chosen = brackets.rows(brackets.CSV, "*")
    assert len(chosen) == 79
    printed = {}
    with brackets.CSV.open(encoding="utf-8", newline="") as file:
        printed = {row["model"]: float(row["param_count"]) for row in csv.DictReader(file)}
    for model, _family, size, _batch in chosen:
        params = count(names.timm_spec(model, size)).params
        assert round(params / 1e6, 2) == pytest.approx(printed[model], abs=0.006), model


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "size", "batch"),
    [("resnet101", 224, 256), ("vit_base_patch16_224", 224, 192), ("convnext_small", 224, 192)],
)
def test_predicted_largest_batch_lies_in_timms_bracket(model: str, size: int, batch: int) -> None:
    brackets = module("oom_brackets")
    predicted, _peak = brackets.predict(model, size, batch)
    low, high = brackets.bracket(batch)
    assert low <= predicted < high


def test_oom_brackets_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    missing = script("oom_brackets", "--csv", str(tmp_path / "none.csv"))
    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr == f"error: --csv: no such file: {tmp_path / 'none.csv'}\n"
    nothing = script("oom_brackets", "--include", "deit3_*")
    assert (nothing.returncode, nothing.stdout) == (2, "")
    assert nothing.stderr == (
        "error: --include: no row's model matches 'deit3_*' and is a scalecalc spec\n"
    )
