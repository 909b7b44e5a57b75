"""A device profile as a JSON document: writing it, reading and validating it, the built-in ones.

Every problem with a document is one ProfileError naming the origin, the key and what is allowed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scalecalc.costs import CONVENTIONS
from scalecalc.errors import ProfileError, shown
from scalecalc.inputs import is_finite_number, is_text
from scalecalc.jsonfile import load_json
from scalecalc.profile.model import (
    EXPONENTS,
    INTERCEPTS,
    MAX_COUNT,
    METHODS,
    MODES,
    TERMS,
    Profile,
    Setting,
    Source,
    Validation,
)

FORMAT = "scalecalc-device-profile"
VERSION = 1
PROFILE_LIMIT = 1 << 20
LIMITS: dict[str, tuple[float, float]] = {
    "version": (0, 10**9),
    "setting.batch_size": (1, 10**9),
    "model.coefficients": EXPONENTS,
    "model.intercepts": INTERCEPTS,
    "range": (1.0, MAX_COUNT),
    "fitted_on.models": (0, 10**9),
    "fitted_on.rows": (0, 10**9),
    "validation.median_abs_pct_error": (0.0, 1e9),
    "validation.spearman": (-1.0, 1.0),
    "validation.rows": (0, 10**9),
    "device_memory_bytes": (1, 2**60),
}
BUILTIN_DIR = Path(__file__).parent / "builtin"


def profile_to_json(profile: Profile) -> str:
    """The profile as JSON text with sorted keys, so that equal profiles are equal bytes."""
    s, src, v = profile.setting, profile.source, profile.validation
    document = {
        "format": FORMAT,
        "version": VERSION,
        "name": profile.name,
        "device": profile.device,
        "convention": profile.convention,
        "setting": {
            "mode": s.mode,
            "batch_size": s.batch_size,
            "dtype": s.dtype,
            "amp": s.amp,
            "note": s.note,
        },
        "model": {
            "form": "log-linear",
            "time_unit": "seconds per image",
            "fit": profile.fit,
            "coefficients": dict(profile.coefficients),
            "intercepts": dict(profile.intercepts),
            "selection": profile.selection,
        },
        "range": {m: list(r) for m, r in profile.ranges.items()},
        "fitted_on": {
            "source": src.source,
            "commit": src.commit,
            "license": src.license,
            "models": src.models,
            "rows": src.rows,
            "filters": src.filters,
        },
        "validation": {
            "method": v.method,
            "median_abs_pct_error": v.median_abs_pct_error,
            "spearman": v.spearman,
            "rows": v.rows,
        },
    }
    if profile.device_memory is not None:
        document["device_memory_bytes"] = profile.device_memory
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def builtin_profiles() -> list[str]:
    """Names of the profiles shipped with scalecalc."""
    return sorted(path.stem for path in BUILTIN_DIR.glob("*.json"))


def load_profile(name_or_path: str | Path, convention: str | None = None) -> Profile:
    """A built-in profile by name, or a profile file; with `convention`, it must match."""
    text_name = str(name_or_path)
    builtin = BUILTIN_DIR / f"{text_name}.json"
    if text_name in builtin_profiles():
        path = builtin
    else:
        path = Path(name_or_path)
    hint = f" (built-in profiles: {', '.join(builtin_profiles())})"
    document = load_json(path, "a device profile (JSON)", ProfileError, PROFILE_LIMIT, hint)
    profile = profile_from_document(document, str(path))
    if convention is not None and profile.convention != convention:
        raise ProfileError(
            f"{path}: convention: the profile's counts are {profile.convention!r} but the "
            f"models are counted in {convention!r}; count them in {profile.convention!r} "
            f"or use a profile counted in {convention!r}"
        )
    return profile


def profile_from_document(document: Any, origin: str) -> Profile:
    """Validate a parsed profile document against `LIMITS` and the format's keys."""
    try:
        if not isinstance(document, dict):
            raise _Bad("(top level)", "expected an object")
        if document.get("format") != FORMAT:
            raise _Bad("format", f"expected {FORMAT!r}; not a scalecalc device profile")
        version = _get(document, "version", int, "")
        if version != VERSION:
            raise _Bad("version", f"{version} is not supported; this scalecalc reads {VERSION}")
        return _parse(document)
    except _Bad as error:
        raise ProfileError(f"{origin}: {error}") from None


class _Bad(Exception):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")


def _get(
    node: Mapping[str, Any],
    key: str,
    kind: type | tuple[type, ...],
    where: str,
    limits: str | None = None,
) -> Any:
    """node[key] of `kind`; a number must lie within LIMITS[limits or where + key]."""
    if key not in node:
        raise _Bad(f"{where}{key}", "missing")
    return _checked(node[key], f"{where}{key}", kind, limits or f"{where}{key}")


