"""The options that set up the training step predicted memory traces: AMP, channels-last, EMA."""

from __future__ import annotations

from typing import Annotated

import typer

AmpOption = Annotated[
    bool | None,
    typer.Option(
        "--amp",
        help="For --memory: mixed precision as torch's CUDA autocast runs it, --dtype (default "
        "float16) the low precision; weights, gradients and optimizer state float32.",
        show_default=False,
    ),
]
ChannelsLastOption = Annotated[
    bool | None,
    typer.Option(
        "--channels-last",
        help="For --memory: input and convolutions in channels-last format (no effect on ViTs).",
        show_default=False,
    ),
]
EmaOption = Annotated[
    bool | None,
    typer.Option(
        "--ema",
        help="For --memory --train: keep an EMA copy of the weights, in their dtype (float32 "
        "with --amp).",
        show_default=False,
    ),
]
