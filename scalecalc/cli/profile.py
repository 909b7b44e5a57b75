"""`scalecalc profile`: fit a device profile from `bench` output; show a profile."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from scalecalc.cli.common import app, user_errors
from scalecalc.cli.plain_help import App, PlainHelpGroup

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
        typer.Option(
            "--name", metavar="NAME", help="The profile's name (default: the output's file stem)."
        ),
    ] = None,
) -> None:
    """Fit a profile of this device to a bench file, validated leave-one-out over its models.
    The report goes to stdout, or to stderr when the profile itself goes to stdout (-o -)."""
    from scalecalc.profile.document import profile_to_json
    from scalecalc.profile.data import profile_from_bench
    from scalecalc.profile.report import to_markdown

    from scalecalc.cli import outputs

    with user_errors():
        destination = outputs.destination(output, "--output", inputs=[bench_file])
        named = Path(bench_file) if destination.target is None else Path(output)
        profile = profile_from_bench(Path(bench_file), name or named.stem)
        report = to_markdown(profile)
        # All or nothing: the profile file is renamed into place only once the report is out.
        batch = outputs.Outputs()
        batch.add(destination, profile_to_json(profile))
        if destination.target is not None:
            batch.add(outputs.destination(None), report)
        batch.commit()
        if destination.target is None:
            print(outputs.fit_encoding(report, sys.stderr.encoding), end="", file=sys.stderr)


@profile_app.command("show")
def show_command(
    profile: Annotated[
        str | None, typer.Argument(metavar="NAME|FILE", help="A built-in name or a profile file.")
    ] = None,
) -> None:
    """A profile's device, setting, fitted model and validation; no argument lists built-ins."""
    from scalecalc.cli.outputs import write_stdout
    from scalecalc.profile.document import load_profile
    from scalecalc.profile.report import profile_list_markdown, to_markdown

    with user_errors():
        if profile is None:
            write_stdout(profile_list_markdown())
        else:
            write_stdout(to_markdown(load_profile(profile)))
