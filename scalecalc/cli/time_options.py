"""Options of time goals and training runs shared by `compare` and `bench`, and their checks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scalecalc.errors import ConfigError
from scalecalc.profile.model import Profile
from scalecalc.compare.run_cost import IMAGENET_TRAIN_IMAGES, RunSetting
from scalecalc.sweep import Sweep
from scalecalc.compare.time_goals import Timing

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
ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        metavar="NAME|FILE",
        help="Add predicted time per image from a device profile (`scalecalc profile show` "
        "lists the built-in ones).",
    ),
]
EpochsOption = Annotated[
    int | None,
    typer.Option(
        "--epochs",
        metavar="N",
        min=1,
        help="Add predicted hours per epoch and per run of N epochs (needs --profile).",
    ),
]
ImagesOption = Annotated[
    int | None,
    typer.Option(
        "--images",
        metavar="M",
        min=1,
        help=f"Images per epoch, for --epochs; default {IMAGENET_TRAIN_IMAGES:,} (ImageNet-1k).",
    ),
]
GpusOption = Annotated[
    int | None,
    typer.Option(
        "--gpus",
        metavar="G",
        min=1,
        help="Divide run hours by G, for --epochs: assumes linear scaling across GPUs.",
    ),
]


def run_setting(epochs: int | None, images: int | None, gpus: int | None) -> RunSetting | None:
    """The training run asked for, or None; --images and --gpus need --epochs."""
    if epochs is None:
        for option, value in (("--images", images), ("--gpus", gpus)):
            if value is not None:
                raise ConfigError(f"{option}: applies to a run; give --epochs N too")
        return None
    return RunSetting(epochs, IMAGENET_TRAIN_IMAGES if images is None else images, gpus or 1)


def timing(
    sweep: Sweep,
    sweep_file: Path | None,
    given: bool,
    profile: Profile | None,
    run: RunSetting | None,
) -> Timing | None:
    """What time goals and run hours are predicted with; ConfigError naming the option (or the
    sweep file's key) that needs --profile. `given`: the goals came from the command line."""
    needs = []
    if sweep.target_times:
        from_file = not given and sweep_file is not None
        needs.append(f"{sweep_file}: target_time" if from_file else "--target-time")
    if sweep.target_time_factors:
        from_file = not given and sweep_file is not None
        needs.append(f"{sweep_file}: target_time_factors" if from_file else "--target-time-factor")
    if run is not None:
        needs.append("--epochs")
    if profile is None:
        if needs:
            raise ConfigError(
                f"{needs[0]}: needs --profile NAME|FILE (times are predicted by a device profile)"
            )
        return None
    return Timing(profile, run)


def mode_mismatch(profile: Profile | None, train: bool, inference: bool) -> str | None:
    """A warning when the profile predicts inference but the question is training (a run, a
    training step's memory) or the reverse; None when they agree or nothing asks."""
    if profile is None or not (train or inference):
        return None
    asked = "train" if train else "inference"
    if profile.setting.mode == asked:
        return None
    question = "a training run" if train else "inference"
    return (
        f"--profile {profile.name} predicts {profile.setting.describe()}, but the question is "
        f"{question}; its times are used as they are"
    )
