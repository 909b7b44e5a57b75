"""The bytes each block keeps alive over a step: one function per module of scalecalc/nn/blocks.py.

Each function is the twin of the module's forward, written as the ops it dispatches (from
scalecalc.families.opmemory) and the moments Python drops each value, as block_costs.py is for
flops. Every function takes the input Act (the caller keeps its reference) and returns the output
with one reference. `n` is the batch size; sides are of square feature maps.
"""

from __future__ import annotations

from typing import Any

from scalecalc.families.block_costs import out_size
from scalecalc.families.opmemory import Act, Ops
from scalecalc.repeats import PLAYED, Repeat


def staged(ops: Ops, x: Act, parts: list[Any]) -> Act:
    """x through `parts` as nn.Sequential runs them, each input dropped once the next exists;
    `x` is the Sequential's own reference (the caller keeps its own). On a tape that cuts runs,
    a run of more than PLAYED identical parts (the same object) is played as its first, one
    middle and its last (scalecalc.repeats)."""
    marks = ops.tape.marks
    index = 0
    while index < len(parts):
        part = parts[index]
        length = 1
        while index + length < len(parts) and parts[index + length] is part:
            length += 1
        played = length if marks is None or length <= PLAYED else PLAYED
        for step in range(played):
            if played < length and step == 1:
                mark = Repeat(length - PLAYED, ops.tape)
                marks.append(mark)
            elif played < length and step == 2:
                mark.end_forward(ops.tape)
            y = part(x)
            ops.drop(x)
            x = y
        index += length
    return x


def conv_bn(
    ops: Ops,
    x: Act,
    n: int,
    c_in: int,
    c_out: int,
    size: int,
    kernel: int,
    stride: int = 1,
    groups: int = 1,
    act: str | None = "relu",
) -> tuple[Act, int]:
    """`conv_bn` (act "relu" or None), or `conv_bn_silu` (act "silu"); and the output side."""
    side = out_size(size, kernel, stride, kernel // 2)
    conv = ops.conv(x, n * c_out * side * side, c_out * (c_in // groups) * kernel * kernel)
    y = ops.batch_norm(conv, c_out)
    ops.drop(conv)
    if act == "relu":
        return ops.relu_(y), side
    if act == "silu":
        z = ops.unary(y, saves_result=False)
        ops.drop(y)
        return z, side
    return y, side


def squeeze_excite(
    ops: Ops, x: Act, n: int, channels: int, se_channels: int, inplace_silu: bool = False
) -> Act:
    """`SqueezeExcite`: pool, 1x1 down (ReLU, or in-place SiLU), 1x1 up, x * sigmoid(gate)."""
    pooled = ops.mean(x, n * channels)
    reduced = ops.conv(pooled, n * se_channels, se_channels * channels, se_channels)
    ops.drop(pooled)
    reduced = ops.silu_(reduced) if inplace_silu else ops.relu_(reduced)
    gate = ops.conv(reduced, n * channels, channels * se_channels, channels)
    ops.drop(reduced)
    sigmoid = ops.unary(gate, saves_result=True)
    out = ops.mul_broadcast(x, sigmoid)
    ops.drop(sigmoid, gate)
    return out


def residual_end(ops: Ops, shortcut: Act, branch: Act) -> Act:
    """`act(shortcut + branch)` with an in-place ReLU, the branch and shortcut then dropped."""
    out = ops.add(shortcut, branch)
    ops.drop(branch)
    ops.relu_(out)
    ops.drop(shortcut)
    return out


def shortcut(ops: Ops, x: Act, n: int, c_in: int, c_out: int, size: int, stride: int) -> Act:
    """`projection`: a strided 1x1 conv_bn where the block changes the shape, else x itself."""
    if stride != 1 or c_in != c_out:
        return conv_bn(ops, x, n, c_in, c_out, size, 1, stride, act=None)[0]
    return ops.keep(x)


def bottleneck_block(
    ops: Ops,
    x: Act,
    n: int,
    c_in: int,
    c_out: int,
    size: int,
    stride: int,
    bottleneck: int,
    group_width: int,
    se_channels: int = 0,
) -> tuple[Act, int]:
    """`BottleneckBlock`; and the output side."""
    short = shortcut(ops, x, n, c_in, c_out, size, stride)
    a, _ = conv_bn(ops, x, n, c_in, bottleneck, size, 1)
    groups = bottleneck // group_width
    b, side = conv_bn(ops, a, n, bottleneck, bottleneck, size, 3, stride, groups)
    ops.drop(a)
    if se_channels:
        excited = squeeze_excite(ops, b, n, bottleneck, se_channels)
        ops.drop(b)
        b = excited
    c, _ = conv_bn(ops, b, n, bottleneck, c_out, side, 1, act=None)
    ops.drop(b)
    return residual_end(ops, short, c), side


def basic_block(
    ops: Ops, x: Act, n: int, c_in: int, c_out: int, size: int, stride: int
) -> tuple[Act, int]:
    """`BasicBlock`; and the output side."""
    short = shortcut(ops, x, n, c_in, c_out, size, stride)
    a, side = conv_bn(ops, x, n, c_in, c_out, size, 3, stride)
    b, _ = conv_bn(ops, a, n, c_out, c_out, side, 3, act=None)
    ops.drop(a)
    return residual_end(ops, short, b), side


def mbconv_block(
    ops: Ops,
    x: Act,
    n: int,
    c_in: int,
    c_out: int,
    size: int,
    expanded: int,
    kernel: int,
    stride: int,
    se_channels: int = 0,
) -> tuple[Act, int]:
    """`MBConvBlock`; and the output side."""
    if expanded != c_in:
        h, _ = conv_bn(ops, x, n, c_in, expanded, size, 1, act="silu")
    else:
        h = ops.keep(x)
    d, side = conv_bn(ops, h, n, expanded, expanded, size, kernel, stride, expanded, "silu")
    ops.drop(h)
    if se_channels:
        excited = squeeze_excite(ops, d, n, expanded, se_channels, inplace_silu=True)
        ops.drop(d)
        d = excited
    y, _ = conv_bn(ops, d, n, expanded, c_out, side, 1, act=None)
    ops.drop(d)
    if stride == 1 and c_in == c_out:
        out = ops.add(x, y)
        ops.drop(y)
        return out, side
    return y, side


def pool_linear_head(ops: Ops, x: Act, n: int, channels: int, num_classes: int) -> Act:
    """`PoolLinearHead`: global average pool, then the classifier."""
    pooled = ops.mean(x, n * channels)
    logits = ops.linear(pooled, n, channels, num_classes)
    ops.drop(pooled)
    return logits
