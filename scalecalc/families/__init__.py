"""The Family contract: what each model family module provides to the registry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scalecalc.families._blocks import StagedNet
from scalecalc.families._spec import BaseSpec
from scalecalc.scaling import Factors


def _no_aliases(fields: dict[str, Any]) -> dict[str, Any]:
    return dict(fields)


@dataclass(frozen=True)
class Family:
    """A model family: its spec type, presets (as YAML fields), builder and scaler."""

    name: str
    spec_type: type[BaseSpec]
    presets: Mapping[str, Mapping[str, Any]]
    build: Callable[[Any], StagedNet]
    scale: Callable[[Any, Factors], Any]
    # Turns convenience keys (paper parameters, torchvision names) into spec fields.
    expand_aliases: Callable[[dict[str, Any]], dict[str, Any]] = field(default=_no_aliases)
    alias_keys: frozenset[str] = frozenset()
