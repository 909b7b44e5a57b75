"""The closed-form memory (scalecalc.stepmemory) equals the meta-device trace (scalecalc.nn.memory)
to the byte: the peak and its parts, on presets and random specs of every family, in every
dtype and under AMP, inference and training with each optimizer, on CPU and with CUDA's rounding
and kernels."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import PRESETS, REPO
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from spec_strategies import (
    convnext_specs,
    efficientnet_specs,
    regnet_specs,
    resnet_specs,
    vit_specs,
)

from scalecalc import stepmemory
from scalecalc.api import count, load
from scalecalc.families.spec import BaseSpec
from scalecalc.nn import memory as trace
from scalecalc.step_options import AMP_DTYPES, DTYPE_NAMES

# (train, optimizer): inference, then a training step with each optimizer the grid covers.
STEPS = [(False, None), (True, "sgd"), (True, "adamw")]
GRID = [(train, optimizer, dtype) for train, optimizer in STEPS for dtype in DTYPE_NAMES]
# One preset of each family and block type, each in a setting of its own: the quick subset.
QUICK = [
    ("resnet50", True, "adamw", "float32"),
    ("regnety_4gf", True, "sgd", "float16"),
    ("efficientnet_b0", False, None, "bfloat16"),
    ("vit_s16", True, "adamw", "bfloat16"),
    ("convnext_t", True, "sgd", "float32"),
]
# Under AMP: every preset x {inference, SGD and AdamW training} x each low precision (slow), and
# one preset of each family in a setting of its own (quick).
AMP_GRID = [(train, optimizer, dtype) for train, optimizer in STEPS for dtype in AMP_DTYPES]
AMP_QUICK = [
    ("resnet50", True, "sgd", "float16"),
    ("regnetx_400mf", False, None, "bfloat16"),
    ("efficientnet_b0", True, "adamw", "float16"),
    ("vit_s16", True, "adamw", "bfloat16"),
    # inference dispatches softmax whole: its float32 copy is never alive
    ("vit_s16", False, None, "float16"),
    ("convnext_t", True, "sgd", "float16"),
]
# Channels-last (no effect on a ViT): one preset of each family quick, each setting slow.
CHANNELS_LAST_QUICK = [
    ("resnet50", True, "adamw", "float32", False),
    ("regnety_400mf", False, None, "float16", True),
    ("efficientnet_b0", True, "sgd", "bfloat16", True),
    ("vit_s16", True, "sgd", "float32", False),
    # the downsampling convolutions' weight gradients are already in the weights' layout
    ("convnext_t", True, "sgd", "float32", False),
    ("convnext_t", True, "adamw", "float16", True),
]
CHANNELS_LAST_GRID = [
    (train, optimizer, dtype, amp)
    for train, optimizer in STEPS
    for dtype, amp in (("float32", False), ("float16", True))
]


def assert_twins(spec: BaseSpec, batch: int, *options: object, **extras: bool) -> None:
    """The closed form's MemoryEstimate equals the trace's, field by field."""
    expected = trace.estimate_peak(spec, batch, *options, **extras)
    closed = stepmemory.estimate_peak(spec, batch, *options, **extras)
    assert closed == expected, (spec, batch, options, extras)


@pytest.mark.parametrize(("name", "train", "optimizer", "dtype"), QUICK)
def test_presets_quick(name: str, train: bool, optimizer: str | None, dtype: str) -> None:
    assert_twins(load(name).spec, 2, dtype, train, optimizer)


@pytest.mark.slow
@pytest.mark.parametrize(("train", "optimizer", "dtype"), GRID)
@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_and_setting(
    name: str, train: bool, optimizer: str | None, dtype: str
) -> None:
    assert_twins(load(name).spec, 2, dtype, train, optimizer)


@pytest.mark.parametrize(("name", "train", "optimizer", "dtype"), AMP_QUICK)
def test_amp_presets_quick(name: str, train: bool, optimizer: str | None, dtype: str) -> None:
    assert_twins(load(name).spec, 2, dtype, train, optimizer, amp=True)


@pytest.mark.slow
@pytest.mark.parametrize(("train", "optimizer", "dtype"), AMP_GRID)
@pytest.mark.parametrize("name", PRESETS)
def test_amp_every_preset_and_setting(
    name: str, train: bool, optimizer: str | None, dtype: str
) -> None:
    assert_twins(load(name).spec, 2, dtype, train, optimizer, amp=True)


@pytest.mark.parametrize(("name", "train", "optimizer", "dtype", "amp"), CHANNELS_LAST_QUICK)
def test_channels_last_quick(
    name: str, train: bool, optimizer: str | None, dtype: str, amp: bool
) -> None:
    assert_twins(load(name).spec, 2, dtype, train, optimizer, amp=amp, channels_last=True)


@pytest.mark.slow
@pytest.mark.parametrize(("train", "optimizer", "dtype", "amp"), CHANNELS_LAST_GRID)
@pytest.mark.parametrize("name", PRESETS)
def test_channels_last_every_preset_and_setting(
    name: str, train: bool, optimizer: str | None, dtype: str, amp: bool
) -> None:
    assert_twins(load(name).spec, 2, dtype, train, optimizer, amp=amp, channels_last=True)


@pytest.mark.parametrize(("name", "batch"), [("vit_s16", 1), ("convnext_t", 3)])
def test_amp_with_cuda_rounding_and_an_ema(name: str, batch: int) -> None:
    # The float16 scaler's scale and growth tracker take a 512-byte block each; the weight
    # copies of autocast's cache and the EMA in CUDA's blocks; Adam's foreach step.
    spec = load(name).spec
    assert_twins(spec, batch, "float16", True, "adam", "cuda", amp=True, ema=True)
    estimate = stepmemory.estimate_peak(spec, batch, "float16", True, "sgd", "cuda", amp=True)
    assert estimate.scaler_state == 2 * 512
    float32 = trace.estimate_peak(spec, batch, "float32", False, None, "cuda")
    assert estimate.amp and estimate.weights == float32.weights


def test_amp_weight_casts_are_cached_through_the_forward() -> None:
    # Inference: at the peak (the end of the forward) every convolution's and the classifier's
    # weight has its float16 copy in autocast's cache, biases too: 2 bytes per parameter but
    # batch norm's (2 x 10,240 of ResNet-50's 25.56 M, by hand from its 53 norms' channels).
    spec = load("resnet50").spec
    estimate = stepmemory.estimate_peak(spec, 1, "float16", amp=True)
    norm_params = 2 * (64 + 3 * (64 + 64 + 256) + 256 + 4 * (128 + 128 + 512) + 512)
    norm_params += 2 * (6 * (256 + 256 + 1024) + 1024 + 3 * (512 + 512 + 2048) + 2048)
    params = count(spec, "paper", "analytic").params
    assert estimate.cast_weights == 2 * (params - norm_params)
    assert estimate.scaler_state == 0  # inference has no gradient scaler


def test_amp_casts_a_gradient_before_reducing_a_broadcast_parameter() -> None:
    # The engine casts the layer scale's input gradient to float16 while grad * x, the full
    # product summed to gamma's shape, is still alive: a tiny ConvNeXt peaks right there.
    from scalecalc.families.convnext import ConvNeXtSpec

    spec = ConvNeXtSpec(
        resolution=32, num_classes=1, depths=(1, 1, 1, 1), widths=(1, 1, 3, 1), mlp_ratio=1
    )
    assert_twins(spec, 2, "float16", True, "sgd", amp=True)


@pytest.mark.parametrize("name", ["regnetx_400mf", "vit_s16", "convnext_t"])
def test_cuda_rounding_and_foreach_kernels(name: str) -> None:
    # Every storage rounded to 512 B, and Adam's foreach step making sqrt(v) of every weight at
    # once: the peak moves into the step for small models.
    assert_twins(load(name).spec, 3, "float32", True, "adam", "cuda")


@pytest.mark.parametrize("name", ["efficientnet_b0", "vit_s16"])
def test_batch_one(name: str) -> None:
    # At batch 1 torch takes other paths: attention's reshapes are views, the class token's
    # gradient a slice of its input's.
    assert_twins(load(name).spec, 1, "float32", True, "adamw")


def test_max_batch_equals_the_traced_search() -> None:
    spec = load("regnetx_400mf").spec
    options = ("bfloat16", True, "adamw")
    expected = trace.max_batch(spec, 3 * 2**30, *options)
    assert stepmemory.max_batch(spec, 3 * 2**30, *options) == expected > 0
    expected = trace.max_batch(spec, 3 * 2**30, "float16", True, "sgd", "cuda", amp=True)
    found = stepmemory.max_batch(spec, 3 * 2**30, "float16", True, "sgd", "cuda", amp=True)
    assert found == expected > 0
    assert stepmemory.max_batch(spec, 2**20, "float32", True, "sgd") == 0


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_peaks_at_any_batch_from_two_lines(device: str) -> None:
    # The independent value: a full replay at each batch (itself equal to the trace above).
    spec = load("vit_s16").spec
    peaks = stepmemory.Peaks(spec, "float16", True, "adamw", device)
    for batch in (1, 2, 5, 64, 1000):
        replayed = stepmemory.estimate_peak(spec, batch, "float16", True, "adamw", device)
        assert peaks.peak(batch) == replayed.total_bytes
    largest = peaks.max_batch(40 * 2**30)
    assert peaks.peak(largest) <= 40 * 2**30 < peaks.peak(largest + 1)


# (train, dtype, optimizer, device, amp, channels_last)
STEP_SETTINGS = st.sampled_from(
    [
        (False, "float32", None, "cpu", False, False),
        (True, "float32", None, "cpu", False, False),
        (True, "float16", "adamw", "cpu", False, False),
        (True, "bfloat16", "sgd", "cuda", False, False),
        (True, "float32", "adam", "cuda", False, False),
        (False, "float16", None, "cuda", False, False),
        (True, "float16", "sgd", "cpu", True, False),
        (True, "bfloat16", "adamw", "cuda", True, False),
        (False, "float16", None, "cpu", True, False),
        (True, "float32", "sgd", "cpu", False, True),
        (True, "float16", "adamw", "cpu", True, True),
        (False, "bfloat16", None, "cuda", True, True),
    ]
)
FAMILIES = [resnet_specs, regnet_specs, efficientnet_specs, vit_specs, convnext_specs]


def check_random(spec: BaseSpec, batch: int, step: tuple) -> None:
    """Twins on a random spec small enough to trace in a moment; torch refuses batch norm over
    one value per channel in training, which the trace then raises."""
    assume(count(spec, "paper", "analytic").acts * batch <= 2_000_000)
    train, dtype, optimizer, device, amp, channels_last = step
    options = {"amp": amp, "channels_last": channels_last}
    try:
        expected = trace.estimate_peak(spec, batch, dtype, train, optimizer, device, **options)
    except ValueError as error:
        assume("per channel" not in str(error))
        raise
    closed = stepmemory.estimate_peak(spec, batch, dtype, train, optimizer, device, **options)
    assert closed == expected


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.__name__)
def test_random_specs_of_every_family(family) -> None:
    @settings(max_examples=12)
    @given(family(grid=False), st.integers(1, 3), STEP_SETTINGS)
    def check(spec: BaseSpec, batch: int, step: tuple) -> None:
        check_random(spec, batch, step)

    check()


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("grid", [True, False])
def test_random_specs_of_every_family_at_length(family, grid: bool) -> None:
    @settings(max_examples=80)
    @given(family(grid=grid), st.integers(1, 4), STEP_SETTINGS)
    def check(spec: BaseSpec, batch: int, step: tuple) -> None:
        check_random(spec, batch, step)

    check()


def test_the_closed_form_imports_no_torch() -> None:
    script = (
        "import sys\n"
        "from scalecalc.api import load\n"
        "from scalecalc.stepmemory import estimate_peak, max_batch\n"
        "spec = load('convnext_t').spec\n"
        "print(estimate_peak(spec, 2, 'bfloat16', True, 'adamw').total_bytes > 0,\n"
        "      max_batch(spec, 2**34) > 0, 'torch' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert done.stdout.split() == ["True", "True", "False"], done.stderr


def test_compare_gives_the_same_columns_with_either_counter() -> None:
    from typer.testing import CliRunner

    from scalecalc.cli import app

    runner = CliRunner()
    args = ["compare", "regnetx_400mf", "-s", "w", "--factors", "2", "--memory", "--train"]
    args += ["--optimizer", "sgd", "--batch-size", "4", "-f"]
    documents = {}
    for counter in ("analytic", "trace"):
        result = runner.invoke(app, [*args, "json", "--memory-counter", counter])
        assert result.exit_code == 0, result.output
        documents[counter] = result.stdout
    analytic, traced = (json.loads(documents[c]) for c in ("analytic", "trace"))
    assert [r["memory"] for r in analytic["rows"]] == [r["memory"] for r in traced["rows"]]
    # The default is the closed form, and the note under the table says which counter ran.
    default = runner.invoke(app, [*args, "md"])
    assert "Predicted peak memory (closed form): training step, optimizer sgd" in default.stdout
    trace_md = runner.invoke(app, [*args, "md", "--memory-counter", "trace"])
    assert "Predicted peak memory (meta-device trace): training step" in trace_md.stdout
    alone = runner.invoke(app, ["compare", "--memory-counter", "trace"])
    assert alone.exit_code == 2
    assert alone.stderr == (
        "error: --memory-counter: applies only to predicted memory; add --memory or --max-batch\n"
    )


def test_device_view_max_batch_equals_the_traced_one() -> None:
    from scalecalc.devicememory import device_max_batch
    from scalecalc.nn.devicebatch import device_max_batch as traced_device_max_batch

    spec = load("regnetx_400mf").spec
    options = ("float16", True, "sgd", "cuda")
    peaks = stepmemory.Peaks(spec, *options)
    expected = traced_device_max_batch(trace.spec_step(spec, *options), 8 * 2**30)
    assert device_max_batch(peaks.weights, peaks.max_batch, 8 * 2**30) == expected > 0


def test_the_closed_form_stays_the_default_with_every_step_option() -> None:
    from typer.testing import CliRunner

    from scalecalc.cli import app

    runner = CliRunner()
    args = ["compare", "regnetx_400mf", "-s", "w", "--factors", "2", "--memory", "--train"]
    for options in (["--channels-last"], ["--ema"], ["--amp", "--ema", "--channels-last"]):
        result = runner.invoke(app, [*args, *options, "-f", "md"])
        assert result.exit_code == 0, result.output
        assert "Predicted peak memory (closed form): training step" in result.stdout, options


def test_amp_and_channels_last_in_either_counter_give_the_same_columns() -> None:
    from typer.testing import CliRunner

    from scalecalc.cli import app

    runner = CliRunner()
    args = ["compare", "regnetx_400mf", "-s", "w", "--factors", "2", "--memory", "--train"]
    args += ["--amp", "--dtype", "bfloat16", "--channels-last", "--max-batch", "8GiB", "-f", "json"]
    documents = {}
    for counter in ("analytic", "trace"):
        result = runner.invoke(app, [*args, "--memory-counter", counter])
        assert result.exit_code == 0, result.output
        documents[counter] = [row["memory"] for row in json.loads(result.stdout)["rows"]]
    assert documents["analytic"] == documents["trace"]
    assert documents["analytic"][0]["amp"] is documents["analytic"][0]["channels_last"] is True


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("resnet50", ("float32", True, "sgd", "cpu")),
        ("vit_s16", ("bfloat16", True, "adamw", "cpu")),
        ("efficientnet_b0", ("float16", True, None, "cuda")),
    ],
)
def test_weight_ema(name: str, options: tuple) -> None:
    spec = load(name).spec
    expected = trace.estimate_peak(spec, 2, *options, ema=True)
    assert expected.ema_weights > 0
    assert stepmemory.estimate_peak(spec, 2, *options, ema=True) == expected
