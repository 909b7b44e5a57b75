"""`scalecalc profile`: fit a device profile to measured times, calibrate one to another device
by a few measured models, show a profile."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from scalecalc.cli.common import app, user_errors
from scalecalc.cli.plain_help import App, PlainHelpGroup
from scalecalc.profile.model import MODES
from scalecalc.step_options import DTYPE_NAMES

if TYPE_CHECKING:
    from scalecalc.cli.outputs import Destination
    from scalecalc.profile.model import Profile

ProfileOutput = Annotated[
    str, typer.Option("--output", "-o", metavar="FILE", help="Where to write the profile.")
]
ProfileName = Annotated[
    str | None,
    typer.Option(
        "--name", metavar="NAME", help="The profile's name (default: the output's file stem)."
    ),
]

profile_app = App(
    cls=PlainHelpGroup,
    help="Device profiles: predicted time per image from a model's counts.",
    no_args_is_help=True,
)
app.add_typer(profile_app, name="profile")


@profile_app.command("fit")
def fit_command(
    bench_file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="Measured times: `scalecalc bench -f json` output or a timm benchmark.py CSV.",
        ),
    ],
    output: ProfileOutput,
    name: ProfileName = None,
    validation: Annotated[
        Literal["5-fold", "loo"],
        typer.Option("--validation", help="Held-out check: 5-fold over models, or leave-one-out."),
    ] = "5-fold",
    device: Annotated[
        str | None,
        typer.Option("--device", metavar="TEXT", help="The device (default: the file's)."),
    ] = None,
    dtype: Annotated[
        Literal[DTYPE_NAMES] | None,  # type: ignore[valid-type]
        typer.Option("--dtype", help="The dtype measured (default: the file's)."),
    ] = None,
    amp: Annotated[
        bool | None, typer.Option("--amp/--no-amp", help="Measured with mixed precision.")
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option("--batch-size", metavar="N", help="The batch measured (at most 2^31)."),
    ] = None,
    channels_last: Annotated[
        bool | None,
        typer.Option("--channels-last/--nchw", help="Measured in channels-last (NHWC) layout."),
    ] = None,
    compiled: Annotated[
        bool | None, typer.Option("--compile/--eager", help="Measured under torch.compile.")
    ] = None,
    mode: Annotated[
        Literal[MODES] | None,  # type: ignore[valid-type]
        typer.Option("--mode", help="Inference or training times (a timm file may hold both)."),
    ] = None,
    counts: Annotated[
        Path | None,
        typer.Option(
            "--counts",
            metavar="INFER.csv",
            help="For a timm training CSV: the inference CSV whose counts it lacks.",
        ),
    ] = None,
) -> None:
    """Fit a profile of this device to measured times, validated 5-fold over models (or
    leave-one-out). The setting comes from the options, else from the file (bench's setup, or
    a timm file's name and columns). The report goes to stdout, or to stderr when the profile
    itself goes to stdout (-o -)."""
    from scalecalc.cli import outputs
    from scalecalc.limits import check_batch_size
    from scalecalc.profile.document import profile_to_json
    from scalecalc.profile.userfit import FitOptions, fit_user_file

    with user_errors():
        if batch_size is not None:
            check_batch_size(batch_size)
        options = FitOptions(
            validation, device, dtype, amp, batch_size, channels_last, compiled, mode, counts
        )
        inputs = [bench_file, *([counts] if counts is not None else [])]
        destination = outputs.destination(output, "--output", inputs=inputs)
        named = Path(bench_file) if destination.target is None else Path(output)
        profile, notes = fit_user_file(Path(bench_file), name or named.stem, options)
        _write_with_report(destination, profile_to_json(profile), _report(profile, notes))


def _report(profile: Profile, notes: list[str]) -> str:
    """The profile's markdown, then how its file was read (or what calibrated it)."""
    from scalecalc.profile.report import to_markdown

    return to_markdown(profile) + "".join(f"- {line}\n" for line in notes)


def _write_with_report(destination: Destination, document: str, report: str) -> None:
    """All or nothing: the profile file is renamed into place only once the report is out;
    with the profile on stdout (-o -), the report goes to stderr."""
    from scalecalc.cli import outputs

    batch = outputs.Outputs()
    batch.add(destination, document)
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


@profile_app.command("calibrate")
def calibrate_command(
    base: Annotated[
        str, typer.Argument(metavar="BASE", help="A built-in profile's name or a profile file.")
    ],
    measured: Annotated[
        list[str],
        typer.Option(
            "--measured",
            metavar="MODEL=IMAGES_PER_S",
            help="A preset or model file and its measured images/s on this device (repeatable).",
        ),
    ],
    output: ProfileOutput,
    name: ProfileName = None,
    device: Annotated[
        str, typer.Option("--device", metavar="TEXT", help="The device measured.")
    ] = "unstated",
) -> None:
    """Move a profile to this device by one or a few measured models: its level is shifted by
    the median ratio of measured to predicted time (per family where measured); its error is
    stated as calibrated from N models. The report goes to stdout, or to stderr with -o -."""
    from scalecalc.cli import outputs
    from scalecalc.profile.calibrate import calibrate
    from scalecalc.profile.document import load_profile, profile_to_json
    from scalecalc.profile.measured import measured_models

    with user_errors():
        destination = outputs.destination(output, "--output")
        named = Path(base) if destination.target is None else Path(output)
        profile = load_profile(base)
        models = measured_models(measured, profile.convention)
        calibrated, notes = calibrate(profile, models, name=name or named.stem, device=device)
        _write_with_report(destination, profile_to_json(calibrated), _report(calibrated, notes))
