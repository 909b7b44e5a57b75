"""One replay at a symbolic batch (scalecalc.repeats.symbolic) gives the lines of the bytes after
every allocation: at each batch from the lines' first on, the bytes and the storages alive that a
replay at that batch counts, allocation by allocation; and batch 1 is set apart exactly where an
op takes another path there. The independent values are replays at real batches."""

from __future__ import annotations

import pytest
from conftest import PRESETS
from hypothesis import given, settings
from hypothesis import strategies as st
from spec_strategies import (
    convnext_specs,
    efficientnet_specs,
    regnet_specs,
    resnet_specs,
    vit_specs,
)

from scalecalc import stepmemory
from scalecalc.api import load
from scalecalc.families.spec import BaseSpec
from scalecalc.limits import MAX_BATCH_SIZE
from scalecalc.repeats import parts, unrolled

BATCHES = (1, 2, 3, 7, 64)
# (dtype, train, optimizer, device, amp, channels_last, ema)
SETTINGS = [
    ("float32", False, None, "cpu", False, False, False),
    ("float32", False, None, "cuda", False, False, False),
    ("float32", True, "sgd", "cuda", False, False, False),
    ("float32", True, "adamw", "cpu", False, False, True),
    ("float16", True, "sgd", "cuda", True, True, False),
    ("bfloat16", True, "adam", "cuda", True, False, True),
]


def replayed(spec: BaseSpec, setting: tuple, batch: int) -> tuple[list[int], list[int]]:
    """The bytes and the storages alive after each allocation of a replay at `batch`."""
    dtype, train, optimizer, device, amp, channels_last, ema = setting
    options = {"amp": amp, "channels_last": channels_last, "ema": ema}
    tape = stepmemory.replay(
        spec, batch, dtype, train, optimizer, device, True, count=True, cut=True, **options
    )
    now, rise, alive = parts(unrolled(tape, tape.marks or []))
    assert set(rise) == {0}  # a real batch carries no rise
    return now, alive


def assert_lines_are_replays(spec: BaseSpec, setting: tuple, origin: int) -> None:
    """The lines drawn through `origin` give every replay's bytes and storages from their first
    batch on; batch 1 is apart only where its replay is off them."""
    dtype, train, optimizer, device, amp, channels_last, ema = setting
    options = {"amp": amp, "channels_last": channels_last, "ema": ema}
    peaks = stepmemory.Peaks(spec, dtype, train, optimizer, device, **options)
    line = peaks.lines(origin)
    for batch in BATCHES:
        now, alive = replayed(spec, setting, batch)
        on_line = [a + r * (batch - origin) for a, r in zip(line.base, line.rise)]
        if batch >= line.first:
            assert (now, alive) == (on_line, line.alive), (spec, setting, batch)
        else:
            assert (now, alive) != (on_line, line.alive), (spec, setting, batch)


@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("name", ["resnet50", "regnety_400mf", "efficientnet_b0", "vit_s16",
                                  "convnext_t"])  # fmt: skip
def test_presets(name: str, setting: tuple) -> None:
    assert_lines_are_replays(load(name).spec, setting, 5)


@pytest.mark.slow
@pytest.mark.parametrize("origin", [1, 2, 32])
@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("name", PRESETS)
def test_every_preset(name: str, setting: tuple, origin: int) -> None:
    assert_lines_are_replays(load(name).spec, setting, origin)


FAMILIES = [resnet_specs, regnet_specs, efficientnet_specs, vit_specs, convnext_specs]


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.__name__)
def test_random_specs(family) -> None:
    @settings(max_examples=10, deadline=None)
    @given(family(grid=False), st.sampled_from(SETTINGS), st.integers(1, 40))
    def check(spec: BaseSpec, setting: tuple, origin: int) -> None:
        assert_lines_are_replays(spec, setting, origin)

    check()


def largest_vit() -> BaseSpec:
    """A ViT at the spec limits: 8192 px in 1-pixel patches (2^26 tokens), 2^17 heads."""
    fields = {"resolution": 8192, "patch_size": 1, "hidden_size": 2**17, "num_layers": 3}
    fields |= {"num_heads": 2**17, "mlp_size": 2**17}
    return load("vit_s16").spec.replace(**fields)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("train", [False, True])
def test_the_largest_step_is_read_back_exactly(device: str, train: bool) -> None:
    # its attention scores hold 2^102 bytes at batch 2^31: far past 2^80, still within the
    # radix; the independent values are replays on a plain tape (plain integers)
    spec = largest_vit()
    batch = MAX_BATCH_SIZE
    step = ("float32", train, "adamw" if train else None, device)
    peaks = stepmemory.Peaks(spec, *step)
    line = peaks.lines(batch)
    plain = stepmemory.replay(spec, batch, *step)
    assert plain.peak.bit_length() > 100
    assert peaks.peak(batch) == plain.peak
    if device == "cpu":  # unrounded: the lines are the plain tape's bytes, allocation by allocation
        for at in (batch, batch - 1):
            tape = stepmemory.replay(spec, at, *step, True, cut=True)
            expected = [a + r * (at - batch) for a, r in zip(line.base, line.rise)]
            assert unrolled(tape, tape.marks or []) == expected
