"""Vision Transformer (Dosovitskiy et al., 2021) with attention written as visible matmuls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from scalecalc.costs import Costs
from scalecalc.errors import SpecError
from scalecalc.families.block_costs import Tally, total
from scalecalc.families.spec import MAX_DEPTH, MAX_WIDTH, BaseSpec, check_range
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


def complexity(spec: ViTSpec, convention: str = "paper") -> Costs:
    """The costs `build(spec)` counts to, in closed form from the spec's shapes."""
    size, tokens = spec.hidden_size, spec.num_tokens
    stem = Tally("stem", convention)
    stem.patch_embedding(size, spec.resolution, spec.patch_size, tokens, spec.class_token)
    block = Tally("block", convention)
    block.encoder_block(size, tokens, spec.num_heads, spec.mlp_size)
    stage = Tally("stage1", convention)
    stage.add(block, spec.num_layers)
    head = Tally("head", convention)
    head.token_head(size, tokens, spec.class_token, spec.num_classes)
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
