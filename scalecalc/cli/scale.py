"""`scalecalc scale`: a scaled spec as YAML, by factor or by flops target."""

from __future__ import annotations

from typing import Annotated

import typer

from scalecalc.cli import outputs
from scalecalc.cli.common import ConventionOption, OutputOption, app, emit, info, user_errors


@app.command("scale")
def scale_command(
    config: Annotated[str, typer.Argument(metavar="CONFIG", help="A preset name or a YAML file.")],
    strategy: Annotated[
        str, typer.Option("--strategy", "-s", metavar="S", help="e.g. w, dwr, dWr, d1_w8_g8_r1.")
    ],
    factor: Annotated[
        float | None, typer.Option(metavar="F", help="Flops factor s (e.g. 4).")
    ] = None,
    target_flops: Annotated[
        str | None,
        typer.Option(metavar="N", help="Flops to aim for, e.g. 16G; the closest model wins."),
    ] = None,
    target_factor: Annotated[
        float | None,
        typer.Option(metavar="F", help="Aim for this multiple of the base model's flops."),
    ] = None,
    convention: ConventionOption = "paper",
    output: OutputOption = None,
) -> None:
    """Print the scaled spec as YAML; target and realized flops factor go to stderr."""
    from scalecalc.api import load
    from scalecalc.config import ModelConfig, dump
    from scalecalc.solver import scale_to

    with user_errors():
        destination = outputs.destination(output, "--output", inputs=[config])
        model = load(config)
        result = scale_to(model, strategy, convention, factor, target_flops, target_factor)
        emit(lambda: dump(ModelConfig(result.name, result.spec)), "yaml", destination)
        info(result.summary())  # after the write: a failed write stays the only stderr line
