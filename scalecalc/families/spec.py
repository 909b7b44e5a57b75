"""The base of every family's spec: typed, frozen fields checked on construction."""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from scalecalc.errors import SpecError, shown
from scalecalc.inputs import is_finite_number

# Upper bounds keep a typo (an extra zero or three) from describing a model that would take
# minutes to build; counting itself never allocates, so these are generous.
MAX_RESOLUTION = 8192
MAX_WIDTH = 1 << 17
MAX_DEPTH = 1000
MAX_CLASSES = 1_000_000
MAX_STAGES = 16


def _type_name(hint: Any) -> str:
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        return "a list of " + {int: "integers", float: "numbers"}[item]
    names = {int: "an integer", float: "a finite number", bool: "true or false", str: "a string"}
    return names[hint]


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _checker(hint: Any) -> Callable[[Any], bool]:
    """A check that a value has the type `hint` names: no bool passes for a number, no NaN or
    infinity for a float, every item of a tuple checked."""
    if typing.get_origin(hint) is tuple:
        item = _checker(typing.get_args(hint)[0])
        return lambda value: isinstance(value, tuple) and all(map(item, value))
    if hint is bool:
        return _is_bool
    if hint is float:
        return is_finite_number
    return lambda value: isinstance(value, hint) and not isinstance(value, bool)


@functools.cache
def _field_checks(cls: type) -> tuple[tuple[str, Callable[[Any], bool], str], ...]:
    """Each field of a spec class with its type check and the type's name, worked out once per
    class: resolving type hints costs far more than checking a value, and a solver builds
    thousands of specs."""
    return tuple(
        (name, _checker(hint), _type_name(hint))
        for name, hint in typing.get_type_hints(cls).items()
        if typing.get_origin(hint) is not ClassVar
    )


@dataclass(frozen=True, kw_only=True)
class BaseSpec:
    """Fields every family has; subclasses add theirs and extend `validate`."""

    family: ClassVar[str]
    resolution: int = 224
    num_classes: int = 1000

    def __post_init__(self) -> None:
        for name, check, type_name in _field_checks(type(self)):
            value = getattr(self, name)
            if not check(value):
                raise SpecError(name, f"must be {type_name}, got {shown(value)}")
        self.validate()

    def validate(self) -> None:
        """Check value ranges and consistency; raise SpecError naming the key."""
        check_range("resolution", self.resolution, 1, MAX_RESOLUTION)
        check_range("num_classes", self.num_classes, 1, MAX_CLASSES)

    @property
    def num_blocks(self) -> int:
        """Residual or transformer blocks in the network (what building time grows with)."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """Plain fields (lists for tuples), with the family first; loads back to an equal spec."""
        fields = {"family": self.family}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            fields[field.name] = list(value) if isinstance(value, tuple) else value
        return fields

    def replace(self, **changes: Any) -> BaseSpec:
        """A new, validated spec with some fields changed; the same request again gives the
        spec built the first time (specs are immutable, and a flops solve asks for most of the
        specs it tries two or three times over)."""
        # Each value's type is part of the request: 1 and 1.0 are equal keys, different fields.
        key = tuple((name, type(value), value) for name, value in changes.items())
        try:
            hash(key)
        except TypeError:  # a list or another unhashable value: built (and refused) as given
            return dataclasses.replace(self, **changes)
        return _replaced(self, key)


@functools.lru_cache(maxsize=4096)
def _replaced(spec: BaseSpec, changes: tuple[tuple[str, type, Any], ...]) -> BaseSpec:
    return dataclasses.replace(spec, **{name: value for name, _, value in changes})


def check_range(key: str, value: float, low: float, high: float) -> None:
    """Raise SpecError unless low <= value <= high."""
    if not low <= value <= high:
        raise SpecError(key, f"must be between {low} and {high}, got {shown(value)}")


def check_each(key: str, values: tuple, low: float, high: float, length: int | None = None) -> None:
    """Raise SpecError unless every value is in [low, high] (and there are `length` of them)."""
    if not values:
        raise SpecError(key, "must not be empty")
    if len(values) > MAX_STAGES:
        raise SpecError(key, f"must have at most {MAX_STAGES} stages, got {len(values)}")
    if length is not None and len(values) != length:
        raise SpecError(key, f"must have {length} entries (one per stage), got {len(values)}")
    for value in values:
        if not low <= value <= high:
            raise SpecError(key, f"entries must be between {low} and {high}, got {shown(value)}")
