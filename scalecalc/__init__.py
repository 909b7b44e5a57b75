"""scalecalc: what each way of scaling a vision model costs, before you train it."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Imported on first use, so that the console entry can handle Ctrl-C before anything else loads.
_EXPORTS = {
    "Costs": "scalecalc.costs",
    "Factors": "scalecalc.scaling",
    "ModelConfig": "scalecalc.config",
    "ScalecalcError": "scalecalc.errors",
    "Solution": "scalecalc.solver",
    "StageCosts": "scalecalc.costs",
    "Strategy": "scalecalc.scaling",
    "build": "scalecalc.api",
    "count": "scalecalc.api",
    "load": "scalecalc.api",
    "parse_strategy": "scalecalc.scaling",
    "scale": "scalecalc.api",
    "scale_by": "scalecalc.api",
    "scaling_factors": "scalecalc.scaling",
    "solve": "scalecalc.solver",
}
__all__ = [
    "Costs",
    "Factors",
    "ModelConfig",
    "ScalecalcError",
    "Solution",
    "StageCosts",
    "Strategy",
    "build",
    "count",
    "load",
    "parse_strategy",
    "scale",
    "scale_by",
    "scaling_factors",
    "solve",
]

if TYPE_CHECKING:
    from scalecalc.api import build, count, load, scale, scale_by
    from scalecalc.config import ModelConfig
    from scalecalc.costs import Costs, StageCosts
    from scalecalc.errors import ScalecalcError
    from scalecalc.scaling import Factors, Strategy, parse_strategy, scaling_factors
    from scalecalc.solver import Solution, solve


def __getattr__(name: str) -> Any:
    """The public names, each imported from its module when first asked for."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'scalecalc' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, imported or not yet (`load`, `count`, ...), and the module's own."""
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})
