"""Reading counts written with SI suffixes (16G, 400M) from the command line and sweep files."""

from __future__ import annotations

import math
import re

from scalecalc.errors import ConfigError, shown

_SUFFIX = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_QUANTITY = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([KMGT]?)\s*$")


def parse_count(text: str | int | float, what: str = "value") -> int:
    """'16G' -> 16000000000; plain numbers too. Raises ConfigError naming `what`."""
    if isinstance(text, bool):
        raise ConfigError(f"{what}: expected a count such as 16G or 4e9, got {shown(text)}")
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        match = _QUANTITY.match(str(text).upper())
        if not match:
            raise ConfigError(f"{what}: expected a count such as 16G or 4e9, got {shown(text)}")
        value = float(match.group(1)) * _SUFFIX[match.group(2)]
    if not math.isfinite(value) or value < 1 or value > 1e18:
        raise ConfigError(f"{what}: must be between 1 and 1e18, got {shown(text)}")
    return round(value)
