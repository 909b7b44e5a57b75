"""The Python API: load, scale, build and count models. Only `build` and the traced counters
import torch, when called."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scalecalc.config import ModelConfig, from_mapping, load as _load
from scalecalc.costs import COUNTERS, Costs
from scalecalc.errors import ModelTooLargeError
from scalecalc.families.spec import BaseSpec
from scalecalc.limits import check_traceable
from scalecalc.machine import available_bytes, gib
from scalecalc.registry import get_family
from scalecalc.requires import require_torch
from scalecalc.scaling import Factors, Strategy, parse_strategy, scaling_factors

if TYPE_CHECKING:
    import torch

    from scalecalc.nn.blocks import StagedNet


def load(source: str | Path | Mapping[str, Any]) -> ModelConfig:
    """A model from a preset name (e.g. "resnet50"), a YAML file, or a dict with the keys a
    YAML config has (`{"preset": "resnet50", "resolution": 160}`), validated alike."""
    if isinstance(source, Mapping):
        return from_mapping(dict(source), "model", "dict")
    if not isinstance(source, (str, Path)):
        raise TypeError(
            "load() takes a preset name, a YAML file's path or a dict of config keys, "
            f"got {type(source).__name__}"
        )
    return _load(source)


def _spec(model: BaseSpec | ModelConfig, caller: str) -> BaseSpec:
    """The spec of `model`, or a TypeError saying what `caller` accepts."""
    if isinstance(model, BaseSpec):
        return model
    if isinstance(model, ModelConfig):
        return model.spec
    hint = "; make one from a dict with scalecalc.load(dict)" if isinstance(model, Mapping) else ""
    raise TypeError(
        f"{caller}() takes a model spec or the model scalecalc.load() returns, "
        f"got {type(model).__name__}{hint}"
    )


def build(model: BaseSpec | ModelConfig, device: str | torch.device = "cpu") -> StagedNet:
    """The nn.Module of a spec or loaded model; on device "meta" no weight memory is allocated."""
    require_torch("building a model")
    import torch

    spec = _spec(model, "build")
    with torch.device(device):
        return get_family(spec.family).build(spec)


def scale(model: BaseSpec | ModelConfig, strategy: Strategy | str, factor: float) -> BaseSpec:
    """The spec grown (or shrunk) by flops factor `factor` with `strategy` (e.g. "dWr")."""
    if isinstance(strategy, str):
        strategy = parse_strategy(strategy)
    return scale_by(_spec(model, "scale"), scaling_factors(strategy, factor))


def scale_by(model: BaseSpec | ModelConfig, factors: Factors) -> BaseSpec:
    """The spec with explicit per-dimension multipliers applied by its family's rules."""
    spec = _spec(model, "scale_by")
    return get_family(spec.family).scale(spec, factors)


# The fvcore counter's time, fitted over 8 models (benchmarks/fvcore_cost.py, a busy 2-core
# CPU): tracing costs about 0.67 s a block, running about 0.42 s per 1e9 multiply-adds.
FVCORE_SECONDS_PER_BLOCK = 0.67
FVCORE_SECONDS_PER_FLOP = 0.42e-9
MAX_FVCORE_SECONDS = 600


def count(
    model: BaseSpec | ModelConfig, convention: str = "paper", counter: str = "analytic"
) -> Costs:
    """Flops, params and acts of a spec or loaded model: "analytic" (closed form), "meta"
    (traced) or "fvcore" counter."""
    spec = _spec(model, "count")
    if counter == "analytic":
        return get_family(spec.family).complexity(spec, convention)
    if counter not in COUNTERS:
        raise ValueError(f"counter must be one of {', '.join(COUNTERS)}, got {counter!r}")
    require_torch(f"the {counter} counter", fvcore=counter == "fvcore")
    _check_traceable(spec, counter)
    from scalecalc.nn.counting import count_fvcore, count_meta

    if counter == "meta":
        return count_meta(build(spec, "meta"), spec.resolution, convention)
    model = build(spec, "meta").to_empty(device="cpu")
    return count_fvcore(model, spec.resolution, convention)


def fvcore_bytes(params: int, acts: int, blocks: int) -> int:
    """Peak memory the fvcore counter needs: float32 weights, twice the activations (the trace
    keeps the outputs it records), half a MiB of graph per block, and a fixed 64 MiB."""
    return 4 * params + 8 * acts + blocks * 2**19 + 2**26


def _check_traceable(spec: BaseSpec, counter: str) -> None:
    """Refuse models the traced counters could not build in reasonable time and memory."""
    costs = check_traceable(
        spec,
        f"the {counter} counter",
        "the analytic counter (the default) counts it exactly",
    )
    if counter == "fvcore":
        needed = fvcore_bytes(costs.params, costs.acts, spec.num_blocks)
        available = available_bytes()
        if available is not None and needed > available:
            raise ModelTooLargeError(
                f"the fvcore counter needs about {gib(needed)} for this model, "
                f"{gib(available)} is available; the analytic or meta counter needs none"
            )
        seconds = FVCORE_SECONDS_PER_BLOCK * spec.num_blocks + FVCORE_SECONDS_PER_FLOP * costs.flops
        if seconds > MAX_FVCORE_SECONDS:
            raise ModelTooLargeError(
                f"the fvcore counter would take about {seconds / 60:.0f} minutes for this model "
                f"({spec.num_blocks} blocks, {costs.flops / 1e9:.3g} GFLOPs; limit "
                f"{MAX_FVCORE_SECONDS // 60} minutes); the analytic or meta counter takes a second"
            )
