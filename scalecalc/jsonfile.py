"""Users' JSON files: read bounded, parsed without surprises, every problem one error line."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

from scalecalc.errors import ScalecalcError, safe_text, shown
from scalecalc.files import read_text
from scalecalc.inputs import is_text

# No scalecalc document nests deeper than a few levels; the parser recurses once per level.
MAX_DEPTH = 64
JSON_LIMIT = 1 << 20
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class _Refused(ValueError):
    """A document that parses but that no scalecalc writer produces."""


def load_json(
    path: Path | str,
    label: str,
    error: type[ScalecalcError] = ScalecalcError,
    limit: int = JSON_LIMIT,
    missing_hint: str = "",
) -> Any:
    """The JSON document in the user's file `path` (`label` says what it should be, e.g. "a
    device profile (JSON)"): at most `limit` bytes, no duplicate key, no NaN or Infinity, no
    key with a lone surrogate, nested at most MAX_DEPTH deep; any problem is one `error`."""
    text = read_text(path, limit, error, label, missing_hint)
    if not text.strip():
        raise error(f"{safe_text(path)}: file is empty; expected {label}")
    return parse_json(text, safe_text(path), error)


def parse_json(
    text: str, origin: str, error: type[ScalecalcError] = ScalecalcError, expected: str = ""
) -> Any:
    """`text` parsed as by `load_json`; messages start with `origin` and, for text that is not
    the JSON asked for, end by saying what was `expected` (when given)."""
    wanted = f"; expected {expected}" if expected else ""
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise error(
            f"{origin}: not a usable JSON document (nested {depth} deep, the limit is {MAX_DEPTH})"
        )
    try:
        return json.loads(text, object_pairs_hook=_object, parse_constant=_constant)
    except json.JSONDecodeError as failure:
        raise error(
            f"{origin}: not valid JSON at line {failure.lineno}, column {failure.colno}: "
            f"{failure.msg}{wanted}"
        ) from None
    except _Refused as failure:
        raise error(f"{origin}: {failure}{wanted}") from None
    except (ValueError, RecursionError) as failure:
        # Integers longer than Python's digit limit; nesting is bounded above.
        raise error(f"{origin}: not a usable JSON document ({str(failure)[:80]})") from None


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON `text` (brackets in strings ignored)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if not is_text(key):
            raise _Refused(
                f"key {shown(key)} has a lone surrogate escape, which no output can write"
            )
        if key in result:
            raise _Refused(f"duplicate key {shown(key)} in a JSON object")
        result[key] = value
    return result


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a valid number")
