"""A device profile as markdown: what it was fitted on, its model and its validation."""

from __future__ import annotations

from scalecalc.profile.document import builtin_profiles, load_profile
from scalecalc.profile.model import Profile

LIST_HEADERS = ("profile", "device", "setting", "counts", "validation", "median error", "Spearman")


def _count(value: float) -> str:
    return f"{value:.4g}"


def to_markdown(profile: Profile) -> str:
    """The profile's setting, provenance, fitted terms, range and validation, as markdown."""
    s, src, v = profile.setting, profile.source, profile.validation
    terms = "".join(f" + {c:.6g}·log {m}" for m, c in profile.coefficients.items())
    if not terms:
        terms = " (a constant: no count explained the measured times)"
    model = f"log(seconds per image) = intercept{terms}"
    if profile.form == "roofline":
        model = "seconds per image = e^intercept + flops·e^cost(flops) + acts·e^cost(acts)"
        if profile.blend != 1.0:
            p = f"{profile.blend:g}"
            model = (
                f"seconds per image = (e^({p}·intercept) + (flops·e^cost(flops))^{p} "
                f"+ (acts·e^cost(acts))^{p})^(1/{p})"
            )
    lines = [
        f"## Device profile {profile.name}",
        "",
        f"- device: {profile.device}",
        f"- predicts: time per image of {s.describe()}" + (f" ({s.note})" if s.note else ""),
        f"- counts: {profile.convention} convention",
        f"- model: {model}; fit: {profile.fit}",
        *([f"- form kept: {profile.selection}"] if profile.selection else []),
        "- intercepts: " + ", ".join(f"{g} {a:.6g}" for g, a in sorted(profile.intercepts.items())),
        *(
            [
                "- costs (log seconds per flop, per act): "
                + ", ".join(
                    f"{g} {c['flops']:.6g}, {c['acts']:.6g}"
                    for g, c in sorted(profile.costs.items())
                )
            ]
            if profile.costs
            else []
        ),
        "- fitted range: "
        + ", ".join(
            f"{m} {_count(low)}–{_count(high)}" for m, (low, high) in profile.ranges.items()
        ),
        f"- fitted on: {src.source}"
        + (f" @ {src.commit}" if src.commit else "")
        + (f" ({src.license})" if src.license else "")
        + f"; {src.rows} rows, {src.models} models",
        (
            f"- validation ({v.method}, {v.rows} rows): median absolute error "
            f"{v.median_abs_pct_error:.1f}%, Spearman {v.spearman:.3f}"
        ),
        *_group_ranges(profile),
        *_regions(profile),
        "",
    ]
    return "\n".join(lines)


def _group_ranges(profile: Profile) -> list[str]:
    """The fitted range of each group, against which extrapolation is judged."""
    if not profile.group_ranges:
        return ["- fitted range by group: not stored; extrapolation is judged by the whole range"]
    return ["- fitted range by group (extrapolation is judged by the model's group):"] + [
        f"  - {group}: "
        + ", ".join(f"{m} {_count(low)}–{_count(high)}" for m, (low, high) in ranges.items())
        for group, ranges in profile.group_ranges.items()
    ]


def _regions(profile: Profile) -> list[str]:
    """The held-out error of each region, as a table, and how a prediction finds its region."""
    from scalecalc.tables import markdown_table

    regions = profile.regions
    whole = f"{profile.validation.median_abs_pct_error:.1f}%"
    if regions is None:
        return [
            f"- error by region: not stored; every prediction takes the whole profile's {whole}"
        ]
    low, high = regions.thirds
    rows = [[r.describe(), str(r.rows), f"{r.median_abs_pct_error:.1f}%"] for r in regions.regions]
    kind = f"{profile.validation.method} held out, median absolute"
    if profile.validation.method == "calibrated":
        kind = (
            "calibrated: the base's held-out median absolute error of the region with the "
            "device change and the level added in quadrature"
        )
    how = (
        f"- error by region ({kind}): flops "
        f"thirds of the fitted rows: lower ≤ {_count(low)}, middle ≤ {_count(high)}, upper "
        f"above; a prediction takes its family × third, or where that holds fewer than "
        f"{regions.min_rows} rows its family, its third, or all rows ({whole})"
    )
    if not rows:
        return [f"{how}; no region holds {regions.min_rows} rows"]
    return [
        how,
        "",
        markdown_table(("region", "rows", "median error"), rows, "lrr").rstrip("\n"),
    ]


def profile_list_markdown() -> str:
    """The built-in profiles, one table row each: device, setting, convention and the error of
    its validation (median absolute error in time per image, and Spearman's rank correlation)."""
    from scalecalc.tables import markdown_table  # the house table; not needed to load a profile

    rows = []
    for name in builtin_profiles():
        profile = load_profile(name)
        v = profile.validation
        rows.append(
            [
                name,
                profile.device,
                profile.setting.describe(),
                profile.convention,
                v.method,
                f"{v.median_abs_pct_error:.1f}%",
                f"{v.spearman:.3f}",
            ]
        )
    return "### Built-in device profiles\n\n" + markdown_table(LIST_HEADERS, rows, "lllllrr")
