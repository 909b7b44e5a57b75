"""`scalecalc count`, `list` and `show`: costs of models, the presets, a resolved spec."""

from __future__ import annotations

from typing import Annotated

import typer

from scalecalc.cli._common import (
    ConventionOption,
    FormatOption,
    OutputOption,
    app,
    choose,
    emit,
    output_format,
    user_errors,
    warn,
)


@app.command("count")
def count_command(
    configs: Annotated[list[str], typer.Argument(help="YAML files or preset names.")],
    fmt: FormatOption = None,
    output: OutputOption = None,
    convention: ConventionOption = "paper",
    counter: Annotated[
        str,
        typer.Option(
            help="analytic (closed form, default), meta (traced on the meta device) "
            "or fvcore (reference, slow); all three give identical counts."
        ),
    ] = "analytic",
) -> None:
    """Flops, params and acts of each model, in total and per stage."""
    from scalecalc import report
    from scalecalc.api import count, load
    from scalecalc.counting import CONVENTIONS, COUNTERS

    with user_errors():
        choose(convention, CONVENTIONS, "--convention")
        choose(counter, COUNTERS, "--counter")
        fmt = output_format(fmt, report.FORMATS, output)
        models = [load(source) for source in configs]
        rows = []
        for model in models:
            costs = count(model.spec, convention, counter)
            for op, calls in costs.unsupported:
                warn(f"{model.name}: unsupported op {op} ({calls} calls) counted as zero")
            rows.append(report.CountRow(model, convention, costs))
        renderers = {
            "json": report.counts_to_json,
            "csv": report.counts_to_csv,
            "md": report.counts_to_markdown,
            "table": report.counts_to_rich,
        }
        emit(lambda: renderers[fmt](rows), fmt, output)


@app.command("list")
def list_command(
    include: Annotated[str, typer.Argument(help="Glob over preset names.")] = "*",
    exclude: Annotated[str, typer.Option(help="Glob of names to leave out.")] = "",
) -> None:
    """The built-in presets, one per line with their family."""
    from scalecalc.registry import list_presets, preset_family

    for name in list_presets(include, exclude):
        typer.echo(f"{name}\t{preset_family(name).name}")


@app.command("show")
def show_command(
    config: Annotated[str, typer.Argument(help="A YAML file or preset name.")],
) -> None:
    """The fully resolved spec of a model, as YAML that `count` and `scale` accept."""
    from scalecalc.api import load
    from scalecalc.config import dump

    with user_errors():
        typer.echo(dump(load(config)), nl=False)
