"""pycls's flops convention for EfficientNets: multiply-adds plus the additions of biases."""

from __future__ import annotations

from scalecalc.families.efficientnet import EfficientNetSpec


def bias_adds(spec: EfficientNetSpec) -> int:
    """Additions of biases, which pycls counts as flops: SE's two 1x1 convs and the classifier."""
    adds, c_in = spec.num_classes, spec.stem_width
    for depth, width, ratio in zip(spec.depths, spec.widths, spec.exp_ratios):
        for _ in range(depth):
            # SE on a 1x1 map: int(c_in * se_ratio) biases down, c_in * ratio biases up.
            adds += int(c_in * spec.se_ratio) + c_in * ratio
            c_in = width
    return adds
