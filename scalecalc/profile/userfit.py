"""`profile fit` of a user's file: a `scalecalc bench` JSON or a timm benchmark CSV, told apart
by content; the setting from options, else the file; what was dropped or merged, said."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scalecalc.errors import ProfileError, safe_text
from scalecalc.files import read_text
from scalecalc.profile import timmcsv
from scalecalc.profile.data import records_of_bench
from scalecalc.profile.fit import FitRecord, fit_profile
from scalecalc.profile.model import Profile, Setting, Source

# The largest user file read: timm's CSVs are 150 kB, bench's JSON at most 16 MiB.
MAX_FILE_BYTES = 16 << 20
EXPECTED = "the JSON output of `scalecalc bench --format json` or a timm benchmark.py CSV"
VALIDATIONS = {"5-fold": "5-fold", "loo": "leave-one-out"}
UNSTATED = "unstated"


@dataclass(frozen=True)
class FitOptions:
    """What the user said on the command line; None where they said nothing."""

    validation: str = "5-fold"
    device: str | None = None
    dtype: str | None = None
    amp: bool | None = None
    batch_size: int | None = None
    channels_last: bool | None = None
    compiled: bool | None = None
    mode: str | None = None
    counts: Path | None = None


@dataclass(frozen=True)
class Read:
    """A user's file as records: its kind, convention, setting, and lines on what was read."""

    kind: str
    convention: str
    records: list[FitRecord]
    stated: timmcsv.FileSetting
    notes: list[str]


def shared_counts(records: Sequence[FitRecord]) -> int:
    """How many records have the same three counts as another record."""
    seen = Counter((r.flops, r.params, r.acts) for r in records)
    return sum(n for n in seen.values() if n > 1)


def _bench(text: str, path: Path) -> Read:
    """A bench JSON file's distinct models, its setup, and a note on rows merged."""
    from scalecalc.bench.results import parse_bench

    measured = parse_bench(text, path, ProfileError)
    records = records_of_bench(measured)
    setup = measured.setup
    stated = timmcsv.FileSetting(
        mode=str(setup["mode"]),
        dtype=str(setup["dtype"]),
        batch_size=int(setup["batch_size"]),
        device=str(setup["device"]),
        versions=(f"torch {setup.get('torch', '?')}",),
    )
    merged = len(measured.rows) - len(records)
    notes = [f"read as a scalecalc bench JSON file: {len(measured.rows)} rows"]
    if merged:
        notes.append(
            f"{merged} rows are a model another row already lists (bench times a spec the "
            "sweep lists under two keys once): merged into that row"
        )
    return Read("bench", str(setup["convention"]), records, stated, notes)


def _timm(text: str, path: Path, options: FitOptions) -> Read:
    """A timm CSV's records (counts from --counts for a training file), the setting its name
    and columns state, and notes on what was dropped."""
    counts = None
    if options.counts is not None:
        expected = "a timm benchmark.py inference CSV"
        counted = read_text(options.counts, MAX_FILE_BYTES, ProfileError, expected)
        counts = timmcsv.counts_by_size(counted, f"--counts {safe_text(options.counts)}")
    read = timmcsv.read_timm(text, safe_text(path), options.mode, counts)
    named = timmcsv.setting_from_name(str(path))
    stated = timmcsv.FileSetting(
        read.setting.mode,
        named.dtype,
        named.amp,
        named.channels_last,
        named.compiled,
        read.setting.batch_size,
        named.device,
        named.versions,
        read.setting.notes,
    )
    rows = len(read.records) + sum(read.dropped.values())
    notes = [f"read as a timm benchmark CSV ({stated.mode} columns): {rows} rows"]
    if read.dropped:
        notes.append(
            "dropped: " + ", ".join(f"{n} {why}" for why, n in sorted(read.dropped.items()))
        )
    return Read("timm", "fvcore", read.records, stated, notes)


def read_user_file(path: Path, options: FitOptions) -> Read:
    """The records of a bench JSON or timm CSV at `path`, told apart by their first character
    ("{" or "[" opens JSON) and the CSV's header; one ProfileError line for anything else."""
    # A spreadsheet's byte-order mark is no part of the first column's name.
    text = read_text(path, MAX_FILE_BYTES, ProfileError, EXPECTED).removeprefix("\ufeff")
    if text.lstrip()[:1] in ("{", "["):
        read = _bench(text, path)
    else:
        header = timmcsv.header_of(text)
        if not timmcsv.is_timm_header(header):
            raise ProfileError(
                f"{safe_text(path)}: header {timmcsv.describe_header(header)!r} has no 'model' "
                "column with 'infer_samples_per_sec' or 'train_samples_per_sec'; expected "
                f"{EXPECTED}"
            )
        read = _timm(text, path, options)
    shared = shared_counts(read.records)
    if shared:
        read.notes.append(
            f"{shared} rows share counts with another row: kept, each its own measurement "
            "(folds go by model name)"
        )
    return read


def setting_of(read: Read, options: FitOptions) -> tuple[str, Setting]:
    """The device and setting: each option given wins over what the file says."""
    stated = read.stated
    chosen = {
        "mode": options.mode or stated.mode or "inference",
        "batch": options.batch_size if options.batch_size is not None else stated.batch_size,
        "dtype": options.dtype or stated.dtype or UNSTATED,
        "amp": options.amp if options.amp is not None else bool(stated.amp),
        "layout": options.channels_last
        if options.channels_last is not None
        else stated.channels_last,
        "compiled": options.compiled if options.compiled is not None else stated.compiled,
    }
    given = [
        name
        for name, value in (
            ("--device", options.device),
            ("--dtype", options.dtype),
            ("--amp", options.amp),
            ("--batch-size", options.batch_size),
            ("--channels-last", options.channels_last),
            ("--compile", options.compiled),
            ("--mode", options.mode),
        )
        if value is not None
    ]
    source = "scalecalc bench" if read.kind == "bench" else "timm benchmark.py"
    parts = [f"measured by {source}", *stated.versions, *stated.notes]
    if given:
        parts.append("set by " + ", ".join(given))
    setting = Setting(
        chosen["mode"],
        chosen["batch"],
        chosen["dtype"],
        chosen["amp"],
        "; ".join(parts),
        chosen["layout"],
        chosen["compiled"],
    )
    return options.device or stated.device or UNSTATED, setting


def fit_user_file(path: Path, name: str, options: FitOptions) -> tuple[Profile, list[str]]:
    """A profile of the user's device from a bench JSON or timm CSV, validated by
    options.validation, and the lines that say how the file was read."""
    read = read_user_file(path, options)
    device, setting = setting_of(read, options)
    method = VALIDATIONS[options.validation]
    try:
        profile = fit_profile(
            read.records,
            name=name,
            device=device,
            convention=read.convention,
            setting=setting,
            source=Source(safe_text(path), "", "", 0, 0, "; ".join(read.notes)),
            method=method,
        )
    except ValueError as error:
        raise ProfileError(f"{safe_text(path)}: {error}") from None
    return profile, read.notes
