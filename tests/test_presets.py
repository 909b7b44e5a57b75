"""Every preset reproduces its published params, flops and acts, on both counting paths."""

from __future__ import annotations

import pytest
from conftest import CONFIGS, PRESETS
from reference import PUBLISHED, as_printed

from scalecalc.api import count, load
from scalecalc.config import load as load_config


def test_every_preset_has_a_published_reference() -> None:
    assert sorted(PUBLISHED) == PRESETS


@pytest.mark.parametrize("name", PRESETS)
def test_preset_matches_published_numbers(name: str) -> None:
    params, flops, fvcore_flops, acts = PUBLISHED[name]
    spec = load(name).spec
    paper = count(spec, "paper")
    fvcore = count(spec, "fvcore")
    assert paper.params == params
    assert as_printed(paper.flops / 1e9, flops) == flops
    if fvcore_flops is not None:
        assert as_printed(fvcore.flops / 1e9, fvcore_flops) == fvcore_flops
    assert as_printed(paper.acts / 1e6, acts) == acts
    assert fvcore.acts == paper.acts and fvcore.params == paper.params
    assert paper.unsupported == () and fvcore.unsupported == ()


@pytest.mark.parametrize("name", PRESETS)
@pytest.mark.parametrize("convention", ["paper", "fvcore"])
def test_meta_counter_equals_fvcore_reference(name: str, convention: str) -> None:
    spec = load(name).spec
    assert count(spec, convention, "meta") == count(spec, convention, "fvcore")


@pytest.mark.parametrize("name", PRESETS)
def test_config_file_loads_to_the_preset(name: str) -> None:
    from_file = load_config(CONFIGS / f"{name}.yaml")
    assert from_file.spec == load(name).spec
    assert from_file.name == name


def test_stages_add_up_to_totals() -> None:
    costs = count(load("regnety_4gf").spec)
    assert [s.name for s in costs.stages] == [
        "stem",
        "stage1",
        "stage2",
        "stage3",
        "stage4",
        "head",
    ]
    assert sum(s.flops for s in costs.stages) == costs.flops
    assert sum(s.params for s in costs.stages) == costs.params
    assert sum(s.acts for s in costs.stages) == costs.acts


def test_regnet_stage_form_follows_the_reference_expansion() -> None:
    # pycls: RegNetX-400MF ends at 384 wide (torchvision rounds the tie up to 400).
    assert load("regnetx_400mf").spec.widths == (32, 64, 160, 384)
    spec = load("regnety_4gf").spec
    assert (spec.depths, spec.widths, spec.group_widths) == (
        (2, 6, 12, 2),
        (128, 192, 512, 1088),
        (64, 64, 64, 64),
    )
