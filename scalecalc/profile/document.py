"""A device profile as a JSON document: writing it, reading and validating it, the built-in ones.

Every problem with a document is one ProfileError naming the origin, the key and what is allowed
(scalecalc.schema's checks).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scalecalc.costs import CONVENTIONS
from scalecalc.errors import ProfileError, shown
from scalecalc.jsonfile import load_json
from scalecalc.profile.model import (
    EXPONENTS,
    FORMS,
    INTERCEPTS,
    MAX_COUNT,
    METHODS,
    MODES,
    ROOFLINE_TERMS,
    TERMS,
    Profile,
    Setting,
    Source,
    Validation,
)
from scalecalc.profile.regions import ErrorRegions, Region
from scalecalc.schema import (
    Check,
    Invalid,
    KeyPath,
    array,
    boolean,
    choice,
    fields,
    integer,
    nullable,
    number,
    obj,
    text,
)

FORMAT = "scalecalc-device-profile"
VERSION = 1
PROFILE_LIMIT = 1 << 20
MAX_SETTING = 10**9
MAX_DEVICE_MEMORY = 2**60
COUNT = integer(0, MAX_SETTING)
COEFFICIENT = number(*EXPONENTS)
INTERCEPT = number(*INTERCEPTS)
RANGE = number(1.0, MAX_COUNT)
PERCENT = number(0.0, 1e9)
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
            **({} if s.channels_last is None else {"channels_last": s.channels_last}),
            **({} if s.compiled is None else {"compiled": s.compiled}),
        },
        "model": {
            "form": profile.form,
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
    if profile.costs:
        document["model"]["costs"] = {g: dict(c) for g, c in profile.costs.items()}
    if profile.blend != 1.0:
        document["model"]["blend"] = profile.blend
    if profile.device_memory is not None:
        document["device_memory_bytes"] = profile.device_memory
    if profile.regions is not None:
        document["error_regions"] = _regions_document(profile.regions)
    if profile.group_ranges:
        document["group_range"] = {
            group: {m: list(r) for m, r in ranges.items()}
            for group, ranges in profile.group_ranges.items()
        }
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
    """Validate a parsed profile document: its keys, their types and ranges."""
    try:
        obj(document, ())
        if document.get("format") != FORMAT:
            raise Invalid(("format",), f"expected {FORMAT!r}; not a scalecalc device profile")
        version = fields(document, (), {"version": COUNT})["version"]
        if version != VERSION:
            problem = f"{version} is not supported; this scalecalc reads {VERSION}"
            raise Invalid(("version",), problem)
        return _parse(fields(document, (), DOCUMENT, OPTIONAL))
    except Invalid as error:
        raise ProfileError(f"{origin}: {error}") from None


def _bounds(value: Any, path: KeyPath) -> tuple[float, float]:
    """A measure's range: [low, high], both within RANGE, low <= high."""
    pair = array(RANGE)(value, path)
    if len(pair) != 2 or pair[0] > pair[1]:
        raise Invalid(path, f"must be [low, high] with low <= high, got {shown(value)}")
    return pair[0], pair[1]


DOCUMENT: dict[str, Check] = {
    "name": text,
    "device": text,
    "convention": choice(CONVENTIONS),
    "setting": obj,
    "model": obj,
    "range": obj,
    "fitted_on": obj,
    "validation": obj,
    "device_memory_bytes": integer(1, MAX_DEVICE_MEMORY),
    "error_regions": obj,
    "group_range": obj,
}
# Profiles fitted before regions were stored have neither; their predictions take the whole
# profile's error and range.
OPTIONAL = ("device_memory_bytes", "error_regions", "group_range")
SETTING: dict[str, Check] = {
    "mode": choice(MODES),
    "batch_size": nullable(integer(1, MAX_SETTING)),
    "dtype": text,
    "amp": boolean,
    "note": text,
    "channels_last": boolean,
    "compiled": boolean,
}
# Layout and compile are stated only where the fitted file said them.
OPTIONAL_SETTING = ("channels_last", "compiled")
# Profiles written before forms were explained have no selection; only roofline ones have costs,
# and a blend where their parts do not simply add. A blend p of (Σ partᵖ)^(1/p) from 0.25 (far
# more than the sum) to 4 (nearly the largest part) spans every way the parts can add.
BLENDS = (0.25, 4.0)
MODEL: dict[str, Check] = {
    "form": choice(FORMS),
    "time_unit": choice(("seconds per image",)),
    "fit": text,
    "coefficients": obj,
    "intercepts": obj,
    "selection": text,
    "costs": obj,
    "blend": number(*BLENDS),
}
RANGES: dict[str, Check] = {measure: _bounds for measure in TERMS}
FITTED_ON: dict[str, Check] = {
    "source": text,
    "commit": text,
    "license": text,
    "models": COUNT,
    "rows": COUNT,
    "filters": text,
}
VALIDATION: dict[str, Check] = {
    "method": choice(METHODS),
    "median_abs_pct_error": PERCENT,
    "spearman": number(-1.0, 1.0),
    "rows": COUNT,
}


