"""Reading counts written with SI suffixes (16G, 400M) from the command line and sweep files."""

from __future__ import annotations

import re

from scalecalc.errors import ConfigError, shown

_SUFFIX = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_QUANTITY = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([KMGT]?)\s*$")
# The largest count a user may give (a target, a sweep's count) and a bench file may hold: a
# model of more flops per image than this could never be timed, so a larger one is a typo.
MAX_COUNT = 10**18
# The largest count a file may record of a model it did not time (a baseline, a profile's
# fitted range): far above any count within the spec limits (the largest ViT has about 1.2e24
# flops), and small enough that every arithmetic on counts stays within a float.
MAX_MODEL_COUNT = 10**30
# A count with no unit below this is almost surely a forgotten G ("16" meaning 16G flops).
MIN_BARE_COUNT = 10**6
SUFFIXES = "K (1e3), M (1e6), G (1e9), T (1e12)"


def parse_count(text: str | float, what: str = "value") -> int:
    """'16G' -> 16000000000; plain numbers of at least 1M too. Raises ConfigError naming `what`."""
    match = _QUANTITY.match(text.upper()) if isinstance(text, str) else None
    if match:
        unit, value = match.group(2), float(match.group(1)) * _SUFFIX[match.group(2)]
    elif isinstance(text, (int, float)) and not isinstance(text, bool):
        unit, value = "", text
    else:
        raise ConfigError(f"{what}: expected a count such as 16G or 4e9, got {shown(text)}")
    if not 1 <= value <= MAX_COUNT:  # exact for any int; false for NaN
        raise ConfigError(f"{what}: must be between 1 and 1e18, got {shown(text)}")
    if not unit and value < MIN_BARE_COUNT:
        raise ConfigError(
            f"{what}: {shown(text)} has no unit and is below 1M; write the unit, "
            f"one of {SUFFIXES}, e.g. 16G"
        )
    return round(value)


_BYTE_UNITS = {
    "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40,
}  # fmt: skip
_BYTES = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([KMGT]I?B|B)\s*$")


def parse_bytes(text: str, what: str = "value") -> int:
    """'24GiB' -> 25769803776, '80GB' -> 80000000000 (a unit is required). Raises ConfigError
    naming `what`."""
    match = _BYTES.match(text.upper())
    if not match:
        raise ConfigError(f"{what}: expected a size such as 24GiB or 80GB, got {shown(text)}")
    value = float(match.group(1)) * _BYTE_UNITS[match.group(2)]
    if not 1 <= value <= 2**60:  # before rounding: a 400-digit size is inf here
        raise ConfigError(f"{what}: must be between 1 B and 1 EiB, got {shown(text)}")
    return round(value)
