"""`compare`'s options of predicted time and training runs."""

from __future__ import annotations

from typing import Annotated

import typer

from scalecalc.compare.run_cost import IMAGENET_TRAIN_IMAGES

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
