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
    assert not torch.equal(logits[0], logits[1])  # the output depends on the input
