"""The Family contract: what each model family module provides to the registry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scalecalc.families._blocks import StagedNet
from scalecalc.families._spec import BaseSpec
from scalecalc.scaling import Factors

if TYPE_CHECKING:  # counting imports this package: a runtime import would be circular
    from scalecalc.counting import Costs


def _no_aliases(fields: dict[str, Any]) -> dict[str, Any]:
    return dict(fields)


@dataclass(frozen=True)
class Family:
    """A model family: spec type, presets (as YAML fields), builder, scaler, closed-form costs."""

    name: str
    spec_type: type[BaseSpec]
    presets: Mapping[str, Mapping[str, Any]]
    build: Callable[[Any], StagedNet]
    scale: Callable[[Any, Factors], Any]
    # complexity(spec, convention): the Costs that counting build(spec) gives, without torch.
    complexity: Callable[[Any, str], Costs]
    # Turns convenience keys (paper parameters, torchvision names) into spec fields.
    expand_aliases: Callable[[dict[str, Any]], dict[str, Any]] = field(default=_no_aliases)
    alias_keys: frozenset[str] = frozenset()
