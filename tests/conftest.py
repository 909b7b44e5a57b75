"""Shared fixtures: presets from the registry, CPU only, no network."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))

from scalecalc.registry import list_presets  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CONFIGS = REPO / "configs"
PRESETS = list_presets()

settings.register_profile(
    "ci", deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Fresh random examples on every run (500 where a test sets no count): HYPOTHESIS_PROFILE=random
settings.register_profile(
    "random",
    deadline=None,
    derandomize=False,
    max_examples=500,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(params=PRESETS)
def preset(request: pytest.FixtureRequest) -> str:
    """Each built-in preset name in turn."""
    return request.param
