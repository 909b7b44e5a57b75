"""The block modules of every family, written so that every product is visible to a counter.

Each composite block has a cost method of the same name in scalecalc/families/block_costs.py that
charges what counting this module gives; tests hold the two together.
"""

from __future__ import annotations

import torch
from torch import nn


class StagedNet(nn.Module):
    """A network as stem -> stages -> head; counters attribute costs to these parts."""

    def __init__(self, stem: nn.Module, stages: list[nn.Module], head: nn.Module) -> None:
        super().__init__()
        self.stem = stem
        self.stages = nn.ModuleList(stages)
        self.head = head

    def parts(self) -> list[tuple[str, nn.Module]]:
        """The named parts in forward order: stem, stage1..stageN, head."""
        named = [("stem", self.stem)]
        named += [(f"stage{i}", stage) for i, stage in enumerate(self.stages, start=1)]
        named.append(("head", self.head))
        return named

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for _, part in self.parts():
            x = part(x)
        return x


def conv_bn(
    c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1, relu: bool = True
) -> nn.Sequential:
    """Convolution (no bias, 'same' padding for odd kernels), batch norm, optional ReLU."""
    layers: list[nn.Module] = [
        nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def projection(c_in: int, c_out: int, stride: int) -> nn.Sequential | None:
    """A residual block's shortcut: a strided 1x1 convolution and batch norm where the block
    changes the shape, None (the input itself) where it does not."""
    if stride != 1 or c_in != c_out:
        return conv_bn(c_in, c_out, 1, stride, relu=False)
    return None


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation: global pool, 1x1 conv down, activation, 1x1 conv up, sigmoid gate."""

    def __init__(self, channels: int, se_channels: int, act: type[nn.Module] = nn.ReLU) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, se_channels, 1, bias=True)
        self.act = act(inplace=True)
        self.expand = nn.Conv2d(se_channels, channels, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.expand(self.act(self.reduce(self.pool(x))))  # N, C, 1, 1
        return x * gate.sigmoid()


class BottleneckBlock(nn.Module):
    """Residual bottleneck: 1x1 -> 3x3 grouped (strided) -> [SE] -> 1x1, projection if needed."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        stride: int,
        bottleneck: int,
        group_width: int,
        se_channels: int = 0,
    ) -> None:
        super().__init__()
        self.a = conv_bn(c_in, bottleneck, 1)
        self.b = conv_bn(bottleneck, bottleneck, 3, stride, groups=bottleneck // group_width)
        self.se = SqueezeExcite(bottleneck, se_channels) if se_channels else nn.Identity()
        self.c = conv_bn(bottleneck, c_out, 1, relu=False)
        self.proj = projection(c_in, c_out, stride)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.proj is None else self.proj(x)
        return self.act(shortcut + self.c(self.se(self.b(self.a(x)))))


class BasicBlock(nn.Module):
    """Residual basic block: two 3x3 convolutions, projection if needed."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.a = conv_bn(c_in, c_out, 3, stride)
        self.b = conv_bn(c_out, c_out, 3, relu=False)
        self.proj = projection(c_in, c_out, stride)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.proj is None else self.proj(x)
        return self.act(shortcut + self.b(self.a(x)))


class PoolLinearHead(nn.Module):
    """Global average pool, flatten, fully connected classifier."""

    def __init__(self, c_in: int, num_classes: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(x), 1))


# --- EfficientNet ---


def conv_bn_silu(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Module:
    """Convolution, batch norm, SiLU."""
    return nn.Sequential(conv_bn(c_in, c_out, kernel, stride, groups, relu=False), nn.SiLU())


class MBConvBlock(nn.Module):
    """Inverted bottleneck: [1x1 expansion], depthwise kxk (strided), [SE], 1x1 projection."""

    def __init__(
        self, c_in: int, c_out: int, expanded: int, kernel: int, stride: int, se_channels: int
    ) -> None:
        super().__init__()
        # An expansion ratio of 1 leaves the width unchanged: no 1x1 expansion then.
        self.expand = conv_bn_silu(c_in, expanded, 1) if expanded != c_in else nn.Identity()
        self.dwise = conv_bn_silu(expanded, expanded, kernel, stride, groups=expanded)
        self.se = SqueezeExcite(expanded, se_channels, nn.SiLU) if se_channels else nn.Identity()
        self.project = conv_bn(expanded, c_out, 1, relu=False)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.se(self.dwise(self.expand(x))))
        return x + y if self.residual else y


# --- Vision Transformer ---


class PatchEmbedding(nn.Module):
    """Patchify convolution, optional class token, learned position embedding."""

    def __init__(self, size: int, patch: int, tokens: int, class_token: bool) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, size, patch, patch)
        self.class_token = nn.Parameter(torch.zeros(1, 1, size)) if class_token else None
        self.position = nn.Parameter(torch.zeros(1, tokens, size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x).flatten(2).transpose(1, 2)  # N, L, C
        if self.class_token is not None:
            x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        return x + self.position


class SelfAttention(nn.Module):
    """Multi-head self-attention; q·kᵀ and attn·v are plain matmuls so counters see them."""

    def __init__(self, size: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.scale = (size // heads) ** -0.5
        self.qkv = nn.Linear(size, 3 * size)
        self.proj = nn.Linear(size, size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, length, size = x.shape
        qkv = self.qkv(x).reshape(n, length, 3, self.heads, size // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each N, heads, L, E
        attn = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)  # N, heads, L, L
        x = (attn @ v).transpose(1, 2).reshape(n, length, size)
        return self.proj(x)


class EncoderBlock(nn.Module):
    """Pre-norm transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, size: int, heads: int, mlp_size: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(size, eps=1e-6)
        self.attn = SelfAttention(size, heads)
        self.norm2 = nn.LayerNorm(size, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(size, mlp_size), nn.GELU(), nn.Linear(mlp_size, size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TokenHead(nn.Module):
    """Layer norm then the class token; without one, timm's default: token mean, then norm."""

    def __init__(self, size: int, class_token: bool, num_classes: int) -> None:
        super().__init__()
        self.class_token = class_token
        self.norm = nn.LayerNorm(size, eps=1e-6)
        self.fc = nn.Linear(size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.class_token:
            return self.fc(self.norm(x)[:, 0])
        return self.fc(self.norm(x.mean(dim=1)))


# --- ConvNeXt ---


class ChannelsLastNorm(nn.Module):
    """LayerNorm over channels of an N, C, H, W tensor."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    """7x7 depthwise conv, LayerNorm, Linear x ratio, GELU, Linear back, layer scale, residual."""

    def __init__(self, width: int, mlp_ratio: int, layer_scale: float) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(width, width, 7, padding=3, groups=width)
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self.mlp = nn.Sequential(
            nn.Linear(width, mlp_ratio * width), nn.GELU(), nn.Linear(mlp_ratio * width, width)
        )
        self.gamma = nn.Parameter(torch.full((width,), layer_scale)) if layer_scale > 0 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.mlp(self.norm(self.dwconv(x).permute(0, 2, 3, 1)))  # N, H, W, C
        if self.gamma is not None:
            y = y * self.gamma
        return x + y.permute(0, 3, 1, 2)


class ConvNeXtHead(nn.Module):
    """Global average pool, LayerNorm, linear classifier."""

    def __init__(self, width: int, num_classes: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.norm(torch.flatten(self.pool(x), 1)))
