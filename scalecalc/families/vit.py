"""Vision Transformer (Dosovitskiy et al., 2021) with attention written as visible matmuls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from scalecalc.counting import Costs
from scalecalc.errors import SpecError
from scalecalc.families._blocks import StagedNet
from scalecalc.families._cost import Tally, total
from scalecalc.families._spec import MAX_DEPTH, MAX_WIDTH, BaseSpec, check_range
from scalecalc.scaling import Factors, scale_depth, scale_resolution


@dataclass(frozen=True, kw_only=True)
class ViTSpec(BaseSpec):
    """Patch size, hidden size, layers, heads, MLP size, class token (else mean pooling).

    Off-grid image sizes count as the real model runs them: floor(resolution / patch) patches.
    """

    family: ClassVar[str] = "vit"
    patch_size: int = 16
    hidden_size: int
    num_layers: int
    num_heads: int
    mlp_size: int
    class_token: bool = True

    def validate(self) -> None:
        super().validate()
        check_range("patch_size", self.patch_size, 1, 1024)
        check_range("hidden_size", self.hidden_size, 1, MAX_WIDTH)
        check_range("num_layers", self.num_layers, 1, MAX_DEPTH)
        check_range("num_heads", self.num_heads, 1, self.hidden_size)
        check_range("mlp_size", self.mlp_size, 1, 16 * MAX_WIDTH)
        if self.hidden_size % self.num_heads:
            raise SpecError(
                "num_heads",
                f"must divide hidden_size {self.hidden_size}, got {self.num_heads}",
            )
        if self.resolution < self.patch_size:
            raise SpecError(
                "resolution",
                f"must be at least patch_size {self.patch_size}, got {self.resolution}",
            )

    @property
    def num_blocks(self) -> int:
        """Encoder blocks."""
        return self.num_layers

    @property
    def num_tokens(self) -> int:
        """Sequence length: one token per patch, plus the class token."""
        return (self.resolution // self.patch_size) ** 2 + int(self.class_token)


class PatchEmbedding(nn.Module):
    """Patchify convolution, optional class token, learned position embedding."""

    def __init__(self, spec: ViTSpec) -> None:
        super().__init__()
        size = spec.hidden_size
        self.proj = nn.Conv2d(3, size, spec.patch_size, spec.patch_size)
        self.class_token = nn.Parameter(torch.zeros(1, 1, size)) if spec.class_token else None
        self.position = nn.Parameter(torch.zeros(1, spec.num_tokens, size))

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

    def __init__(self, spec: ViTSpec) -> None:
        super().__init__()
        size = spec.hidden_size
        self.norm1 = nn.LayerNorm(size, eps=1e-6)
        self.attn = SelfAttention(size, spec.num_heads)
        self.norm2 = nn.LayerNorm(size, eps=1e-6)
        self.mlp = nn.Sequential(
            nn.Linear(size, spec.mlp_size), nn.GELU(), nn.Linear(spec.mlp_size, size)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TokenHead(nn.Module):
    """Layer norm then the class token; without one, timm's default: token mean, then norm."""

    def __init__(self, spec: ViTSpec) -> None:
        super().__init__()
        self.class_token = spec.class_token
        self.norm = nn.LayerNorm(spec.hidden_size, eps=1e-6)
        self.fc = nn.Linear(spec.hidden_size, spec.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.class_token:
            return self.fc(self.norm(x)[:, 0])
        return self.fc(self.norm(x.mean(dim=1)))


def build(spec: ViTSpec) -> StagedNet:
    """The network for `spec`: patch embedding, one stage of encoder blocks, token head."""
    blocks = nn.Sequential(*(EncoderBlock(spec) for _ in range(spec.num_layers)))
    return StagedNet(PatchEmbedding(spec), [blocks], TokenHead(spec))


def complexity(spec: ViTSpec, convention: str = "paper") -> Costs:
    """The costs `build(spec)` counts to, in closed form from the spec's shapes."""
    size, tokens, heads = spec.hidden_size, spec.num_tokens, spec.num_heads
    stem = Tally("stem", convention)
    stem.conv(3, size, spec.resolution, spec.patch_size, spec.patch_size, bias=True)
    stem.parameter(size * int(spec.class_token) + tokens * size)  # class token, positions
    block = Tally("block", convention)
    block.layer_norm(size, tokens * size)
    block.linear(tokens, size, 3 * size)
    block.matmul(heads, tokens, size // heads, tokens)  # q·kᵀ
    block.matmul(heads, tokens, tokens, size // heads)  # attn·v
    block.linear(tokens, size, size)
    block.layer_norm(size, tokens * size)
    block.linear(tokens, size, spec.mlp_size)
    block.linear(tokens, spec.mlp_size, size)
    stage = Tally("stage1", convention)
    stage.add(block, spec.num_layers)
    head = Tally("head", convention)
    if spec.class_token:
        head.layer_norm(size, tokens * size)  # over every token, before the class token is taken
    else:
        head.mean(tokens * size)
        head.layer_norm(size, size)  # timm's fc_norm, on the pooled vector
    head.linear(1, size, spec.num_classes)
    return total([stem, stage, head])


def scale(spec: ViTSpec, factors: Factors) -> ViTSpec:
    """Layers x d; heads x w at a fixed head size; MLP ratio kept; image a multiple of the patch."""
    head_size = spec.hidden_size // spec.num_heads
    heads = max(1, round(spec.num_heads * factors.width))
    hidden = heads * head_size
    return spec.replace(
        num_layers=scale_depth(spec.num_layers, factors.depth),
        num_heads=heads,
        hidden_size=hidden,
        mlp_size=max(1, round(spec.mlp_size * hidden / spec.hidden_size)),
        resolution=scale_resolution(spec.resolution, factors.resolution, spec.patch_size),
    )


def _vit(hidden: int, layers: int, heads: int, mlp: int) -> dict[str, Any]:
    return {"hidden_size": hidden, "num_layers": layers, "num_heads": heads, "mlp_size": mlp}


PRESETS: dict[str, dict[str, Any]] = {
    "vit_s16": _vit(384, 12, 6, 1536),
    "vit_b16": _vit(768, 12, 12, 3072),
    "vit_l16": _vit(1024, 24, 16, 4096),
}
