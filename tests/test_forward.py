"""A real image through every preset: the built network runs and classifies, finitely."""

from __future__ import annotations

import pytest
import torch
from conftest import PRESETS

from scalecalc.api import build, load

RESOLUTION = 64  # small, and on every family's grid (patch 16, total stride 32)


@pytest.mark.parametrize("name", PRESETS)
def test_forward_gives_finite_logits(name: str) -> None:
    spec = load(name).spec.replace(resolution=RESOLUTION, num_classes=10)
    torch.manual_seed(0)
    model = build(spec).eval()
    image = torch.rand(2, 3, RESOLUTION, RESOLUTION)
    with torch.no_grad():
        logits = model(image)
    assert logits.shape == (2, 10)
    assert torch.isfinite(logits).all()
    # The output depends on the input. In training mode: batch norm then normalises with the
    # batch's statistics; in eval mode with fresh running statistics it is the identity, and
    # at PyTorch's default initialisation EfficientNet's signal shrinks about 40x per stage
    # until the logits no longer depend on the image.
    with torch.no_grad():
        logits = model.train()(image)
    assert torch.isfinite(logits).all() and not torch.equal(logits[0], logits[1])
