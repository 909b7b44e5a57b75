"""The memory trace takes the meta counter's limits: at most 1000 blocks, 2^60 activation
elements, batches of 1 to 2^31; past them a one-line error, never an overflow or a long trace."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalecalc.api import count
from scalecalc.cli import app
from scalecalc.config import load
from scalecalc.errors import ConfigError, ModelTooLargeError
from scalecalc.families.resnet import ResNetSpec
from scalecalc.families.vit import ViTSpec
from scalecalc.limits import MAX_BATCH_SIZE, MAX_TRACED_ELEMENTS, check_batch_size
from scalecalc.nn.memory import estimate_peak, max_batch, spec_step
from scalecalc.units import parse_bytes

TINY_REGNET = load(str(Path(__file__).parent / "data" / "bench_tiny.yaml")).spec
# 1001 small blocks: cheap to build, one block past the limit.
DEEP = ResNetSpec(depths=(1000, 1), widths=(32, 32), stem_width=8, resolution=32)
# 65,537 tokens of 12 heads: scores of 5.2e10 elements per image.
LONG_VIT = ViTSpec(
    patch_size=4, resolution=1024, num_layers=1, hidden_size=768, num_heads=12, mlp_size=3072
)
# 8192² + 1 tokens of 1024 heads: scores of 4.6e18 elements, past 2^60 at batch 1.
HUGE_VIT = ViTSpec(
    patch_size=1, resolution=8192, num_layers=1, hidden_size=65536, num_heads=1024, mlp_size=4
)
runner = CliRunner()


def assert_one_line_error(args: list[str], expected: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (args, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr, result.stderr


# --- the limits themselves ---


@pytest.mark.parametrize("value", [0, -1, MAX_BATCH_SIZE + 1, 10**23, True, 2.0])
def test_batch_sizes_outside_one_to_two_to_the_31_are_refused(value: object) -> None:
    with pytest.raises(ConfigError, match=r"--batch-size: must be from 1 to 2147483648 \(2\^31\)"):
        check_batch_size(value)  # type: ignore[arg-type]
    assert check_batch_size(1) == 1 and check_batch_size(2**31) == 2**31


def test_a_size_too_large_for_a_float_is_refused_not_overflowed() -> None:
    with pytest.raises(ConfigError, match="--max-batch: must be between 1 B and 1 EiB"):
        parse_bytes("1" + "0" * 310 + "GB", "--max-batch")
    assert parse_bytes("1048576TiB") == 2**60  # the largest accepted, exactly


# --- the memory trace (Python API) ---


def test_more_than_a_thousand_blocks_are_refused_before_building() -> None:
    assert DEEP.num_blocks == 1001
    with pytest.raises(ModelTooLargeError, match=r"1001 blocks is more than the memory trace"):
        spec_step(DEEP)
    # The meta counter refuses it with the same limit.
    with pytest.raises(ModelTooLargeError, match=r"1001 blocks is more than the meta counter"):
        count(DEEP, counter="meta")


def test_activations_past_two_to_the_60_are_refused_not_overflowed() -> None:
    acts = count(HUGE_VIT).acts
    # By hand: 1024 heads × L² scores, L = 8192² patches + the class token, is past 2^60 alone.
    assert acts > 1024 * (8192**2 + 1) ** 2 > MAX_TRACED_ELEMENTS
    with pytest.raises(ModelTooLargeError, match=r"activations \(.*\) are more than the memory"):
        estimate_peak(HUGE_VIT, 1)


def test_the_largest_batch_traced_is_the_last_within_two_to_the_60_elements() -> None:
    acts = count(LONG_VIT).acts
    step = spec_step(LONG_VIT)
    limit = step.batch_limit
    assert limit * acts <= MAX_TRACED_ELEMENTS < (limit + 1) * acts
    # The largest tensor is within the activations, so the limit itself traces without overflow:
    # at least the 12 heads' 65,537² float32 scores of every image are alive at the peak.
    assert step.estimate(limit).total_bytes >= limit * 12 * 65537**2 * 4
    with pytest.raises(ModelTooLargeError, match=f"batch size {limit + 1} is more than"):
        step.estimate(limit + 1)


def test_max_batch_refuses_a_budget_that_holds_more_than_it_traces() -> None:
    step = spec_step(TINY_REGNET)
    assert step.batch_limit == MAX_BATCH_SIZE  # the elements allow more: 2^31 binds
    with pytest.raises(ModelTooLargeError, match="at least 2147483648 images of this model fit"):
        max_batch(TINY_REGNET, 2**60)
    # One byte short of batch 2^31's peak: the answer just below the limit is still given.
    peaks = {b: step.estimate(b).total_bytes for b in (2, 3, MAX_BATCH_SIZE)}
    # Every tensor is constant or one slice per image: the peak is affine in the batch.
    slope = peaks[3] - peaks[2]
    assert peaks[MAX_BATCH_SIZE] == peaks[2] + slope * (MAX_BATCH_SIZE - 2)
    assert max_batch(TINY_REGNET, peaks[MAX_BATCH_SIZE] - 1) == MAX_BATCH_SIZE - 1


# --- the command line ---


@pytest.mark.parametrize("size", ["0", "2147483649", "1000000000000000", "9" * 23])
def test_compare_batch_size_is_bounded(size: str) -> None:
    args = ["compare", "resnet50", "-s", "w", "--factors", "2", "--memory", "--batch-size", size]
    expected = f"error: --batch-size: must be from 1 to 2147483648 (2^31), got {size}"
    assert_one_line_error(args, expected)


def test_bench_batch_size_is_bounded(tmp_path: Path) -> None:
    args = ["bench", "--batch-size", "9" * 23, "-o", str(tmp_path / "b.json")]
    assert_one_line_error(args, "error: --batch-size: must be from 1 to 2147483648")


def test_compare_max_batch_of_311_digits() -> None:
    size = "1" + "0" * 310 + "GB"
    args = ["compare", "resnet50", "-s", "w", "--factors", "2", "--max-batch", size]
    assert_one_line_error(args, "error: --max-batch: must be between 1 B and 1 EiB")


def test_compare_memory_refuses_models_it_cannot_trace(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text(
        "family: resnet\nblock: basic\ndepths: [1000, 1]\nwidths: [32, 32]\nresolution: 32\n"
    )
    args = ["compare", str(deep), "-s", "w", "--factors", "2", "--memory"]
    # The trace's bounds; the closed form (the default counter) answers at any depth.
    traced = [*args, "--memory-counter", "trace"]
    assert_one_line_error(traced, "error: --memory: deep/base: 1001 blocks is more than the memory")
    assert runner.invoke(app, [*args, "-f", "json"]).exit_code == 0
    wide = tmp_path / "attention.yaml"
    wide.write_text(
        "preset: vit_b16\nresolution: 8192\npatch_size: 1\nnum_layers: 1\n"
        "hidden_size: 65536\nnum_heads: 1024\nmlp_size: 4\n"
    )
    args = ["compare", str(wide), "-s", "w", "--factors", "2", "--max-batch", "80GB"]
    args += ["--memory-counter", "trace"]
    assert_one_line_error(args, "error: --memory: attention/base: this model's activations")
