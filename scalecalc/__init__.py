"""scalecalc: what each way of scaling a vision model costs, before you train it."""

from scalecalc.api import build, count, load, scale, scale_by
from scalecalc.config import ModelConfig
from scalecalc.costs import Costs, StageCosts
from scalecalc.errors import ScalecalcError
from scalecalc.scaling import Factors, Strategy, parse_strategy, scaling_factors
from scalecalc.solver import Solution, solve

__version__ = "0.1.0"

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
