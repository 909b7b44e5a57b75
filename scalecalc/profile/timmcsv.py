"""A user's timm benchmark CSV (as timm's benchmark.py writes it) as fitting records, with what
its name and columns say about how it was measured."""

from __future__ import annotations

import csv
import io
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass

from scalecalc.errors import ProfileError, safe_text
from scalecalc.profile.data import timm_family
from scalecalc.profile.fit import FitRecord

# Columns each kind of timm file has; the counts (fvcore GMACs and M activations) come from
# the inference columns, param_count (M) from either.
INFER = ("infer_samples_per_sec", "infer_img_size", "infer_batch_size")
COUNTS = ("infer_gmacs", "infer_macts", "param_count")
TRAIN = ("train_samples_per_sec", "train_img_size", "train_batch_size", "param_count")
PREFIX = {"inference": "infer", "train": "train"}
# Tokens of timm's file names (benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv): precision,
# layout, torch and CUDA versions, compile; what is left names the device.
PRECISION = {
    "amp": ("float16", True),
    "fp32": ("float32", False),
    "fp16": ("float16", False),
    "bf16": ("bfloat16", False),
    "amp_bf16": ("bfloat16", True),
}
LAYOUT = {"nchw": False, "nhwc": True}
COMPILED = ("dynamo", "compile", "inductor")
# pt240: torch 2.4.0, pt113: torch 1.13 (a 1.x minor has two digits); cu124: CUDA 12.4.
VERSION = re.compile(r"(pt|cu)(\d{2,4})$")


@dataclass(frozen=True)
class FileSetting:
    """What a timm file's name and columns say: each None (or "") where they say nothing."""

    mode: str | None = None
    dtype: str | None = None
    amp: bool | None = None
    channels_last: bool | None = None
    compiled: bool | None = None
    batch_size: int | None = None
    device: str = ""
    versions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def header_of(text: str) -> list[str]:
    """The column names on a CSV text's first line (quoted or not)."""
    return next(csv.reader([text.split("\n", 1)[0].strip()]), [])


def is_timm_header(header: list[str]) -> bool:
    """Whether a CSV header is a timm benchmark file's: a model column and a throughput."""
    return "model" in header and any(f"{p}_samples_per_sec" in header for p in PREFIX.values())


def setting_from_name(name: str) -> FileSetting:
    """The setting a timm file name (benchmark-*.csv) states, token by token; tokens it does
    not know name the device. Other names state nothing."""
    stem = name.rsplit("/", 1)[-1].removesuffix(".csv")
    tokens = stem.split("-")
    if tokens[0] != "benchmark":
        return FileSetting()
    tokens = tokens[1:]
    mode = dtype = amp = layout = compiled = None
    versions, device = [], []
    for token in tokens:
        lowered = token.lower()
        if lowered in ("infer", "train"):
            mode = "inference" if lowered == "infer" else "train"
        elif lowered in PRECISION:
            dtype, amp = PRECISION[lowered]
        elif lowered in LAYOUT:
            layout = LAYOUT[lowered]
        elif lowered in COMPILED:
            compiled = True
        elif VERSION.match(lowered):
            versions.append(_version(lowered))
        else:
            device.append(token)
    return FileSetting(mode, dtype, amp, layout, compiled, None, "-".join(device), tuple(versions))


def _version(token: str) -> str:
    """A version token as timm writes it, read: pt240 -> torch 2.4.0, pt113 -> torch 1.13,
    cu124 -> CUDA 12.4."""
    digits = token[2:]
    if token.startswith("cu"):
        return f"CUDA {digits[:2]}.{digits[2:] or 0}"
    if digits[0] == "1":
        return f"torch 1.{digits[1:]}"
    return "torch " + ".".join(digits)


def timm_record(
    model: str, gmacs: float, mparams: float, macts: float, per_second: float
) -> FitRecord:
    """A fitting record from timm's units: GMACs, M params, M acts and images/s."""
    return FitRecord(
        model, timm_family(model), gmacs * 1e9, mparams * 1e6, macts * 1e6, 1 / per_second
    )


