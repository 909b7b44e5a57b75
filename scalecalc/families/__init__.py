"""The Family contract: what each model family provides to the registry. No torch here."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scalecalc.costs import Costs
from scalecalc.families.spec import BaseSpec
from scalecalc.scaling import Factors

if TYPE_CHECKING:
    from scalecalc.nn.blocks import StagedNet


def _no_aliases(fields: dict[str, Any]) -> dict[str, Any]:
    return dict(fields)


@dataclass(frozen=True)
class Family:
    """A model family: spec type, presets (as YAML fields), scaler, closed-form costs, builder."""

    name: str
    spec_type: type[BaseSpec]
    presets: Mapping[str, Mapping[str, Any]]
    scale: Callable[[Any, Factors], Any]
    # complexity(spec, convention): the Costs that counting the built module gives.
    complexity: Callable[[Any, str], Costs]
    # "module:function" of the builder in the torch layer, imported on first use.
    builder: str
    # Turns convenience keys (paper parameters, torchvision names) into spec fields.
    expand_aliases: Callable[[dict[str, Any]], dict[str, Any]] = field(default=_no_aliases)
    alias_keys: frozenset[str] = frozenset()
    # Keys a config without a preset must give, with their allowed values: where the spec's
    # default would be a silent guess between designs of very different cost.
    required_keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def build(self, spec: BaseSpec) -> StagedNet:
        """The nn.Module for `spec` (imports torch)."""
        module, function = self.builder.split(":")
        return getattr(importlib.import_module(module), function)(spec)
