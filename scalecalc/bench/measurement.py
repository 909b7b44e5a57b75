"""The records of a runtime benchmark: how it ran and what it measured. Pure data."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scalecalc.errors import ConfigError, shown
from scalecalc.limits import check_batch_size

if TYPE_CHECKING:
    from scalecalc.compare.run import CompareRow

# Upper bounds so that a typo (an extra 000) is an error, not a run of days; the batch size is
# bounded by each model's memory estimate instead.
LIMITS = {"--warmup": (0, 100_000), "--iters": (1, 100_000), "--rounds": (1, 1000)}
MAX_THREADS = 4096


def check_options(
    batch_size: int, warmup: int, iters: int, rounds: int, threads: int | None
) -> None:
    """ConfigError naming the option unless each count is in its range."""
    check_batch_size(batch_size)
    for option, value in (("--warmup", warmup), ("--iters", iters), ("--rounds", rounds)):
        least, most = LIMITS[option]
        if not least <= value <= most:
            raise ConfigError(f"{option}: must be from {least} to {most}, got {shown(value)}")
    if threads is not None and not 1 <= threads <= MAX_THREADS:
        raise ConfigError(f"--threads: must be from 1 to {MAX_THREADS}, got {shown(threads)}")


@dataclass(frozen=True)
class BenchSettings:
    """How to run each model: device, dtype, batch size, inference or training step,
    iterations (`warmup` untimed and `iters` timed per model, the sweep run `rounds` times), and
    the CPU threads torch uses (None: torch's own choice)."""

    device: str
    dtype: str = "float32"
    batch_size: int = 8
    train: bool = False
    warmup: int = 2
    iters: int = 5
    rounds: int = 1
    threads: int | None = None

    def __post_init__(self) -> None:
        check_options(self.batch_size, self.warmup, self.iters, self.rounds, self.threads)

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
