"""What `pip install scalecalc` brings: a light base, torch and fvcore only with the torch extra
(the test extra includes it)."""

from __future__ import annotations

import re

import pytest

from conftest import REPO

tomllib = pytest.importorskip("tomllib")  # Python 3.11+


def names(requirements: list[str]) -> set[str]:
    """The distribution names of requirement strings ("torch>=2.1" -> "torch")."""
    return {re.split(r"[\s<>=!~\[;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_the_base_install_is_light_and_torch_is_an_extra() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert names(project["dependencies"]) == {"numpy", "typer", "rich", "pyyaml"}
    extras = project["optional-dependencies"]
    assert sorted(extras["torch"]) == ["fvcore>=0.1.5", "torch>=2.1"]
    assert "scalecalc[torch]" in extras["test"]
    assert names(extras["test"]) >= {"pytest", "hypothesis", "matplotlib", "timm"}
    assert names(extras["plot"]) == {"matplotlib"}
