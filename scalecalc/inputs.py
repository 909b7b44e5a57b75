"""What counts as a usable value from a user: one test per kind for every reader."""

from __future__ import annotations

import math
import sys
from typing import Any


def is_finite_number(value: Any) -> bool:
    """An int or float that converts to a finite float (no bool, NaN, inf or 400-digit int)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, int):
        return -sys.float_info.max <= value <= sys.float_info.max
    return math.isfinite(value)


def is_text(value: Any) -> bool:
    """A str that encodes as UTF-8: no lone surrogate, which no output could write."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
