"""The cost of a training run: hours per epoch and per run from predicted time per image."""

from __future__ import annotations

from dataclasses import dataclass

from scalecalc.compare.annotations import Annotation, timed
from scalecalc.errors import ConfigError

# ImageNet-1k's training set (ILSVRC-2012): the images of one epoch by default.
IMAGENET_TRAIN_IMAGES = 1_281_167
MAX_RUN_COUNT = 10**12


@dataclass(frozen=True)
class RunSetting:
    """A training run: epochs over a set of images, on GPUs assumed to scale linearly."""

    epochs: int
    images: int = IMAGENET_TRAIN_IMAGES
    gpus: int = 1

    def __post_init__(self) -> None:
        for name in ("epochs", "images", "gpus"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"--{name}: expected a whole number, got {value!r}")
            if not 1 <= value <= MAX_RUN_COUNT:
                raise ConfigError(f"--{name}: must be from 1 to 1e12, got {value}")

    def epoch_seconds(self, seconds_per_image: float) -> float:
        """Wall seconds of one epoch: images × time per image / GPUs."""
        return self.images * seconds_per_image / self.gpus

    def run_seconds(self, seconds_per_image: float) -> float:
        """Wall seconds of the whole run: epochs × one epoch."""
        return self.epochs * self.epoch_seconds(seconds_per_image)

    def per_image(self, run_seconds: float) -> float:
        """The time per image at which the run takes `run_seconds` (a run budget)."""
        return run_seconds * self.gpus / (self.epochs * self.images)

    def describe(self) -> str:
        """One line: the run and the scaling assumption behind its hours."""
        gpus = (
            f" on {self.gpus} GPUs, time per image divided by {self.gpus} (assumes linear "
            "scaling: no communication or input-pipeline cost)"
            if self.gpus > 1
            else " on 1 GPU"
        )
        return f"{self.epochs} epochs of {self.images:,} images{gpus}"


def run_setting(epochs: int | None, images: int | None, gpus: int | None) -> RunSetting | None:
    """The training run asked for, or None; --images and --gpus need --epochs."""
    if epochs is None:
        for option, value in (("--images", images), ("--gpus", gpus)):
            if value is not None:
                raise ConfigError(f"{option}: applies to a run; give --epochs N too")
        return None
    return RunSetting(epochs, IMAGENET_TRAIN_IMAGES if images is None else images, gpus or 1)


def training_hours(seconds_per_image: float, run: RunSetting) -> tuple[float, float]:
    """(hours per epoch, hours per run) at a predicted time per image."""
    return run.epoch_seconds(seconds_per_image) / 3600, run.run_seconds(seconds_per_image) / 3600


def run_cost(prediction: Annotation, run: RunSetting, profile_name: str) -> Annotation:
    """Hours per epoch and per run of every row that has a predicted time (`prediction`, the
    annotation of predicted runtime); hours are time per image times a constant, so they carry
    its extrapolation mark and error."""
    assert prediction.summary is not None
    per_image = prediction.summary.values
    found = {key: training_hours(seconds, run) for key, seconds in per_image.items()}
    errors = prediction.summary.fields
    cells = {
        key: tuple(
            timed(f"{hours:.3g}", errors[key]["extrapolated"], errors[key]["time_error_pct"])
            for hours in pair
        )
        for key, pair in found.items()
    }
    return Annotation(
        name="run_cost",
        headers=("h / epoch", f"h / {run.epochs} ep"),
        csv_columns=("predicted_hours_per_epoch", "predicted_hours_per_run"),
        cells=cells,
        csv_values=found,
        records={
            k: {"hours_per_epoch": e, "hours_per_run": r, **errors[k]}
            for k, (e, r) in found.items()
        },
        note=f"Predicted hours of training on {profile_name}: {run.describe()}.",
        document={
            "run": {
                "epochs": run.epochs,
                "images": run.images,
                "gpus": run.gpus,
                "assumption": "linear scaling across GPUs" if run.gpus > 1 else "one GPU",
            }
        },
    )
