"""Training measurements as fitting records: timm's `benchmark-train-*.csv` joined with an
inference file of the same era for the counts it lacks."""

from __future__ import annotations

import csv
import math
from collections import Counter
from pathlib import Path

from scalecalc.profile.fit import FitRecord
from scalecalc.profile.timmcsv import timm_record

TRAIN_FILTERS = (
    "timm's training throughput (forward + backward + SGD step) joined on (model, image size) "
    "with the inference file of the same era for fvcore counts (infer_gmacs, infer_macts); "
    "dropped: models without counts at their training image size, the test_* models, rows with "
    "a missing, non-numeric or non-positive value, and repeats"
)


def _numbers(row: dict[str, str], keys: tuple[str, ...]) -> tuple[float, ...] | None:
    """The row's values of `keys` as finite positive floats, or None."""
    try:
        values = tuple(float(row[key]) for key in keys)
    except (KeyError, TypeError, ValueError):
        return None
    return values if all(math.isfinite(v) and v > 0 for v in values) else None


def timm_train_records(train: Path, counts: Path) -> tuple[list[FitRecord], Counter[str]]:
    """Records of a timm `benchmark-train-*.csv` (images/s of a training step) with the counts
    of `counts` (a `benchmark-infer-*.csv`) at the same image size, and how many rows each
    filter dropped."""
    with counts.open(encoding="utf-8", newline="") as file:
        counted = {(r["model"], r["infer_img_size"]): r for r in csv.DictReader(file)}
    records: list[FitRecord] = []
    seen: set[tuple[str, str]] = set()
    dropped: Counter[str] = Counter()
    with train.open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            model, size = row["model"], row["train_img_size"]
            other = counted.get((model, size))
            throughput = _numbers(row, ("train_samples_per_sec", "param_count"))
            found = None if other is None else _numbers(other, ("infer_gmacs", "infer_macts"))
            if model.startswith("test_"):
                dropped["test_* model"] += 1
            elif other is None:
                dropped["no counts at the training image size"] += 1
            elif throughput is None or found is None:
                dropped["missing, non-numeric or non-positive value"] += 1
            elif (model, size) in seen:
                dropped["repeated (model, image size)"] += 1
            else:
                seen.add((model, size))
                (per_second, mparams), (gmacs, macts) = throughput, found
                records.append(timm_record(model, gmacs, mparams, macts, per_second))
    return records, dropped
