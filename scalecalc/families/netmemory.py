"""Each family's network as the blocks of scalecalc.families.blockmemory, and its parameters.

`forward(spec, ops, n)` runs the forward of `build(spec)` on a batch of n images (and, in
training, leaves the logits for the loss); `parameters(spec)` lists the parameter element
counts in `model.parameters()` order and the buffers, which the weights and the optimizer's
state follow.
"""

from __future__ import annotations

from typing import Any

from scalecalc.families import blockmemory as bm
from scalecalc.families import transformermemory as tm
from scalecalc.families.block_costs import out_size
from scalecalc.families.cnn import StageSpec, stage_plan
from scalecalc.families.efficientnet import stage_plan as mbconv_plan
from scalecalc.families.opmemory import Act, Ops


def _cnn_stages(ops: Ops, spec: StageSpec, n: int, c_in: int, size: int) -> list[Any]:
    parts = []
    for plan in stage_plan(spec, c_in):
        blocks = [plan.first] + [plan.rest] * (plan.depth - 1)
        parts.append(_stage(ops, spec, n, blocks, size))
        size = out_size(size, 1, plan.first.stride)
    return parts


def _stage(ops: Ops, spec: StageSpec, n: int, blocks: list[Any], size: int) -> Any:
    def run(x: Act) -> Act:
        side = previous = size
        steps: list[Any] = []
        for index, block in enumerate(blocks):
            # the block before again, on the same side: the same part, so runs are seen
            same = index > 0 and block is blocks[index - 1] and side == previous
            steps.append(steps[-1] if same else _cnn_block(ops, n, block, side))
            previous, side = side, out_size(side, 1, block.stride)
        return bm.staged(ops, ops.keep(x), steps)

    return run


def _cnn_block(ops: Ops, n: int, b: Any, size: int) -> Any:
    if b.kind == "basic":
        return lambda x: bm.basic_block(ops, x, n, b.c_in, b.c_out, size, b.stride)[0]
    return lambda x: bm.bottleneck_block(
        ops, x, n, b.c_in, b.c_out, size, b.stride, b.bottleneck, b.group_width, b.se_width
    )[0]


