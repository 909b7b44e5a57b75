"""A run of identical blocks replayed as three (scalecalc.repeats) gives the peak of the full
depth: stepmemory.Peaks with runs cut equals the replay of every block (itself equal to the
meta-device trace, tests/test_memory_twin.py) at every batch, and so does its max batch."""

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
from scalecalc.api import load, scale
from scalecalc.families.spec import BaseSpec

BATCHES = (1, 2, 3, 5, 64)
# (dtype, train, optimizer, device, amp, channels_last, ema)
SETTINGS = [
    ("float32", False, None, "cpu", False, False, False),
    ("float32", True, "adamw", "cpu", False, False, True),
    ("float16", True, "sgd", "cuda", True, True, False),
    ("bfloat16", True, "adam", "cuda", True, False, True),
    ("float16", False, None, "cpu", True, False, False),
    ("float16", True, None, "cpu", False, True, False),
]


def assert_cut_equals_replay(spec: BaseSpec, setting: tuple, budget: int = 0) -> None:
    """Peaks from cut replays equal full replays' peaks at each batch, replayed or read from
    the lines (drawn through batch 3), and their max batch."""
    dtype, train, optimizer, device, amp, channels_last, ema = setting
    options = {"amp": amp, "channels_last": channels_last, "ema": ema}
    step = (dtype, train, optimizer, device)
    cut = stepmemory.Peaks(spec, *step, **options)
    lined = stepmemory.Peaks(spec, *step, **options)
    lined.lines(3)
    for batch in BATCHES:
        full = stepmemory.replay(spec, batch, *step, **options).peak
        assert cut.peak(batch) == full, (spec, setting, batch)
        assert lined.peak(batch) == full, (spec, setting, batch)
    if budget:
        whole = stepmemory.Peaks(spec, *step, **options, cut=False)
        assert cut.max_batch(budget) == whole.max_batch(budget)


@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("name", ["resnet101", "regnety_4gf", "efficientnet_b4", "vit_s16"])
def test_presets(name: str, setting: tuple) -> None:
    assert_cut_equals_replay(load(name).spec, setting)


@pytest.mark.slow
@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("name", PRESETS)
def test_every_preset(name: str, setting: tuple) -> None:
    assert_cut_equals_replay(load(name).spec, setting, 8 * 2**30)


@pytest.mark.parametrize("name", ["regnety_400mf", "convnext_t", "efficientnet_b0"])
def test_the_deepest_models_of_compares_sweep(name: str) -> None:
    # 16x the flops in depth alone: stages of dozens of blocks, each played as three.
    spec = scale(load(name).spec, "d", 16)
    assert len(stepmemory.replay(spec, 2, cut=True).marks or []) >= 3
    assert_cut_equals_replay(spec, SETTINGS[1], 24 * 2**30)
    assert_cut_equals_replay(spec, SETTINGS[2], 24 * 2**30)


FAMILIES = [resnet_specs, regnet_specs, efficientnet_specs, vit_specs, convnext_specs]


@st.composite
def deepened(draw: st.DrawFn, family) -> BaseSpec:
    """A random spec of `family` with stages (or encoder layers) of 1 to 9 blocks."""
    spec = draw(family(grid=False))
    if spec.family == "vit":
        return spec.replace(num_layers=draw(st.integers(1, 9)))
    depths = draw(st.lists(st.integers(1, 9), min_size=len(spec.depths), max_size=len(spec.depths)))
    return spec.replace(depths=tuple(depths))


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.__name__)
def test_random_deep_specs(family) -> None:
    @settings(max_examples=15, deadline=None)
    @given(deepened(family), st.sampled_from(SETTINGS))
    def check(spec: BaseSpec, setting: tuple) -> None:
        assert_cut_equals_replay(spec, setting)

    check()
