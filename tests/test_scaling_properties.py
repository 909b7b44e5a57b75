"""Property tests: any valid spec scaled by any strategy builds, counts, and grows."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st
from spec_strategies import any_spec, strategy_names

from scalecalc.api import build, count, scale
from scalecalc.nn.counting import count_meta


def dimensions(spec) -> dict:  # noqa: ANN001
    """Every integer size of a spec (lists flattened), by field name."""
    sizes = {}
    for field in dataclasses.fields(spec):
        value = getattr(spec, field.name)
        if isinstance(value, tuple):
            sizes.update({f"{field.name}[{i}]": v for i, v in enumerate(value)})
        elif isinstance(value, int) and not isinstance(value, bool):
            sizes[field.name] = value
    return sizes


@settings(max_examples=60)
@given(any_spec, strategy_names, st.floats(1.0, 64.0))
def test_scaled_spec_is_valid_builds_counts_and_never_shrinks(spec, strategy, s) -> None:  # noqa: ANN001
    scaled = scale(spec, strategy, s)  # constructing it validates it
    assert type(scaled) is type(spec)
    before, after = dimensions(spec), dimensions(scaled)
    assert before.keys() == after.keys()
    shrunk = {k: (before[k], after[k]) for k in before if after[k] < before[k]}
    assert not shrunk
    costs = count(scaled)
    assert costs.flops >= count(spec).flops
    assert costs.params > 0 and costs.acts > 0


@settings(max_examples=15)
@given(any_spec, strategy_names, st.floats(1 / 8, 8.0))
def test_scaled_model_builds_and_runs_a_forward_pass(spec, strategy, s) -> None:  # noqa: ANN001
    scaled = scale(spec, strategy, s)
    model = build(scaled, "meta")
    costs = count_meta(model, scaled.resolution)
    assert costs.unsupported == ()
    assert costs == count(scaled)  # the traced counts equal the closed form