def _checked(value: Any, name: str, kind: type | tuple[type, ...], limits: str) -> Any:
    given = value
    wants_number = kind in (float, (float, type(None)))
    if wants_number and isinstance(value, int) and not isinstance(value, bool):
        value = float(value) if is_finite_number(value) else math.inf
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _Bad(name, f"expected {_kind_name(kind)}, got {type(value).__name__}")
    if isinstance(value, str) and not is_text(value):
        raise _Bad(name, f"{shown(value)} has a lone surrogate escape, which no output can write")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high = LIMITS.get(limits, (-math.inf, math.inf))
        if not (is_finite_number(value) and low <= value <= high):
            raise _Bad(name, f"{shown(given)} is outside {low:g} to {high:g}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {dict: "an object", str: "a string", int: "an integer", float: "a number"}
    names.update({bool: "true or false", list: "a list"})
    if isinstance(kind, tuple):
        return " or ".join("null" if k is type(None) else names[k] for k in kind)
    return names[kind]


def _numbers(node: Mapping[str, Any], where: str) -> dict[str, float]:
    """Every member of `node` as a number within LIMITS of the object `where` names."""
    limits = where.rstrip(".")
    return {str(key): _get(node, key, float, where, limits) for key in node}


def _choice(node: Mapping[str, Any], key: str, allowed: tuple[str, ...], where: str) -> str:
    value = _get(node, key, str, where)
    if value not in allowed:
        raise _Bad(f"{where}{key}", f"{shown(value)} is not one of {', '.join(allowed)}")
    return value


def _parse(document: Mapping[str, Any]) -> Profile:
    setting = _get(document, "setting", dict, "")
    model = _get(document, "model", dict, "")
    ranges = _get(document, "range", dict, "")
    source = _get(document, "fitted_on", dict, "")
    valid = _get(document, "validation", dict, "")
    for key, expected in (("form", "log-linear"), ("time_unit", "seconds per image")):
        if _get(model, key, str, "model.") != expected:
            raise _Bad(f"model.{key}", f"expected {expected!r}")
    coefficients = _numbers(_get(model, "coefficients", dict, "model."), "model.coefficients.")
    intercepts = _numbers(_get(model, "intercepts", dict, "model."), "model.intercepts.")
    for key in coefficients:
        if key not in TERMS:
            raise _Bad(f"model.coefficients.{key}", f"not one of {', '.join(TERMS)}")
    if not intercepts:
        raise _Bad("model.intercepts", "needs at least one intercept")
    bounds = {}
    for measure in TERMS:
        pair = _get(ranges, measure, list, "range.")
        if len(pair) != 2:
            raise _Bad(f"range.{measure}", "expected [low, high] with low <= high")
        low, high = (_checked(x, f"range.{measure}", float, "range") for x in pair)
        if low > high:
            raise _Bad(f"range.{measure}", "expected [low, high] with low <= high")
        bounds[measure] = (low, high)
    return Profile(
        name=_get(document, "name", str, ""),
        device=_get(document, "device", str, ""),
        convention=_choice(document, "convention", CONVENTIONS, ""),
        setting=Setting(
            _choice(setting, "mode", MODES, "setting."),
            _get(setting, "batch_size", (int, type(None)), "setting."),
            _get(setting, "dtype", str, "setting."),
            _get(setting, "amp", bool, "setting."),
            _get(setting, "note", str, "setting."),
        ),
        coefficients=coefficients,
        intercepts=intercepts,
        ranges=bounds,
        source=Source(
            _get(source, "source", str, "fitted_on."),
            _get(source, "commit", str, "fitted_on."),
            _get(source, "license", str, "fitted_on."),
            _get(source, "models", int, "fitted_on."),
            _get(source, "rows", int, "fitted_on."),
            _get(source, "filters", str, "fitted_on."),
        ),
        validation=Validation(
            _choice(valid, "method", METHODS, "validation."),
            _get(valid, "median_abs_pct_error", float, "validation."),
            _get(valid, "spearman", float, "validation."),
            _get(valid, "rows", int, "validation."),
        ),
        fit=_get(model, "fit", str, "model."),
        # Profiles written before forms were explained have no selection.
        selection=_get(model, "selection", str, "model.") if "selection" in model else "",
        device_memory=_device_memory(document),
    )


def _device_memory(document: Mapping[str, Any]) -> int | None:
    """The optional `device_memory_bytes`: a whole number of bytes within its LIMITS."""
    if "device_memory_bytes" not in document:
        return None
    return int(_get(document, "device_memory_bytes", int, ""))
