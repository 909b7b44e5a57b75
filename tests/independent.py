"""torchvision and timm models equivalent to scalecalc specs, and counts taken from them.

These implementations share no code with scalecalc: building one from a spec and counting it
with fvcore, `torch.utils.flop_counter` and `numel` checks scalecalc's builders and its closed
forms against the models users compare with.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import torch
from torch import nn

from scalecalc.families.convnext import ConvNeXtSpec
from scalecalc.families.regnet import RegNetSpec
from scalecalc.families.resnet import ResNetSpec
from scalecalc.families.vit import ViTSpec


def import_vision_libraries() -> None:
    """Make torchvision (and timm, which imports it) importable against a CPU-only torch."""
    # torchvision registers fake and autograd kernels for its compiled ops (nms, roi_align)
    # when it is imported; against a torch build it was not compiled for, that registration
    # fails ("operator torchvision::nms does not exist"). The model code is pure Python and
    # needs none of those ops, so empty stand-ins for the two registration modules suffice.
    for name in ("torchvision._meta_registrations", "torchvision._autograd_registrations"):
        sys.modules.setdefault(name, types.ModuleType(name))


def torchvision_resnet(spec: ResNetSpec, groups: int, width_per_group: int) -> nn.Module:
    """torchvision's ResNet with the spec's depths and widths (4 stages)."""
    import_vision_libraries()
    from torchvision.models import resnet

    block = resnet.Bottleneck if spec.block == "bottleneck" else resnet.BasicBlock
    planes = [w // block.expansion for w in spec.widths]

    class StageWidths(resnet.ResNet):
        """torchvision's ResNet asks for planes 64, 128, 256, 512; give the spec's instead."""

        def _make_layer(self, block: Any, plane: int, *args: Any, **kwargs: Any) -> nn.Sequential:
            return super()._make_layer(
                block, planes[(64, 128, 256, 512).index(plane)], *args, **kwargs
            )

    model = StageWidths(
        block,
        list(spec.depths),
        num_classes=spec.num_classes,
        groups=groups,
        width_per_group=width_per_group,
    )
    model.fc = nn.Linear(spec.widths[-1], spec.num_classes)  # it assumes 512 x expansion
    return model


def torchvision_regnet(spec: RegNetSpec) -> nn.Module:
    """torchvision's RegNet from explicit stage parameters (no rounding of its own)."""
    import_vision_libraries()
    from torchvision.models import regnet

    stages = len(spec.depths)
    params = regnet.BlockParams(
        depths=list(spec.depths),
        widths=list(spec.widths),
        group_widths=list(spec.group_widths),
        bottleneck_multipliers=[spec.bottleneck_ratio] * stages,
        strides=[2] * stages,
        se_ratio=spec.se_ratio or None,
    )
    return regnet.RegNet(params, num_classes=spec.num_classes, stem_width=spec.stem_width)


def timm_vit(spec: ViTSpec) -> nn.Module:
    """timm's VisionTransformer: class-token pooling, or its default average pooling without."""
    import_vision_libraries()
    from timm.layers import set_fused_attn
    from timm.models.vision_transformer import VisionTransformer

    set_fused_attn(False)  # plain q @ k^T and attn @ v, which fvcore's tracer sees
    return VisionTransformer(
        img_size=spec.resolution,
        patch_size=spec.patch_size,
        embed_dim=spec.hidden_size,
        depth=spec.num_layers,
        num_heads=spec.num_heads,
        mlp_ratio=spec.mlp_size / spec.hidden_size,
        class_token=spec.class_token,
        global_pool="token" if spec.class_token else "avg",
        num_classes=spec.num_classes,
    )


def timm_convnext(spec: ConvNeXtSpec) -> nn.Module:
    """timm's ConvNeXt with the spec's stages and layer scale (0: none); its MLP ratio is 4."""
    import_vision_libraries()
    from timm.models.convnext import ConvNeXt

    assert spec.mlp_ratio == 4
    return ConvNeXt(
        depths=spec.depths,
        dims=spec.widths,
        ls_init_value=spec.layer_scale or None,
        num_classes=spec.num_classes,
    )


def fvcore_counts(model: nn.Module, resolution: int) -> tuple[int, int]:
    """fvcore's flops and activations (its default op tables) for one image."""
    from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis

    x = torch.zeros(1, 3, resolution, resolution)
    totals = []
    for analysis in (FlopCountAnalysis(model, x), ActivationCountAnalysis(model, x)):
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        totals.append(int(analysis.total()))
    return totals[0], totals[1]


def multiply_adds(model: nn.Module, resolution: int) -> int:
    """Multiply-adds of convolutions and matrix products by torch.utils.flop_counter."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, resolution, resolution))
    flops = counter.get_total_flops()
    assert flops % 2 == 0  # it counts a multiply-add as two flops
    return flops // 2


def params(model: nn.Module) -> int:
    """Parameter elements (buffers excluded)."""
    return sum(p.numel() for p in model.parameters())
