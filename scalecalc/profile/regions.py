"""Where a profile's prediction stands: the held-out error of its region and its group's range.

A region is a profile group (a family with its own intercept, or "other") and a third of the
fitted rows by flops. Each region's error is the median absolute % error of the held-out
predictions of the profile's validation over the rows it holds (a calibrated profile's: its
base's, with what calibration adds, scalecalc.profile.calibrate). A region with fewer than
MIN_REGION_ROWS rows is not stored, and a prediction there takes the error of the next coarser
region that has enough: its group at every size, then its flops third over every group, then
the whole profile. Extrapolation is judged against the fitted range of the prediction's own
group ("other" for families without an intercept of their own). Pure Python.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from scalecalc.profile.model import OTHER, TERMS

if TYPE_CHECKING:
    from scalecalc.profile.fit import FitRecord
    from scalecalc.profile.model import Profile

# A region's error is the median of its rows' errors; with fewer than 6 rows it is one or two
# models' error. 6 is also the size of the smallest families of the built-in profiles (pycls's
# ResNets/ResNeXts and EfficientNets), and those ResNets err 21-24% held out, three times the
# whole profile's error: rough as a median of 6 is, the whole profile's is further off.
MIN_REGION_ROWS = 6
THIRDS = ("lower", "middle", "upper")
WHOLE = "all rows"
NO_REGIONS = "all rows (the profile stores no regions)"

Ranges = Mapping[str, tuple[float, float]]


@dataclass(frozen=True)
class Region:
    """Rows of one group (None: every group) in one flops third (1 to 3; None: every size),
    and the median absolute % error of their held-out predictions."""

    group: str | None
    third: int | None
    rows: int
    median_abs_pct_error: float

    def describe(self) -> str:
        """The region as tables name it: "vit, upper flops third", "vit", "upper flops third"."""
        size = None if self.third is None else f"{THIRDS[self.third - 1]} flops third"
        return ", ".join(part for part in (self.group, size) if part is not None)


@dataclass(frozen=True)
class ErrorRegions:
    """The flops bounds of the lower and middle thirds (inclusive) and every region holding at
    least `min_rows` rows."""

    thirds: tuple[float, float]
    regions: tuple[Region, ...]
    min_rows: int = MIN_REGION_ROWS

    def with_errors(self, change: Callable[[float], float]) -> ErrorRegions:
        """The same regions, each median error replaced by `change` of it."""
        return dataclasses.replace(
            self,
            regions=tuple(
                dataclasses.replace(r, median_abs_pct_error=change(r.median_abs_pct_error))
                for r in self.regions
            ),
        )

    def third_of(self, flops: float) -> int:
        """The flops third (1, 2 or 3) that `flops` falls in."""
        return 1 + sum(flops > bound for bound in self.thirds)

    @cached_property
    def _by_key(self) -> dict[tuple[str | None, int | None], Region]:
        return {(r.group, r.third): r for r in self.regions}

    def find(self, group: str, flops: float) -> Region | None:
        """The finest stored region of a model of this group and flops; None if none is stored."""
        third = self.third_of(flops)
        for key in ((group, third), (group, None), (None, third)):
            if key in self._by_key:
                return self._by_key[key]
        return None


def group_of(family: str | None, groups: Collection[str]) -> str:
    """The profile group a family's models belong to: the family's own, else "other"."""
    return family if family is not None and family in groups else OTHER


def flops_thirds(flops: Sequence[float]) -> tuple[float, float]:
    """The flops that split the rows into thirds: the 1/3 and 2/3 quantiles (inclusive)."""
    low, high = statistics.quantiles(flops, n=3, method="inclusive")
    return low, high


def error_regions(
    records: Sequence[FitRecord], predicted: Sequence[float], groups: Collection[str]
) -> ErrorRegions:
    """The held-out error of every region with at least MIN_REGION_ROWS rows, from each
    record's held-out predicted seconds per image; `groups` are the profile's groups."""
    thirds = flops_thirds([r.flops for r in records])
    bounds = ErrorRegions(thirds, ())
    errors: dict[tuple[str | None, int | None], list[float]] = {}
    for record, seconds in zip(records, predicted):
        group, third = group_of(record.family, groups), bounds.third_of(record.flops)
        error = abs(seconds / record.seconds - 1) * 100
        for key in ((group, third), (group, None), (None, third)):
            errors.setdefault(key, []).append(error)
    regions = tuple(
        Region(group, third, len(found), statistics.median(found))
        for (group, third), found in sorted(errors.items(), key=lambda item: _order(*item[0]))
        if len(found) >= MIN_REGION_ROWS
    )
    return ErrorRegions(thirds, regions)


def _order(group: str | None, third: int | None) -> tuple[bool, str, bool, int]:
    """Regions by group (every group last), then third (every size first)."""
    return group is None, group or "", third is not None, third or 0


def group_ranges(records: Sequence[FitRecord], groups: Collection[str]) -> dict[str, Ranges]:
    """Each group's fitted range of every measure: (smallest, largest) over its rows."""
    members: dict[str, list[FitRecord]] = {}
    for record in records:
        members.setdefault(group_of(record.family, groups), []).append(record)
    return {
        group: {m: _span([r.counts()[m] for r in rows]) for m in TERMS}
        for group, rows in sorted(members.items())
    }


def _span(values: Sequence[float]) -> tuple[float, float]:
    return min(values), max(values)


def applied_error(profile: Profile, family: str | None, flops: float) -> tuple[float, str]:
    """The held-out error that applies to a prediction (percent) and the region it is from."""
    group = group_of(family, profile.intercepts)
    region = None if profile.regions is None else profile.regions.find(group, flops)
    if region is not None:
        return region.median_abs_pct_error, region.describe()
    whole = profile.validation.median_abs_pct_error
    return whole, NO_REGIONS if profile.regions is None else WHOLE


def fitted_range(profile: Profile, family: str | None) -> Ranges:
    """The range a model of this family is judged against: its group's when the profile stores
    group ranges and has the group, else the whole profile's."""
    group = group_of(family, profile.intercepts)
    return profile.group_ranges.get(group, profile.ranges)


def outside(profile: Profile, counts: Mapping[str, float], family: str | None) -> bool:
    """Whether a count lies outside the fitted range that applies to the family."""
    ranges = fitted_range(profile, family)
    return any(not low <= counts[m] <= high for m, (low, high) in ranges.items())