def _stage_cnn(spec: Any, ops: Ops, n: int, image: Act, resnet: bool) -> Act:
    kernel = 7 if resnet else 3
    size = out_size(spec.resolution, kernel, 2, kernel // 2)
    stem_out = size

    def stem(x: Act) -> Act:
        y = bm.conv_bn(ops, x, n, 3, spec.stem_width, spec.resolution, kernel, 2)[0]
        if not resnet:
            return y
        pooled = ops.max_pool(y, n * spec.stem_width * out_size(size, 3, 2, 1) ** 2)
        ops.drop(y)
        return pooled

    if resnet:
        stem_out = out_size(size, 3, 2, 1)
    stages = _cnn_stages(ops, spec, n, spec.stem_width, stem_out)

    def head(x: Act) -> Act:
        return bm.pool_linear_head(ops, x, n, spec.widths[-1], spec.num_classes)

    return bm.staged(ops, ops.keep(image), [stem, *stages, head])


def _efficientnet(spec: Any, ops: Ops, n: int, image: Act) -> Act:
    size = out_size(spec.resolution, 3, 2, 1)

    def stem(x: Act) -> Act:
        return bm.conv_bn(ops, x, n, 3, spec.stem_width, spec.resolution, 3, 2, act="silu")[0]

    stages = []
    for plan in mbconv_plan(spec):
        blocks: list[Any] = []
        shapes = [plan.first] + [plan.rest] * (plan.depth - 1)
        previous = size
        for index, shape in enumerate(shapes):
            # the block before again, on the same side: the same part, as in _stage
            same = index > 0 and shape is shapes[index - 1] and size == previous
            blocks.append(blocks[-1] if same else _mbconv(ops, n, shape, size))
            previous, size = size, out_size(size, 1, shape.stride)
        stages.append(lambda x, blocks=blocks: bm.staged(ops, ops.keep(x), blocks))
    last = spec.widths[-1]

    def head(x: Act) -> Act:
        y = bm.conv_bn(ops, x, n, last, spec.head_width, size, 1, act="silu")[0]
        logits = bm.pool_linear_head(ops, y, n, spec.head_width, spec.num_classes)
        ops.drop(y)
        return logits

    return bm.staged(ops, ops.keep(image), [stem, *stages, head])


def _mbconv(ops: Ops, n: int, s: Any, size: int) -> Any:
    return lambda x: bm.mbconv_block(
        ops, x, n, s.c_in, s.c_out, size, s.expanded, s.kernel, s.stride, s.se_width
    )[0]


def forward(spec: Any, ops: Ops, n: int) -> Act:
    """The logits of `build(spec)` on n images, every op's bytes on `ops`' tape."""
    image = ops.image(n * 3 * spec.resolution**2)
    family = spec.family
    if family in ("resnet", "regnet"):
        return _stage_cnn(spec, ops, n, image, family == "resnet")
    if family == "efficientnet":
        return _efficientnet(spec, ops, n, image)
    if family == "vit":
        return tm.vit(spec, ops, n, image)
    return tm.convnext(spec, ops, n, image)


def _conv_bn_params(params: list[int], norms: list[int], c_in: int, c_out: int, kernel: int,
                    groups: int = 1) -> None:  # fmt: skip
    params += [c_out * (c_in // groups) * kernel * kernel, c_out, c_out]
    norms.append(c_out)


def _se_params(params: list[int], channels: int, se: int) -> None:
    params += [se * channels, se, channels * se, channels]


def _cnn_params(spec: Any, params: list[int], norms: list[int]) -> int:
    for plan in stage_plan(spec, spec.stem_width):
        for b in [plan.first] + [plan.rest] * (plan.depth - 1):
            if b.kind == "basic":
                _conv_bn_params(params, norms, b.c_in, b.c_out, 3)
                _conv_bn_params(params, norms, b.c_out, b.c_out, 3)
            else:
                _conv_bn_params(params, norms, b.c_in, b.bottleneck, 1)
                groups = b.bottleneck // b.group_width
                _conv_bn_params(params, norms, b.bottleneck, b.bottleneck, 3, groups)
                if b.se_width:
                    _se_params(params, b.bottleneck, b.se_width)
                _conv_bn_params(params, norms, b.bottleneck, b.c_out, 1)
            if b.stride != 1 or b.c_in != b.c_out:
                _conv_bn_params(params, norms, b.c_in, b.c_out, 1)
    return spec.widths[-1]


def _efficientnet_params(spec: Any, params: list[int], norms: list[int]) -> int:
    for plan in mbconv_plan(spec):
        for s in [plan.first] + [plan.rest] * (plan.depth - 1):
            if s.expanded != s.c_in:
                _conv_bn_params(params, norms, s.c_in, s.expanded, 1)
            _conv_bn_params(params, norms, s.expanded, s.expanded, s.kernel, s.expanded)
            if s.se_width:
                _se_params(params, s.expanded, s.se_width)
            _conv_bn_params(params, norms, s.expanded, s.c_out, 1)
    _conv_bn_params(params, norms, spec.widths[-1], spec.head_width, 1)
    return spec.head_width


def parameters(spec: Any) -> tuple[list[int], list[int]]:
    """Element counts of the parameters in `model.parameters()` order, and the channels of
    each batch norm (whose running mean and variance, and int64 step count, are buffers)."""
    params: list[int] = []
    norms: list[int] = []
    family = spec.family
    if family in ("vit", "convnext"):
        return tm.parameters(spec), norms
    kernel = 7 if family == "resnet" else 3
    _conv_bn_params(params, norms, 3, spec.stem_width, kernel)
    if family == "efficientnet":
        last = _efficientnet_params(spec, params, norms)
    else:
        last = _cnn_params(spec, params, norms)
    params += [spec.num_classes * last, spec.num_classes]
    return params, norms
