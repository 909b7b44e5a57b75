"""Hypothesis strategies: random valid specs on the scaling grid, and scaling strategies."""

from __future__ import annotations

from hypothesis import strategies as st

from scalecalc.families.convnext import ConvNeXtSpec
from scalecalc.families.efficientnet import EfficientNetSpec
from scalecalc.families.regnet import RegNetSpec
from scalecalc.families.resnet import ResNetSpec
from scalecalc.families.vit import ViTSpec

# Group widths the reference rounding leaves alone: 1, 2, 4 and multiples of 8.
NORMAL_GROUP_WIDTHS = (1, 2, 4, 8, 16, 24, 32, 48, 64)


@st.composite
def _stage(draw, ratio: float) -> tuple[int, int, int]:  # noqa: ANN001
    """(depth, width, group width) with width a multiple of 8 and groups dividing the bottleneck."""
    depth = draw(st.integers(1, 3))
    width = 8 * draw(st.integers(1, 24))
    bottleneck = int(width * ratio)
    groups = [g for g in NORMAL_GROUP_WIDTHS if bottleneck % g == 0]
    return depth, width, draw(st.sampled_from(groups))


@st.composite
def stage_fields(draw, ratios=(0.25, 0.5, 1.0)) -> dict:  # noqa: ANN001
    """Stage lists and resolution shared by ResNet and RegNet specs."""
    ratio = draw(st.sampled_from(ratios))
    stages = draw(st.lists(_stage(ratio), min_size=1, max_size=4))
    return {
        "depths": tuple(s[0] for s in stages),
        "widths": tuple(s[1] for s in stages),
        "group_widths": tuple(s[2] for s in stages),
        "bottleneck_ratio": ratio,
        "resolution": 4 * draw(st.integers(4, 24)),
        "num_classes": draw(st.integers(1, 1000)),
    }


@st.composite
def resnet_specs(draw) -> ResNetSpec:  # noqa: ANN001
    """Bottleneck or basic-block ResNets."""
    if draw(st.booleans()):
        fields = draw(stage_fields(ratios=(1.0,)))
        fields["group_widths"] = fields["widths"]
        return ResNetSpec(block="basic", stem_width=8 * draw(st.integers(1, 8)), **fields)
    return ResNetSpec(stem_width=8 * draw(st.integers(1, 8)), **draw(stage_fields()))


@st.composite
def regnet_specs(draw) -> RegNetSpec:  # noqa: ANN001
    """RegNetX (no SE) and RegNetY (SE) in stage form."""
    se_ratio = draw(st.sampled_from((0.0, 0.25)))
    return RegNetSpec(se_ratio=se_ratio, **draw(stage_fields(ratios=(0.25, 0.5, 1.0, 2.0, 4.0))))


@st.composite
def vit_specs(draw) -> ViTSpec:  # noqa: ANN001
    """Small ViTs: any head size and count, MLP ratio 1-4, either pooling."""
    patch = draw(st.sampled_from((4, 8, 16)))
    heads = draw(st.integers(1, 6))
    hidden = heads * draw(st.sampled_from((8, 16, 32)))
    return ViTSpec(
        patch_size=patch,
        hidden_size=hidden,
        num_heads=heads,
        num_layers=draw(st.integers(1, 3)),
        mlp_size=hidden * draw(st.integers(1, 4)),
        class_token=draw(st.booleans()),
        resolution=patch * draw(st.integers(1, 6)),
        num_classes=draw(st.integers(1, 1000)),
    )


@st.composite
def convnext_specs(draw) -> ConvNeXtSpec:  # noqa: ANN001
    """Small ConvNeXts with and without layer scale."""
    return ConvNeXtSpec(
        depths=tuple(draw(st.lists(st.integers(1, 2), min_size=4, max_size=4))),
        widths=tuple(8 * w for w in draw(st.lists(st.integers(1, 16), min_size=4, max_size=4))),
        layer_scale=draw(st.sampled_from((0.0, 1e-6))),
        resolution=32 * draw(st.integers(1, 3)),
        num_classes=draw(st.integers(1, 1000)),
    )


@st.composite
def efficientnet_specs(draw) -> EfficientNetSpec:  # noqa: ANN001
    """Small EfficientNets: widths on multiples of 8, any expansion, kernel, stride, SE ratio."""
    stages = draw(st.integers(1, 4))

    def per_stage(values: st.SearchStrategy) -> tuple:
        return tuple(draw(st.lists(values, min_size=stages, max_size=stages)))

    return EfficientNetSpec(
        stem_width=8 * draw(st.integers(1, 6)),
        depths=per_stage(st.integers(1, 3)),
        widths=tuple(8 * w for w in per_stage(st.integers(1, 16))),
        exp_ratios=per_stage(st.sampled_from((1, 2, 4, 6))),
        kernels=per_stage(st.sampled_from((1, 3, 5))),
        strides=per_stage(st.sampled_from((1, 2))),
        se_ratio=draw(st.sampled_from((0.0, 0.25))),
        head_width=8 * draw(st.integers(1, 40)),
        resolution=4 * draw(st.integers(4, 24)),
        num_classes=draw(st.integers(1, 1000)),
    )


any_spec = st.one_of(
    resnet_specs(), regnet_specs(), vit_specs(), convnext_specs(), efficientnet_specs()
)

strategy_names = st.one_of(
    st.sampled_from(("w", "d", "r", "dw", "dr", "wr", "dwr", "dWr", "effnet", "d1_w8_g8_r1")),
    st.floats(0, 1).map(lambda alpha: f"fast:{alpha:.3f}"),
    st.tuples(st.integers(0, 8), st.integers(1, 8), st.integers(0, 8)).map(
        lambda w: f"d{w[0]}_w{w[1]}_g{w[1]}_r{w[2]}"
    ),
)
