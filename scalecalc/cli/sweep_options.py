"""The sweep options `compare` and `bench` share: declared once, received as one SweepOptions."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from scalecalc.cli.common import SweepConventionOption
from scalecalc.sweep_options import SweepOptions

ConfigsArgument = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="CONFIG",
        help="Base models (preset names or YAML files); default: the sweep's.",
        show_default=False,
    ),
]
SweepOption = Annotated[
    Path | None,
    typer.Option("--sweep", metavar="FILE", help="A sweep YAML file (default: the built-in one)."),
]
StrategiesOption = Annotated[
    list[str] | None,
    typer.Option("--strategies", "-s", metavar="S,...", help="Strategies, e.g. w,dwr,dWr."),
]
FactorsOption = Annotated[
    list[str] | None,
    typer.Option("--factors", metavar="F,...", help="Flops factors, e.g. 2,4,8,16."),
]
TargetFlopsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--target-flops", metavar="N,...", help="Flops targets instead of or with factors: 16G."
    ),
]
TargetFactorsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--target-factor",
        metavar="F,...",
        help="Flops targets as multiples of each base's flops, e.g. 4: equal flops.",
    ),
]
TargetTimesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--target-time",
        metavar="T,...",
        help="Grow each strategy until its predicted time per image is T (with a unit: 0.8ms, "
        "2us); with --epochs, T is the budget of the run (72h). Needs --profile.",
    ),
]
TargetTimeFactorsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--target-time-factor",
        metavar="F,...",
        help="Time goals as multiples of each base's predicted time, e.g. 4: equal time.",
    ),
]

# The parameters, in the order --help lists them; each is a field of SweepOptions.
SWEEP_PARAMETERS = {
    "configs": ConfigsArgument,
    "sweep_file": SweepOption,
    "strategies": StrategiesOption,
    "factors": FactorsOption,
    "target_flops": TargetFlopsOption,
    "target_factors": TargetFactorsOption,
    "target_times": TargetTimesOption,
    "target_time_factors": TargetTimeFactorsOption,
    "convention": SweepConventionOption,
}


def with_sweep_options(command: Callable[..., None]) -> Callable[..., None]:
    """`command` with the sweep options declared in place of its parameter `sweep`, which
    receives them as one SweepOptions."""
    signature = inspect.signature(command, eval_str=True)
    parameters = list(signature.parameters.values())
    at = [parameter.name for parameter in parameters].index("sweep")
    declared = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=option)
        for name, option in SWEEP_PARAMETERS.items()
    ]
    rest = [parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY) for parameter in parameters]

    @functools.wraps(command)
    def declaring(**given: Any) -> None:
        sweep = SweepOptions(**{name: given.pop(name) for name in SWEEP_PARAMETERS})
        command(sweep=sweep, **given)

    merged = [*rest[:at], *declared, *rest[at + 1 :]]
    declaring.__signature__ = signature.replace(parameters=merged)  # type: ignore[attr-defined]
    declaring.__annotations__ = {p.name: p.annotation for p in merged}
    return declaring
