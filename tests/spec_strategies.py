"""Hypothesis strategies: one generator of valid specs per family (on the scaling grid or off
it), and scaling strategies."""

from __future__ import annotations

from hypothesis import strategies as st

from scalecalc.families.convnext import ConvNeXtSpec
from scalecalc.families.efficientnet import EfficientNetSpec
from scalecalc.families.regnet import RegNetSpec
from scalecalc.families.resnet import ResNetSpec
from scalecalc.families.vit import ViTSpec

# Group widths the reference rounding leaves alone: 1, 2, 4 and multiples of 8.
NORMAL_GROUP_WIDTHS = (1, 2, 4, 8, 16, 24, 32, 48, 64)
CLASSES = st.integers(1, 1000)
# Off the scaling grid image sizes go up to this (the counters only look at shapes).
MAX_OFF_GRID_RESOLUTION = 640


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def stage_fields(draw: st.DrawFn, ratios: tuple[float, ...], grid: bool) -> dict:
    """Stage lists, stem and resolution shared by ResNet and RegNet specs.

    On the scaling grid: widths multiples of 8, group widths the rounding keeps, image sizes
    multiples of 4. Off it: any width that keeps width x ratio whole, any dividing group width,
    any image size up to MAX_OFF_GRID_RESOLUTION.
    """
    ratio = draw(st.sampled_from(ratios))
    depths, widths, group_widths = [], [], []
    for _ in range(draw(st.integers(1, 4))):
        if grid:
            width = 8 * draw(st.integers(1, 24))
        else:  # a multiple of 4 keeps width * ratio whole for ratios down to 0.25
            width = 4 * draw(st.integers(1, 40)) if ratio < 1 else draw(st.integers(1, 160))
        bottleneck = int(width * ratio)
        choices = [g for g in NORMAL_GROUP_WIDTHS if bottleneck % g == 0] if grid else None
        depths.append(draw(st.integers(1, 3)))
        widths.append(width)
        group_widths.append(draw(st.sampled_from(choices or _divisors(bottleneck))))
    resolution = (
        4 * draw(st.integers(4, 24)) if grid else draw(st.integers(1, MAX_OFF_GRID_RESOLUTION))
    )
    stem = 8 * draw(st.integers(1, 8)) if grid else draw(st.integers(1, 80))
    return {
        "depths": tuple(depths),
        "widths": tuple(widths),
        "group_widths": tuple(group_widths),
        "bottleneck_ratio": ratio,
        "resolution": resolution,
        "num_classes": draw(CLASSES),
        "stem_width": stem,
    }


@st.composite
def resnet_specs(draw: st.DrawFn, grid: bool = True) -> ResNetSpec:
    """Bottleneck or basic-block ResNets/ResNeXts."""
    if draw(st.booleans()):
        fields = draw(stage_fields((1.0,), grid))
        return ResNetSpec(**fields | {"block": "basic", "group_widths": fields["widths"]})
    ratios = (0.25, 0.5, 1.0) if grid else (0.25, 0.5, 1.0, 2.0, 4.0)
    return ResNetSpec(**draw(stage_fields(ratios, grid)))


@st.composite
def regnet_specs(draw: st.DrawFn, grid: bool = True) -> RegNetSpec:
    """RegNetX (no SE) and RegNetY (SE; off the grid any ratio, some rounding to 0 channels)."""
    se = st.sampled_from((0.0, 0.25)) if grid else st.sampled_from((0.0, 0.25)) | st.floats(0.01, 1)
    fields = draw(stage_fields((0.25, 0.5, 1.0, 2.0, 4.0), grid))
    return RegNetSpec(**fields, se_ratio=draw(se))


@st.composite
def vit_specs(draw: st.DrawFn, grid: bool = True) -> ViTSpec:
    """ViTs with either pooling; off the grid any patch, head size, MLP size and image size."""
    heads = draw(st.integers(1, 6))
    if grid:
        patch = draw(st.sampled_from((4, 8, 16)))
        hidden = heads * draw(st.sampled_from((8, 16, 32)))
        mlp = hidden * draw(st.integers(1, 4))
        resolution = patch * draw(st.integers(1, 6))
    else:
        patch = draw(st.integers(1, 32))
        hidden = heads * draw(st.integers(1, 16))
        mlp = draw(st.integers(1, 80))
        resolution = draw(st.integers(patch, max(patch, 256)))
    return ViTSpec(
        patch_size=patch,
        hidden_size=hidden,
        num_heads=heads,
        num_layers=draw(st.integers(1, 3)),
        mlp_size=mlp,
        class_token=draw(st.booleans()),
        resolution=resolution,
        num_classes=draw(CLASSES),
    )


@st.composite
def convnext_specs(draw: st.DrawFn, grid: bool = True) -> ConvNeXtSpec:
    """ConvNeXts with and without layer scale; off the grid any widths, ratio and image size."""
    widths = st.integers(1, 16).map(lambda w: 8 * w) if grid else st.integers(1, 64)
    resolution = (
        32 * draw(st.integers(1, 3)) if grid else draw(st.integers(32, MAX_OFF_GRID_RESOLUTION))
    )
    return ConvNeXtSpec(
        depths=tuple(draw(st.lists(st.integers(1, 2), min_size=4, max_size=4))),
        widths=tuple(draw(st.lists(widths, min_size=4, max_size=4))),
        mlp_ratio=4 if grid else draw(st.integers(1, 4)),
        layer_scale=draw(st.sampled_from((0.0, 1e-6) if grid else (0.0, 1e-6, 0.5))),
        resolution=resolution,
        num_classes=draw(CLASSES),
    )


@st.composite
def efficientnet_specs(draw: st.DrawFn, grid: bool = True) -> EfficientNetSpec:
    """EfficientNets of any expansion, kernel, stride and SE ratio; on the scaling grid (widths
    on multiples of 8) or off it (any widths and sizes, SE ratios that truncate to 0 channels)."""
    stages = draw(st.integers(1, 4))

    def per_stage(values: st.SearchStrategy) -> tuple:
        return tuple(draw(st.lists(values, min_size=stages, max_size=stages)))

    step = 8 if grid else 1
    return EfficientNetSpec(
        stem_width=step * draw(st.integers(1, 6 if grid else 40)),
        depths=per_stage(st.integers(1, 3)),
        widths=tuple(step * w for w in per_stage(st.integers(1, 16 if grid else 48))),
        exp_ratios=per_stage(st.sampled_from((1, 2, 4, 6)) if grid else st.integers(1, 6)),
        kernels=per_stage(st.sampled_from((1, 3, 5) if grid else (1, 3, 5, 7))),
        strides=per_stage(st.sampled_from((1, 2))),
        se_ratio=draw(
            st.sampled_from((0.0, 0.25))
            if grid
            else st.sampled_from((0.0, 0.25)) | st.floats(0.01, 1.0)
        ),
        head_width=step * draw(st.integers(1, 40 if grid else 64)),
        resolution=4 * draw(st.integers(4, 24)) if grid else draw(st.integers(1, 72)),
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
