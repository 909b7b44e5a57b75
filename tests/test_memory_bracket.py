"""The CUDA max batch from the unrounded lines' bracket (stepmemory.Peaks) equals the search it
replaced, which replayed every batch it probed: the independent values are full replays (every
block, rounded to 512 B) at each probed batch, searched as before from the rounded lines' guess,
and the budgets are those replays' own peaks, to the byte and one byte under."""

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
from scalecalc.batch_search import LINE_BATCHES, largest_fitting, linear_guess
from scalecalc.errors import ModelTooLargeError
from scalecalc.families.spec import BaseSpec
from scalecalc.limits import MAX_BATCH_SIZE
from scalecalc.repeats import symbolic, unrolled

GIB = 2**30
# (dtype, train, optimizer, amp), all on CUDA
STEPS = [
    ("float32", False, None, False),
    ("float32", True, "sgd", False),
    ("float32", True, "adamw", False),
    ("float16", False, None, True),
    ("float16", True, "sgd", True),
    ("float16", True, "adamw", True),
]


class Replayed:
    """Full rounded replays of one CUDA step setting, each batch once."""

    def __init__(self, spec: BaseSpec, step: tuple) -> None:
        dtype, train, optimizer, amp = step
        self.args = (spec, dtype, train, optimizer, "cuda")
        self.amp = amp
        self.peaks: dict[int, int] = {}

    def peak(self, batch: int) -> int:
        """The peak of a replay of every block at `batch`."""
        if batch not in self.peaks:
            spec, *rest = self.args
            self.peaks[batch] = stepmemory.replay(spec, batch, *rest, amp=self.amp).peak
        return self.peaks[batch]

    def searched(self, budget: int) -> int:
        """The max batch as found before: guessed from the rounded cut lines of batches 2 and
        3, then a replay at every batch probed (MAX_BATCH_SIZE if at least that many fit)."""
        spec, *rest = self.args
        lines = []
        for batch in LINE_BATCHES:
            tape = stepmemory.replay(spec, batch, *rest, True, amp=self.amp, cut=True)
            lines.append(unrolled(tape, tape.marks or []))
        guess = min(linear_guess(*lines, budget), MAX_BATCH_SIZE)
        return largest_fitting(lambda b: b <= MAX_BATCH_SIZE and self.peak(b) <= budget, guess)


def new_max_batch(spec: BaseSpec, step: tuple, budget: int) -> int:
    """The bracketed max batch, MAX_BATCH_SIZE where it says at least that many fit."""
    dtype, train, optimizer, amp = step
    try:
        return stepmemory.max_batch(spec, budget, dtype, train, optimizer, "cuda", amp=amp)
    except ModelTooLargeError:
        return MAX_BATCH_SIZE


def assert_same_max_batch(spec: BaseSpec, step: tuple, budgets: list[int], batches: list[int]):
    """At each budget, and at the replayed peak of each batch (and a byte under it), the new
    max batch is the old search's and fits where the next batch does not."""
    replayed = Replayed(spec, step)
    for batch in batches:
        budgets += [replayed.peak(batch), replayed.peak(batch) - 1]
    for budget in budgets:
        found = new_max_batch(spec, step, budget)
        assert found == replayed.searched(budget), (spec, step, budget)
        if 0 < found < MAX_BATCH_SIZE:
            assert replayed.peak(found) <= budget < replayed.peak(found + 1)


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("name", ["resnet50", "vit_s16", "efficientnet_b0"])
def test_presets(name: str, step: tuple) -> None:
    assert_same_max_batch(load(name).spec, step, [GIB, 24 * GIB], [2, 7])


@pytest.mark.slow
@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("name", PRESETS)
def test_every_preset(name: str, step: tuple) -> None:
    assert_same_max_batch(load(name).spec, step, [GIB, 8 * GIB, 24 * GIB, 80 * GIB], [2, 3, 7])


def test_batch_one_and_none() -> None:
    # below batch 2's lines the search replays batch 1 as before
    spec = load("resnet50").spec
    step = STEPS[1]
    replayed = Replayed(spec, step)
    assert replayed.peak(1) < replayed.peak(2)
    assert new_max_batch(spec, step, replayed.peak(1)) == 1
    assert new_max_batch(spec, step, replayed.peak(1) - 1) == 0
    assert new_max_batch(spec, step, replayed.peak(2) - 1) == 1
    assert new_max_batch(spec, step, 2**20) == 0


def test_at_least_the_largest_batch_is_refused() -> None:
    spec = load("regnety_400mf").spec
    with pytest.raises(ModelTooLargeError, match=f"at least {MAX_BATCH_SIZE} images"):
        stepmemory.max_batch(spec, 2**60, "float32", False, None, "cuda")


def test_the_bracket_needs_no_replay_of_the_sweeps_models(monkeypatch) -> None:
    # compare asks the peak at its batch, then the max batch: one replay at the symbolic batch
    # gives the peak and the lines, which bracket ResNet-50's max batch to one batch
    spec = load("resnet50").spec
    real = stepmemory.replay
    replayed: list[int] = []

    def counting(spec: BaseSpec, batch: int, *args, **options):
        replayed.append(batch)
        return real(spec, batch, *args, **options)

    monkeypatch.setattr(stepmemory, "replay", counting)
    for step in STEPS:
        dtype, train, optimizer, amp = step
        replayed.clear()
        peaks = stepmemory.Peaks(spec, dtype, train, optimizer, "cuda", amp=amp)
        peaks.lines(64)
        largest = peaks.max_batch(24 * GIB)
        assert replayed == [symbolic(64)]
        full = Replayed(spec, step)
        assert full.peak(largest) <= 24 * GIB < full.peak(largest + 1)
        assert full.peak(64) == peaks.peak(64)


FAMILIES = [resnet_specs, regnet_specs, efficientnet_specs, vit_specs, convnext_specs]


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.__name__)
def test_random_specs(family) -> None:
    @settings(max_examples=10, deadline=None)
    @given(family(grid=False), st.sampled_from(STEPS), st.integers(2, 40), st.integers(0, 1))
    def check(spec: BaseSpec, step: tuple, batch: int, under: int) -> None:
        budget = Replayed(spec, step).peak(batch) - under
        assert_same_max_batch(spec, step, [budget], [])

    check()