def _parse(document: Mapping[str, Any]) -> Profile:
    setting = fields(document["setting"], ("setting",), SETTING, OPTIONAL_SETTING)
    model = fields(document["model"], ("model",), MODEL, ("selection", "costs", "blend"))
    ranges = fields(document["range"], ("range",), RANGES)
    source = fields(document["fitted_on"], ("fitted_on",), FITTED_ON)
    valid = fields(document["validation"], ("validation",), VALIDATION)
    where = ("model", "coefficients")
    coefficients = obj(model["coefficients"], where, optional=TERMS)
    intercepts = model["intercepts"]
    if not intercepts:
        raise Invalid(("model", "intercepts"), "needs at least one intercept")
    coefficients = {key: COEFFICIENT(value, (*where, key)) for key, value in coefficients.items()}
    costs = _costs(model, coefficients, intercepts)
    return Profile(
        name=document["name"],
        device=document["device"],
        convention=document["convention"],
        setting=Setting(
            setting["mode"],
            setting["batch_size"],
            setting["dtype"],
            setting["amp"],
            setting["note"],
            setting.get("channels_last"),
            setting.get("compiled"),
        ),
        coefficients=coefficients,
        intercepts={
            key: INTERCEPT(value, ("model", "intercepts", key)) for key, value in intercepts.items()
        },
        ranges={measure: _bounds(ranges[measure], ("range", measure)) for measure in TERMS},
        source=Source(
            source["source"],
            source["commit"],
            source["license"],
            source["models"],
            source["rows"],
            source["filters"],
        ),
        validation=Validation(
            valid["method"],
            float(valid["median_abs_pct_error"]),
            float(valid["spearman"]),
            valid["rows"],
        ),
        fit=model["fit"],
        selection=model.get("selection", ""),
        device_memory=document.get("device_memory_bytes"),
        regions=(
            _regions(document["error_regions"], intercepts) if "error_regions" in document else None
        ),
        group_ranges=_group_ranges(document.get("group_range", {}), intercepts),
        form=model["form"],
        costs=costs,
        blend=model.get("blend", 1.0),
    )


ERROR_REGIONS: dict[str, Check] = {
    "min_rows": integer(1, MAX_SETTING),
    "flops_thirds": _bounds,
    "regions": array(of="regions"),
}
REGION: dict[str, Check] = {
    "group": nullable(text),
    "third": nullable(integer(1, 3)),
    "rows": COUNT,
    "median_abs_pct_error": PERCENT,
}


def _regions_document(regions: ErrorRegions) -> dict[str, Any]:
    return {
        "min_rows": regions.min_rows,
        "flops_thirds": list(regions.thirds),
        "regions": [
            {
                "group": r.group,
                "third": r.third,
                "rows": r.rows,
                "median_abs_pct_error": r.median_abs_pct_error,
            }
            for r in regions.regions
        ],
    }


def _regions(value: Any, groups: Mapping[str, Any]) -> ErrorRegions:
    """The stored error regions: the flops thirds' bounds and each region of a profile group
    (or of every group: null), none twice."""
    where = ("error_regions",)
    found = fields(value, where, ERROR_REGIONS)
    regions: dict[tuple[str | None, int | None], Region] = {}
    for index, item in enumerate(found["regions"]):
        path = (*where, "regions", index)
        region = fields(item, path, REGION)
        key = (region["group"], region["third"])
        if key[0] is not None and key[0] not in groups:
            problem = f"{shown(key[0])} is not a group of the profile ({', '.join(groups)})"
            raise Invalid((*path, "group"), problem)
        if key in regions:
            raise Invalid(path, f"a second region of group {shown(key[0])}, third {key[1]}")
        regions[key] = Region(*key, region["rows"], float(region["median_abs_pct_error"]))
    thirds = _bounds(found["flops_thirds"], (*where, "flops_thirds"))
    return ErrorRegions(thirds, tuple(regions.values()), found["min_rows"])


def _group_ranges(
    value: Any, groups: Mapping[str, Any]
) -> dict[str, dict[str, tuple[float, float]]]:
    """Each group's fitted range of every measure; only the profile's groups may have one."""
    ranges = {}
    for group, measures in obj(value, ("group_range",)).items():
        path = ("group_range", group)
        if group not in groups:
            problem = f"not a group of the profile ({', '.join(groups)})"
            raise Invalid(path, problem)
        found = fields(measures, path, RANGES)
        ranges[group] = {m: _bounds(found[m], (*path, m)) for m in TERMS}
    return ranges


def _costs(
    model: Mapping[str, Any], coefficients: Mapping[str, Any], intercepts: Mapping[str, Any]
) -> dict[str, dict[str, float]]:
    """A roofline model's log costs: one {flops, acts} per intercept's group and no
    coefficients; a log-linear model has none (and no blend)."""
    if model["form"] != "roofline":
        for key, what in (("costs", "costs"), ("blend", "a blend")):
            if key in model:
                raise Invalid(("model", key), f"only a roofline model has {what}")
        return {}
    if coefficients:
        raise Invalid(("model", "coefficients"), "must be {} in a roofline model")
    where = ("model", "costs")
    costs = obj(model.get("costs"), where)
    if set(costs) != set(intercepts):
        problem = f"needs one entry per intercept's group ({', '.join(sorted(intercepts))})"
        raise Invalid(where, problem)
    return {
        group: {
            measure: INTERCEPT(
                obj(costs[group], (*where, group), ROOFLINE_TERMS, ())[measure],
                (*where, group, measure),
            )
            for measure in ROOFLINE_TERMS
        }
        for group in sorted(costs)
    }
