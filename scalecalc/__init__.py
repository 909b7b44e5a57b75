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
    "RunSetting": "scalecalc.compare.run_cost",
    "Solution": "scalecalc.solver",
    "StageCosts": "scalecalc.costs",
    "Strategy": "scalecalc.scaling",
    "build": "scalecalc.api",
    "count": "scalecalc.api",
    "load": "scalecalc.api",
    "load_profile": "scalecalc.profile.document",
    "parse_strategy": "scalecalc.scaling",
    "scale": "scalecalc.api",
    "scale_by": "scalecalc.api",
    "scaling_factors": "scalecalc.scaling",
    "solve": "scalecalc.solver",
    "solve_time": "scalecalc.time_solver",
    "TimeSolution": "scalecalc.time_solver",
    "training_hours": "scalecalc.compare.run_cost",
}
__all__ = [
    "Costs",
    "Factors",
    "ModelConfig",
    "ScalecalcError",
    "RunSetting",
    "Solution",
    "StageCosts",
    "TimeSolution",
    "Strategy",
    "build",
    "count",
    "load",
    "load_profile",
    "parse_strategy",
    "scale",
    "scale_by",
    "scaling_factors",
    "solve",
    "solve_time",
    "training_hours",
]

if TYPE_CHECKING:
    from scalecalc.api import build, count, load, scale, scale_by
    from scalecalc.config import ModelConfig
    from scalecalc.costs import Costs, StageCosts
    from scalecalc.errors import ScalecalcError
    from scalecalc.scaling import Factors, Strategy, parse_strategy, scaling_factors
    from scalecalc.profile.document import load_profile
    from scalecalc.compare.run_cost import RunSetting, training_hours
    from scalecalc.solver import Solution, solve
    from scalecalc.time_solver import TimeSolution, solve_time


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
