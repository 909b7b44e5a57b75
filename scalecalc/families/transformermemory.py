"""The bytes of the Vision Transformer's and ConvNeXt's blocks over a step, and their parameters.

The twins of PatchEmbedding, SelfAttention, EncoderBlock, TokenHead, ChannelsLastNorm,
ConvNeXtBlock and ConvNeXtHead (scalecalc/nn/blocks.py) on the ops of
scalecalc.families.opmemory. Attention's matmuls reshape their operands, which copies where the
strides allow no view; `viewable` decides that as torch does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scalecalc.families.block_costs import out_size
from scalecalc.families.blockmemory import staged
from scalecalc.families.opmemory import Act, Ops


Shape = tuple[int, ...]


def viewable(sizes: tuple[int, ...], strides: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether a tensor of `sizes` and `strides` can be viewed as `target` without a copy
    (torch's computeStride: each run of dims merged must be contiguous within itself)."""
    view_d = len(target) - 1
    base = strides[-1]
    tensor_numel = view_numel = 1
    for d in range(len(sizes) - 1, -1, -1):
        tensor_numel *= sizes[d]
        if d == 0 or (sizes[d - 1] != 1 and strides[d - 1] != tensor_numel * base):
            while view_d >= 0 and (view_numel < tensor_numel or target[view_d] == 1):
                view_numel *= target[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return False
            if d > 0:
                base = strides[d - 1]
                tensor_numel = view_numel = 1
    return view_d == -1


def _matmul(ops: Ops, a: Act, b: Act, out: int, a_copies: bool, b_copies: bool) -> Act:
    """A 4-d matmul (its operands cast to the low precision under AMP): in training reshaped
    to 3-d (copies where needed), then bmm; inference dispatches matmul whole, its own copies
    unseen."""
    low_a, low_b = ops.lowered(a), ops.lowered(b)
    if not ops.train:
        product = Act(ops.new(out, low_a.itemsize), out, None, low_a.itemsize)
        ops.drop(low_a, low_b)
        return product
    left, right = ops.reshape(low_a, a_copies), ops.reshape(low_b, b_copies)
    product = ops.bmm(left, right, out)
    ops.drop(left, right, low_a, low_b)
    return product


def _copies(
    ops: Ops, n: int, shapes: Callable[[int], tuple[Shape, Shape, Shape]], training: bool = False
) -> bool:
    """Whether a reshape at batch `n` copies: `shapes(b)` gives the tensor's sizes, strides
    and the target shape at batch b. `training`: the answer matters in training only (a
    gradient's reshape, a matmul's operands), and is not asked in inference."""
    if training and not ops.train:
        return False
    return ops.by_batch(n, lambda batch: not viewable(*shapes(batch)))


def attention(ops: Ops, x: Act, n: int, tokens: int, size: int, heads: int) -> Act:
    """`SelfAttention` on n x tokens x size."""
    ntok, e = n * tokens, size // heads
    qkv = ops.linear(x, ntok, size, 3 * size)
    # the gradient reaching this reshape comes from stacking q, k, v: (3, N, H, L, E) permuted
    five = ops.regrad(
        qkv,
        _copies(ops, n, lambda b: (
            (b, tokens, 3, heads, e), (tokens * size, e, b * tokens * size, tokens * e, 1),
            (b, tokens, 3 * size),
        ), training=True),
    )  # fmt: skip
    ops.drop(qkv)
    q, k, v = ops.unbind(five, 3)
    scaled = ops.scale(q)
    q_copies = _copies(ops, n, lambda b: (
        (b, heads, tokens, e), (tokens * size, e, size, 1), (b * heads, tokens, e)
    ), training=True)  # fmt: skip
    k_strides = (3 * tokens * size, e, 1, 3 * size)
    k_copies = _copies(
        ops, n, lambda b: ((b, heads, e, tokens), k_strides, (b * heads, e, tokens)), True
    )
    scores = _matmul(ops, scaled, k, n * heads * tokens * tokens, q_copies, k_copies)
    ops.drop(scaled)
    attn = ops.softmax(scores)
    ops.drop(scores)
    v_strides = (3 * tokens * size, e, 3 * size, 1)
    v_copies = _copies(
        ops, n, lambda b: ((b, heads, tokens, e), v_strides, (b * heads, tokens, e)), True
    )
    mixed = _matmul(ops, attn, v, ntok * size, False, v_copies)
    back = (tokens * size, e, size, 1)  # the gradient, transposed back to N, H, L, E
    unfolded = ops.regrad(
        mixed,
        _copies(ops, n, lambda b: ((b, heads, tokens, e), back, (b * heads, tokens, e)), True),
    )
    ops.drop(mixed)
    forward = (heads * tokens * e, e, tokens * e, 1)  # N, L, H, E after the transpose
    merged = ops.reshape(
        unfolded, _copies(ops, n, lambda b: ((b, tokens, heads, e), forward, (b, tokens, size)))
    )
    ops.drop(unfolded)
    out = ops.linear(merged, ntok, size, size)
    ops.drop(merged, q, k, v, five, attn)
    return out


def encoder_block(ops: Ops, x: Act, n: int, tokens: int, size: int, heads: int, mlp: int) -> Act:
    """`EncoderBlock`: x + attn(ln(x)), then x + mlp(ln(x))."""
    h = ops.layer_norm(x, size)
    a = attention(ops, h, n, tokens, size, heads)
    ops.drop(h)
    x1 = ops.add(x, a)
    ops.drop(a)
    h2 = ops.layer_norm(x1, size)
    m = _mlp(ops, h2, n * tokens, size, mlp)
    ops.drop(h2)
    out = ops.add(x1, m)
    ops.drop(m, x1)
    return out


def _mlp(ops: Ops, x: Act, rows: int, size: int, hidden: int) -> Act:
    """Linear, GELU, Linear as nn.Sequential runs them."""
    up = ops.linear(x, rows, size, hidden)
    act = ops.unary(up, saves_result=False)
    ops.drop(up)
    down = ops.linear(act, rows, hidden, size)
    ops.drop(act)
    return down


def vit(spec: Any, ops: Ops, n: int, image: Act) -> Act:
    """The logits of the ViT of `spec` on `image`."""
    size, tokens, patch = spec.hidden_size, spec.num_tokens, spec.patch_size
    grid = spec.resolution // patch

    def stem(x: Act) -> Act:
        patches = ops.conv(x, n * size * grid * grid, size * 3 * patch * patch, size)
        if spec.class_token:
            joined = ops.cat_token(size, patches, n * tokens * size, n)
            ops.drop(patches)
            patches = joined
        out = ops.add_param(patches, tokens * size)
        ops.drop(patches)
        return out

    def block(x: Act) -> Act:
        return encoder_block(ops, x, n, tokens, size, spec.num_heads, spec.mlp_size)

    def head(x: Act) -> Act:
        if spec.class_token:
            normed = ops.layer_norm(x, size)
            token = ops.select(normed, n * size)
            logits = ops.linear(token, n, size, spec.num_classes)
            ops.drop(token, normed)
            return logits
        pooled = ops.mean(x, n * size)
        normed = ops.layer_norm(pooled, size)
        ops.drop(pooled)
        logits = ops.linear(normed, n, size, spec.num_classes)
        ops.drop(normed)
        return logits

    def stage(x: Act) -> Act:
        return staged(ops, ops.keep(x), [block] * spec.num_layers)

    return staged(ops, ops.keep(image), [stem, stage, head])


def convnext_block(
    ops: Ops, x: Act, n: int, width: int, side: int, spec: Any, nchw_grad: bool
) -> Act:
    """`ConvNeXtBlock`: 7x7 depthwise conv, norm, inverted MLP, layer scale, residual.
    `nchw_grad`: the output's gradient is laid out N, C, H, W (in the last stage, from the
    head's pooling), so the MLP output's view, N, H, W, C, copies it back."""
    pixels = n * side * side
    d = ops.conv(x, pixels * width, width * 49, width)
    normed = ops.layer_norm(d, width)
    ops.drop(d)
    flat = _mlp(ops, normed, pixels, width, spec.mlp_ratio * width)
    ops.drop(normed)
    y = ops.regrad(flat, nchw_grad)
    ops.drop(flat)
    if spec.layer_scale > 0:
        scaled = ops.mul_param(y, width)
        ops.drop(y)
        y = scaled
    out = ops.add(x, y)
    ops.drop(y)
    return out


def convnext(spec: Any, ops: Ops, n: int, image: Act) -> Act:
    """The logits of the ConvNeXt of `spec` on `image`."""
    c_in = spec.widths[0]
    side = out_size(spec.resolution, 4, 4)

    def stem(x: Act, c: int = c_in, s: int = side) -> Act:
        patches = ops.conv(x, n * c * s * s, c * 3 * 16, c)
        return staged(ops, patches, [lambda y: ops.layer_norm(y, c)])

    parts = [stem]
    for index, (depth, width) in enumerate(zip(spec.depths, spec.widths)):
        layers = []
        if index > 0:  # downsampling: norm, then a 2x2 conv on the channels-last norm output (a
            # layout a single channel does not have, and a channels-last model's weights share)
            side = out_size(side, 2, 2)
            layers.append(lambda y, c=c_in: ops.layer_norm(y, c))
            layers.append(
                lambda y, c=c_in, w=width, s=side: ops.conv(
                    y, n * w * s * s, w * c * 4, w, relaid=c > 1 and not ops.channels_last
                )
            )
        # the head's gradient, N, C, H, W, seen N, H, W, C by the last stage's MLP views
        strides = (width * side * side, side, 1, side * side)
        last = index == len(spec.depths) - 1
        last = last and _copies(
            ops, n, lambda b, s=side, w=width, t=strides: ((b, s, s, w), t, (b * s * s, w)), True
        )
        layers += [
            lambda y, w=width, s=side, nchw=last: convnext_block(ops, y, n, w, s, spec, nchw)
        ] * depth
        parts.append(lambda x, layers=layers: staged(ops, ops.keep(x), layers))
        c_in = width

    def head(x: Act) -> Act:
        pooled = ops.mean(x, n * c_in)
        flat = ops.regrad(pooled, side == 1)  # a copy, as torch runs it, at 1 x 1 only
        ops.drop(pooled)
        normed = ops.layer_norm(flat, c_in)
        ops.drop(flat)
        logits = ops.linear(normed, n, c_in, spec.num_classes)
        ops.drop(normed)
        return logits

    return staged(ops, ops.keep(image), [*parts, head])


def parameters(spec: Any) -> list[int]:
    """Element counts of the parameters of the ViT or ConvNeXt of `spec`, in module order."""
    if spec.family == "vit":
        size, patch, mlp = spec.hidden_size, spec.patch_size, spec.mlp_size
        # a module's own parameters come before its children's: the tokens before the conv
        params = [size] * spec.class_token + [spec.num_tokens * size]
        params += [size * 3 * patch * patch, size]
        block = [size, size, 3 * size * size, 3 * size, size * size, size, size, size]
        block += [mlp * size, mlp, size * mlp, size]
        return (
            params
            + block * spec.num_layers
            + [size, size, spec.num_classes * size, spec.num_classes]
        )
    c_in = spec.widths[0]
    params = [c_in * 3 * 16, c_in, c_in, c_in]
    for index, (depth, width) in enumerate(zip(spec.depths, spec.widths)):
        if index > 0:
            params += [c_in, c_in, width * c_in * 4, width]
        hidden = spec.mlp_ratio * width
        block = [width] * (spec.layer_scale > 0)  # gamma, the block's own, first
        block += [width * 49, width, width, width, hidden * width, hidden, width * hidden, width]
        params += block * depth
        c_in = width
    return params + [c_in, c_in, spec.num_classes * c_in, spec.num_classes]
