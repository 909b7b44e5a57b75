"""Builder of the Vision Transformer."""

from __future__ import annotations

from torch import nn

from scalecalc.families.vit import ViTSpec
from scalecalc.nn.blocks import EncoderBlock, PatchEmbedding, StagedNet, TokenHead


def build_vit(spec: ViTSpec) -> StagedNet:
    """Patch embedding, one stage of encoder blocks, token head."""
    size = spec.hidden_size
    stem = PatchEmbedding(size, spec.patch_size, spec.num_tokens, spec.class_token)
    blocks = [EncoderBlock(size, spec.num_heads, spec.mlp_size) for _ in range(spec.num_layers)]
    head = TokenHead(size, spec.class_token, spec.num_classes)
    return StagedNet(stem, [nn.Sequential(*blocks)], head)
