"""The checks that scalecalc's JSON documents share: each returns the value it was given or
raises Invalid with the value's key path and the problem, which the reader turns into its
one-line "file: key: problem" error."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from scalecalc.errors import shown
from scalecalc.inputs import is_finite_number, is_text

# Where a value is in its document: object keys and list indexes, outermost first.
KeyPath = tuple[str | int, ...]
Check = Callable[[Any, KeyPath], Any]


class Invalid(ValueError):
    """A value unlike what scalecalc writes: its key path and the problem."""

    def __init__(self, path: KeyPath, problem: str) -> None:
        super().__init__(f"{dotted(path)}: {problem}")
        self.path = path
        self.problem = problem


def dotted(path: KeyPath) -> str:
    """A key path as messages name it, e.g. rows[0].runtime.median_s; the root is 'the document'."""
    if not path:
        return "the document"
    parts = [f"[{key}]" if isinstance(key, int) else f".{key}" for key in path]
    return "".join(parts)[1:] if isinstance(path[0], str) else "".join(parts)


def obj(
    value: Any,
    path: KeyPath,
    required: Collection[str] = (),
    optional: Collection[str] | None = None,
) -> dict[str, Any]:
    """`value` as an object holding every `required` key; when `optional` is given (a
    collection), also refuse any key that is neither required nor optional."""
    if not isinstance(value, dict):
        raise Invalid(path, f"must be an object, got {shown(value)}")
    for key in required:
        if key not in value:
            raise Invalid((*path, key), "missing")
    if optional is not None:
        allowed = (*required, *optional)
        for key in value:
            if key not in allowed:
                raise Invalid((*path, key), f"unknown key; allowed: {', '.join(allowed)}")
    return value


def fields(
    value: Any, path: KeyPath, checks: Mapping[str, Check], optional: Collection[str] = ()
) -> dict[str, Any]:
    """`value` as an object whose keys in `checks` pass their check, in order (keys in
    `optional` may be absent); keys not in `checks` pass as they are."""
    document = obj(value, path)
    for key, check in checks.items():
        if key in document:
            check(document[key], (*path, key))
        elif key not in optional:
            raise Invalid((*path, key), "missing")
    return document


def integer(low: int, high: int) -> Check:
    """A check for an int (not a bool) from `low` to `high`."""

    def check(value: Any, path: KeyPath) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Invalid(path, f"must be an integer from {low:g} to {high:g}, got {shown(value)}")
        return value

    return check


def number(low: float, high: float, what: str = "a number") -> Check:
    """A check for a finite int or float from `low` to `high`, returned as a float; `what`
    names it in the message (e.g. "seconds")."""

    def check(value: Any, path: KeyPath) -> float:
        if not is_finite_number(value) or not low <= float(value) <= high:
            raise Invalid(path, f"must be {what} from {low:g} to {high:g}, got {shown(value)}")
        return float(value)

    return check


def positive(value: Any, path: KeyPath) -> float:
    """A finite int or float above 0, as a float."""
    if not is_finite_number(value) or value <= 0:
        raise Invalid(path, f"must be a finite number > 0, got {shown(value)}")
    return float(value)


def text(value: Any, path: KeyPath) -> str:
    """A string that encodes as UTF-8 (no lone surrogate, which no output could write)."""
    if not is_text(value):
        raise Invalid(path, f"must be a UTF-8 string, got {shown(value)}")
    return str(value)


def boolean(value: Any, path: KeyPath) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise Invalid(path, f"must be true or false, got {shown(value)}")
    return value


def choice(options: tuple[str, ...]) -> Check:
    """A check for one of the strings `options`."""

    def check(value: Any, path: KeyPath) -> str:
        if not isinstance(value, str) or value not in options:
            raise Invalid(path, f"must be one of {', '.join(options)}, got {shown(value)}")
        return value

    return check


def array(item: Check | None = None, of: str = "", non_empty: bool = False) -> Check:
    """A check for a list (`non_empty`: of one item at least) whose items pass `item`; `of`
    names the items in the message (e.g. "seconds")."""
    wanted = f"a {'non-empty ' if non_empty else ''}list{f' of {of}' if of else ''}"

    def check(value: Any, path: KeyPath) -> list[Any]:
        if not isinstance(value, list) or (non_empty and not value):
            raise Invalid(path, f"must be {wanted}, got {shown(value)}")
        return value if item is None else [item(x, (*path, i)) for i, x in enumerate(value)]

    return check


def nullable(check: Check) -> Check:
    """`check`, or null (None)."""

    def either(value: Any, path: KeyPath) -> Any:
        if value is None:
            return None
        try:
            return check(value, path)
        except Invalid as error:
            if error.path != path:
                raise
            # Every check's problem starts "must be ...": say that null is allowed too.
            raise Invalid(path, error.problem.replace("must be", "must be null or", 1)) from None

    return either
