"""Properties of counting over random valid specs, strategies and factors (down-scaling too)."""

from __future__ import annotations

import dataclasses

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from spec_strategies import any_spec, regnet_specs, resnet_specs, strategy_names

from scalecalc.api import count, scale
from scalecalc.errors import ScalecalcError
from scalecalc.solver import MIN_FACTOR, UnreachableTarget, solve

cnn_specs = st.one_of(resnet_specs(), regnet_specs())


@settings(max_examples=80)
@given(any_spec, strategy_names, st.floats(1 / 16, 64))
def test_scale_and_count_never_raise(spec, strategy, s) -> None:  # noqa: ANN001
    scaled = scale(spec, strategy, s)
    costs = count(scaled)
    assert min(costs.flops, costs.params, costs.acts) > 0


@given(cnn_specs, st.integers(1, 64))
def test_cnn_params_do_not_depend_on_resolution(spec, extra) -> None:  # noqa: ANN001
    assert count(spec.replace(resolution=spec.resolution + extra)).params == count(spec).params


@given(any_spec, st.integers(1, 8))
def test_counts_grow_with_resolution(spec, steps) -> None:  # noqa: ANN001
    step = {"vit": spec.patch_size if spec.family == "vit" else 0, "convnext": 32}.get(
        spec.family, 4
    )
    bigger = spec.replace(resolution=spec.resolution + steps * step)
    before, after = count(spec), count(bigger)
    assert after.flops > before.flops and after.acts > before.acts
    assert after.params >= before.params


def _grown_variants(spec):  # noqa: ANN001, ANN202
    """The spec with one dimension grown at a time (each still valid)."""
    if spec.family == "vit":
        head = spec.hidden_size // spec.num_heads
        yield spec.replace(num_layers=spec.num_layers + 1)
        yield spec.replace(mlp_size=spec.mlp_size + 1)
        yield spec.replace(num_heads=spec.num_heads + 1, hidden_size=spec.hidden_size + head)
        return
    for index in range(len(spec.depths)):
        depths = list(spec.depths)
        depths[index] += 1
        yield spec.replace(depths=tuple(depths))
        widths = list(spec.widths)
        widths[index] += _width_step(spec, index)
        basic = getattr(spec, "block", "") == "basic"  # basic blocks: group width = width
        extra = {"group_widths": tuple(widths)} if basic else {}
        grown = spec.replace(widths=tuple(widths), **extra)
        yield grown


def _width_step(spec, index: int) -> int:  # noqa: ANN001
    """The smallest width increase that keeps the stage's groups dividing its bottleneck."""
    if spec.family in ("convnext", "efficientnet"):
        return 8
    group_width, ratio = spec.group_widths[index], spec.bottleneck_ratio
    return int(group_width / ratio) if ratio < 1 else group_width


@settings(max_examples=60)
@given(any_spec)
def test_counts_are_monotone_in_each_dimension(spec) -> None:  # noqa: ANN001
    before = count(spec)
    for grown in _grown_variants(spec):
        after = count(grown)
        changed = {
            f.name
            for f in dataclasses.fields(spec)
            if getattr(spec, f.name) != getattr(grown, f.name)
        }
        assert after.flops > before.flops, changed
        assert after.params > before.params, changed
        assert after.acts >= before.acts, changed


@settings(max_examples=30)
@given(any_spec, strategy_names, st.floats(1 / 4, 16))
def test_realized_factor_is_consistent_with_counts(spec, strategy, s) -> None:  # noqa: ANN001
    base = count(spec).flops
    target = max(1, round(base * s))
    try:
        solution = solve(spec, strategy, target)
    except UnreachableTarget:
        # Refused only where no model comes within 5%: not the base, nor any model of a grid
        # of factors (4 per octave) over the whole range searched.
        assert abs(base - target) > 0.05 * target
        for i in range(4 * 28 + 1):
            try:
                flops = count(scale(spec, strategy, MIN_FACTOR * 2 ** (i / 4))).flops
            except ScalecalcError:
                continue
            assert abs(flops - target) > 0.05 * target, i
        return
    assert solution.flops == count(solution.spec).flops
    assert solution.spec == scale(spec, strategy, solution.factor)
    assert solution.target_flops == target
    # The answer is never worse than leaving the model as it is.
    assume(abs(base - target) > 0)
    assert abs(solution.flops - target) <= abs(base - target)
