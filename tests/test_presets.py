"""Every preset reproduces its published params, flops and acts, on both counting paths."""

from __future__ import annotations

import pytest
from conftest import CONFIGS, PRESETS
from reference import PUBLISHED, agrees

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
    assert agrees(paper.params, params, 1e6)
    assert agrees(paper.flops, flops, 1e9)
    assert agrees(fvcore.flops, fvcore_flops, 1e9)
    assert agrees(paper.acts, acts, 1e6)


@pytest.mark.slow
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


def test_regnet_stage_form_follows_the_reference_expansion() -> None:
    # pycls (configs/dds_baselines): RegNetX-400MF ends at 384 wide; RegNetY-4.0GF's stages.
    assert load("regnetx_400mf").spec.widths == (32, 64, 160, 384)
    spec = load("regnety_4gf").spec
    assert (spec.depths, spec.widths, spec.group_widths) == (
        (2, 6, 12, 2),
        (128, 192, 512, 1088),
        (64, 64, 64, 64),
    )
