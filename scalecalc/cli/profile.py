"""`scalecalc profile`: fit a device profile from `bench` output; show a profile."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scalecalc.cli._common import app, emit, user_errors
from scalecalc.cli._help import App, PlainHelpGroup

profile_app = App(
    cls=PlainHelpGroup,
    help="Device profiles: predicted time per image from a model's counts.",
    no_args_is_help=True,
)
app.add_typer(profile_app, name="profile")


@profile_app.command("fit")
def fit_command(
    bench_file: Annotated[
        Path, typer.Argument(metavar="BENCH.json", help="Output of `scalecalc bench -f json`.")
    ],
    output: Annotated[
        str, typer.Option("--output", "-o", metavar="FILE", help="Where to write the profile.")
    ],
    name: Annotated[
        str | None,
        typer.Option("--name", metavar="NAME", help="The profile's name (default: file stem)."),
    ] = None,
) -> None:
    """Fit a profile of this device to a bench file, validated leave-one-out over its models."""
    from scalecalc.files import read_text
    from scalecalc.profile import PROFILE_LIMIT, ProfileError, profile_to_json
    from scalecalc.profile_data import profile_from_bench
    from scalecalc.profile_report import to_markdown

    from scalecalc import outputs

    with user_errors():
        destination = outputs.destination(output, "--output", inputs=[bench_file])
        text = read_text(
            bench_file, PROFILE_LIMIT, ProfileError, "`scalecalc bench -f json` output"
        )
        profile = profile_from_bench(text, str(bench_file), name or Path(output).stem)
        emit(lambda: profile_to_json(profile), "json", destination)
        typer.echo(to_markdown(profile), nl=False)


@profile_app.command("show")
def show_command(
    profile: Annotated[
        str | None, typer.Argument(metavar="NAME|FILE", help="A built-in name or a profile file.")
    ] = None,
) -> None:
    """A profile's device, setting, fitted model and validation; no argument lists built-ins."""
    from scalecalc.profile import load_profile
    from scalecalc.profile_report import profile_list_markdown, to_markdown

    with user_errors():
        if profile is None:
            typer.echo(profile_list_markdown(), nl=False)
        else:
            typer.echo(to_markdown(load_profile(profile)), nl=False)
