"""Reading times with a unit (0.8ms, 2us, 72h) from the command line and sweep files."""

from __future__ import annotations

import re

from scalecalc.errors import ConfigError, shown

_UNITS = {
    "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0,
    "min": 60.0, "h": 3600.0, "d": 86400.0,
}  # fmt: skip
_TIME = re.compile(r"^\s*([+-]?[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(ns|us|µs|ms|s|min|h|d)\s*$")
UNITS = "ns, us, ms, s, min, h, d"
# How keys show a time: (unit, its seconds, the least time shown in it).
_SHOWN = (
    ("h", 3600.0, 3600.0), ("min", 60.0, 60.0), ("s", 1.0, 1.0),
    ("ms", 1e-3, 1e-4), ("us", 1e-6, 1e-7),
)  # fmt: skip
# A nanosecond to a thousand years: the bounds of any time per image or training run.
MIN_SECONDS, MAX_SECONDS = 1e-9, 3.2e10


def parse_seconds(text: object, what: str = "value") -> float:
    """'0.8ms' -> 0.0008, '72h' -> 259200.0; a unit is required. Raises ConfigError naming
    `what`."""
    match = _TIME.match(text) if isinstance(text, str) else None
    if not match:
        raise ConfigError(
            f"{what}: expected a time with a unit ({UNITS}) such as 0.8ms or 72h, got {shown(text)}"
        )
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ConfigError(f"{what}: must be a time > 0, got {shown(text)}")
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise ConfigError(f"{what}: must be between 1ns and 1000 years, got {shown(text)}")
    return seconds


def format_seconds(seconds: float) -> str:
    """A time for keys and labels: hours, minutes or seconds from 1 up; ms from 0.1 ms (so
    0.8ms stays 0.8ms); us, then ns below."""
    for unit, size, least in _SHOWN:
        if seconds >= least:
            return f"{seconds / size:.6g}{unit}"
    return f"{seconds / 1e-9:.6g}ns"
