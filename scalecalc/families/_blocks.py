"""Layers shared by the families, written so that every product is visible to a counter."""

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


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation: global pool, 1x1 conv down, activation, 1x1 conv up, sigmoid gate."""

    def __init__(self, channels: int, se_channels: int, act: type[nn.Module] = nn.ReLU) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, se_channels, 1, bias=True)
        self.act = act()
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
        needs_projection = stride != 1 or c_in != c_out
        self.proj = conv_bn(c_in, c_out, 1, stride, relu=False) if needs_projection else None
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
        needs_projection = stride != 1 or c_in != c_out
        self.proj = conv_bn(c_in, c_out, 1, stride, relu=False) if needs_projection else None
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
