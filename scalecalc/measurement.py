"""The records of a runtime benchmark: how it ran and what it measured. Pure data."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scalecalc.errors import ConfigError, shown
from scalecalc.limits import check_batch_size

if TYPE_CHECKING:
    from scalecalc.compare import CompareRow

DTYPE_NAMES = ("float32", "float16", "bfloat16")


@dataclass(frozen=True)
class BenchSettings:
    """How to run each model: device, dtype, batch size, inference or training step, and
    iterations: `warmup` untimed and `iters` timed per model, the sweep run `rounds` times."""

    device: str
    dtype: str = "float32"
    batch_size: int = 8
    train: bool = False
    warmup: int = 2
    iters: int = 5
    rounds: int = 1

    def __post_init__(self) -> None:
        # Upper bounds so that a typo (an extra 000) is an error, not a run of days; the batch
        # size is further bounded by each model's memory estimate.
        check_batch_size(self.batch_size)
        for option, value, least, most in (
            ("--warmup", self.warmup, 0, 100_000),
            ("--iters", self.iters, 1, 100_000),
            ("--rounds", self.rounds, 1, 1000),
        ):
            if not least <= value <= most:
                raise ConfigError(f"{option}: must be from {least} to {most}, got {shown(value)}")

    @property
    def mode(self) -> str:
        """'train' (forward + backward) or 'inference'."""
        return "train" if self.train else "inference"


@dataclass(frozen=True)
class Measurement:
    """Timed iterations of one model (seconds each), its peak and estimated memory (bytes)."""

    times: tuple[float, ...]
    batch_size: int
    peak_memory: int | None
    estimate: int

    @property
    def median(self) -> float:
        """Median seconds per iteration."""
        return statistics.median(self.times)

    @property
    def throughput(self) -> float:
        """Images per second at the median time."""
        return self.batch_size / self.median

    @property
    def spread(self) -> float:
        """(slowest − fastest) / median: how noisy the timed iterations were."""
        return (max(self.times) - min(self.times)) / self.median

    def merged(self, other: Measurement) -> Measurement:
        """Both measurements' iterations, the larger peak and estimate."""
        peaks = [p for p in (self.peak_memory, other.peak_memory) if p is not None]
        return Measurement(
            self.times + other.times,
            self.batch_size,
            max(peaks) if peaks else None,
            max(self.estimate, other.estimate),
        )


@dataclass(frozen=True)
class BenchRow:
    """A counted model of the sweep and its measurement."""

    row: CompareRow
    measurement: Measurement
