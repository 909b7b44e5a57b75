"""The caches that keep a flops solve quick give what building and counting afresh gives."""

from __future__ import annotations

import dataclasses

import pytest

from scalecalc.api import count, load, scale
from scalecalc.errors import SpecError
from scalecalc.registry import list_presets


def test_replace_gives_the_spec_built_the_first_time() -> None:
    spec = load("resnet50").spec
    first = spec.replace(depths=(3, 4, 7, 3), resolution=256)
    assert spec.replace(depths=(3, 4, 7, 3), resolution=256) is first
    assert first == dataclasses.replace(spec, depths=(3, 4, 7, 3), resolution=256)
    assert first.depths == (3, 4, 7, 3) and first.resolution == 256 and spec.resolution == 224


def test_replace_keeps_the_type_asked_for() -> None:
    # 1 and 1.0 are equal (and hash alike) but a spec keeps what it was given: the YAML and
    # JSON written from it show 1 or 1.0.
    spec = load("resnet50").spec
    assert type(spec.replace(bottleneck_ratio=1.0).bottleneck_ratio) is float
    assert type(spec.replace(bottleneck_ratio=1).bottleneck_ratio) is int


def test_replace_refuses_a_bad_value_every_time() -> None:
    spec = load("resnet50").spec
    for _ in range(2):
        with pytest.raises(SpecError, match="resolution: must be between 1 and 8192, got 0"):
            spec.replace(resolution=0)
        # A list cannot key the cache; it is checked as given, and a spec wants a tuple.
        with pytest.raises(SpecError, match=r"depths: must be a list of integers, got \[3, 4\]"):
            spec.replace(depths=[3, 4])


def test_shared_block_tallies_stay_as_first_charged() -> None:
    # Counting many models that share blocks with the presets must leave the presets' counts
    # as they were: a shared block tally changed by one count would shift every later one.
    presets = list_presets()
    before = [count(load(name).spec) for name in presets]
    for name in ("resnet50", "regnety_4gf", "efficientnet_b0"):
        for factor in (1.5, 2.0, 3.0, 4.0):
            count(scale(load(name).spec, "dWr", factor))
    assert [count(load(name).spec) for name in presets] == before
    assert count(load("resnet50").spec).params == 25_557_032  # torchvision's ResNet-50
