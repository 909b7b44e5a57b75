"""`scalecalc count`, `list` and `show`: costs of models, the presets, a resolved spec."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from scalecalc.cli import outputs
from scalecalc.cli.common import (
    ConventionOption,
    FormatOption,
    OutputOption,
    app,
    emit,
    output_format,
    user_errors,
    warn,
)
from scalecalc.costs import COUNTERS
from scalecalc.requires import require_torch

ModelArgument = typer.Argument(metavar="CONFIG", help="A preset name or a YAML file.")


@app.command("count")
def count_command(
    configs: Annotated[
        list[str], typer.Argument(metavar="CONFIG", help="Preset names or YAML files.")
    ],
    fmt: FormatOption = None,
    output: OutputOption = None,
    convention: ConventionOption = "paper",
    counter: Annotated[
        Literal[COUNTERS],  # type: ignore[valid-type]
        typer.Option(
            help="analytic: closed form; meta: traced on the meta device; fvcore: the reference "
            "(slow). All three give identical counts.",
        ),
    ] = "analytic",
) -> None:
    """Flops, params and acts of each model, in total and per stage."""
    from scalecalc import count_report
    from scalecalc.api import count, load
    from scalecalc.errors import ModelTooLargeError

    with user_errors():
        if counter != "analytic":
            require_torch(f"--counter {counter}", fvcore=counter == "fvcore")
        destination = outputs.destination(output, "--output", inputs=configs)
        fmt = output_format(fmt, destination)
        rows = []
        for source, model in zip(configs, [load(source) for source in configs]):
            try:
                costs = count(model.spec, convention, counter)
            except ModelTooLargeError as error:
                raise ModelTooLargeError(f"{source}: {error}") from None
            for op, calls in costs.unsupported:
                warn(f"{model.name}: unsupported op {op} ({calls} calls) counted as zero")
            rows.append(count_report.CountRow(model, convention, costs))
        emit(lambda: count_report.COUNT_RENDERERS[fmt](rows), fmt, destination)


@app.command("list")
def list_command(
    include: Annotated[str, typer.Argument(metavar="GLOB", help="Glob over preset names.")] = "*",
    exclude: Annotated[str, typer.Option(metavar="GLOB", help="Glob of names to leave out.")] = "",
) -> None:
    """The built-in presets, one per line with their family."""
    from scalecalc.registry import list_presets, preset_family

    with user_errors():
        names = list_presets(include, exclude)
        outputs.write_stdout("".join(f"{name}\t{preset_family(name).name}\n" for name in names))


@app.command("show")
def show_command(config: Annotated[str, ModelArgument]) -> None:
    """The fully resolved spec of a model, as YAML that `count` and `scale` accept."""
    from scalecalc.api import load
    from scalecalc.config import dump

    with user_errors():
        outputs.write_stdout(dump(load(config)))