def _number(row: dict[str, str | None], key: str) -> float | None:
    """The row's `key` as a finite positive float, or None."""
    try:
        value = float(row.get(key) or "")
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def _rows(text: str, origin: str) -> tuple[list[str], list[dict[str, str | None]]]:
    """The header and rows of CSV text; csv's own errors (a field over its size limit, a stray
    quote) as one ProfileError with the line."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = list(reader.fieldnames or [])
        return header, list(reader)
    except csv.Error as error:
        # line_num counts the lines read whole; the error lies in the next one
        line = reader.line_num + 1
        raise ProfileError(f"{origin}: line {line}: not readable CSV ({error})") from None


def counts_by_size(text: str, origin: str) -> dict[tuple[str, str], tuple[float, float]]:
    """(model, image size) -> (GMACs, M acts) of a timm inference CSV, for a training file."""
    header, rows = _rows(text, origin)
    missing = [c for c in ("model", "infer_img_size", *COUNTS[:2]) if c not in header]
    if missing:
        raise ProfileError(
            f"{origin}: column {missing[0]!r} missing; --counts takes a timm inference CSV "
            "with model, infer_img_size, infer_gmacs and infer_macts"
        )
    found = {}
    for row in rows:
        gmacs, macts = _number(row, "infer_gmacs"), _number(row, "infer_macts")
        if gmacs is not None and macts is not None:
            found.setdefault(
                (row.get("model") or "", row.get("infer_img_size") or ""), (gmacs, macts)
            )
    return found


@dataclass(frozen=True)
class TimmRead:
    """A timm file's records, what each filter dropped, and the setting its columns state."""

    records: list[FitRecord]
    dropped: Counter[str]
    setting: FileSetting


def read_timm(
    text: str,
    origin: str,
    mode: str | None,
    counts: dict[tuple[str, str], tuple[float, float]] | None = None,
) -> TimmRead:
    """Records of a timm benchmark CSV in `mode` (default: inference when the file has its
    columns, else train); a training file takes its counts from `counts` or its own infer_*
    columns at the training image size."""
    header, rows = _rows(text, origin)
    has = {m: f"{p}_samples_per_sec" in header for m, p in PREFIX.items()}
    mode = mode or ("inference" if has["inference"] else "train")
    needed = list(INFER if mode == "inference" else TRAIN)
    if mode == "inference" or counts is None:
        needed += [c for c in COUNTS if c not in needed]
    missing = [c for c in ("model", *needed) if c not in header]
    if missing:
        hint = " (or give --counts INFER.csv)" if mode == "train" and counts is None else ""
        raise ProfileError(
            f"{origin}: column {missing[0]!r} missing for {mode} times{hint}; a timm benchmark "
            f"CSV of {mode} has columns model, {', '.join(needed)}"
        )
    prefix = PREFIX[mode]
    records: list[FitRecord] = []
    seen: set[tuple[str, str]] = set()
    dropped: Counter[str] = Counter()
    batches: list[int] = []
    for row in rows:
        model, size = row.get("model") or "", row.get(f"{prefix}_img_size") or ""
        throughput, mparams = _number(row, f"{prefix}_samples_per_sec"), _number(row, "param_count")
        if counts is not None and mode == "train":
            gmacs, macts = counts.get((model, size), (None, None))
            uncounted = (model, size) not in counts
        else:
            gmacs, macts = _number(row, "infer_gmacs"), _number(row, "infer_macts")
            uncounted = mode == "train" and row.get("infer_img_size") != size
        if not model or model.startswith("test_"):
            dropped["test_* or unnamed model"] += 1
        elif uncounted:
            dropped["no counts at the training image size"] += 1
        elif None in (throughput, mparams, gmacs, macts):
            dropped["missing, non-numeric, non-finite or non-positive value"] += 1
        elif (model, size) in seen:
            dropped["repeated (model, image size): first row kept"] += 1
        else:
            seen.add((model, size))
            assert throughput and mparams and gmacs and macts
            records.append(timm_record(model, gmacs, mparams, macts, throughput))
            batch = _number(row, f"{prefix}_batch_size")
            if batch is not None and batch == int(batch):
                batches.append(int(batch))
    if not records:
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(dropped.items())) or "no rows"
        raise ProfileError(f"{origin}: no usable {mode} row ({reasons})")
    return TimmRead(records, dropped, _column_setting(mode, batches))


def _column_setting(mode: str, batches: list[int]) -> FileSetting:
    """The mode and the batch most rows ran at; a note when some ran at smaller batches."""
    if not batches:
        return FileSetting(mode=mode)
    batch = statistics.mode(batches)
    smaller = sum(1 for b in batches if b != batch)
    notes = (f"batch {batch} ({smaller} rows at other batch sizes)",) if smaller else ()
    return FileSetting(mode=mode, batch_size=batch, notes=notes)


def describe_header(header: list[str]) -> str:
    """A header for an error message: its first columns, escaped."""
    shown = ", ".join(header[:8]) + (", ..." if len(header) > 8 else "")
    return safe_text(shown, 160)
