"""The rtx3090-train profile: timm's training throughput joined with counts, its validation,
and what `profile show` says it predicts."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pytest

from scalecalc.profile.document import BUILTIN_DIR, load_profile
from scalecalc.profile.model import predict
from scalecalc.profile.data import BUILTINS
from scalecalc.profile.fit import held_out, profile_form, spearman
from scalecalc.profile.train import timm_train_records

REPO = Path(__file__).resolve().parent.parent
TIMM = REPO / "data" / "published" / "timm"
TRAIN = TIMM / "benchmark-train-amp-nchw-pt112-cu113-rtx3090.csv"
COUNTS = TIMM / "benchmark-infer-amp-nchw-pt113-cu117-rtx3090.csv"


def test_records_join_counts_at_the_training_image_size() -> None:
    records, dropped = timm_train_records(TRAIN, COUNTS)
    by_name = {r.name: r for r in records}
    # resnet50: train 826.06 img/s at 224 px; infer file at 224 px: 4.11 GMACs, 11.11 M acts.
    resnet50 = by_name["resnet50"]
    assert resnet50.seconds == pytest.approx(1 / 826.06, rel=1e-12)
    assert (resnet50.flops, resnet50.acts, resnet50.params) == pytest.approx(
        (4.11e9, 11.11e6, 25.56e6), rel=1e-12
    )
    assert resnet50.family == "resnet"
    # resnet10t trains at 176 px but its counts are published at 224 px only: dropped.
    assert "resnet10t" not in by_name
    # 838 data rows: 681 kept, the rest dropped for one stated reason each.
    assert len(records) == 681 and len(records) + sum(dropped.values()) == 838
    assert dropped["no counts at the training image size"] == 157


def test_validation_reaches_the_issue_targets() -> None:
    """5-fold by model: median error <= 15% on rows of a scalecalc family, <= 20% overall,
    Spearman >= 0.95; and the shipped file states what a fresh validation gives."""
    shipped = load_profile("rtx3090-train")
    records = BUILTINS["rtx3090-train"].records(TIMM.parent)
    predicted = held_out(records, profile_form(shipped), "5-fold")
    errors = [abs(p / r.seconds - 1) * 100 for p, r in zip(predicted, records)]
    family = [e for e, r in zip(errors, records) if r.family is not None]
    assert len(family) == 134  # 132 before Wide ResNet-50-2 and -101-2 joined "resnet"
    assert statistics.median(family) <= 15
    assert statistics.median(errors) <= 20
    rho = spearman(predicted, [r.seconds for r in records])
    assert rho >= 0.95
    assert shipped.validation.median_abs_pct_error == pytest.approx(statistics.median(errors))
    assert shipped.validation.spearman == pytest.approx(rho)
    assert shipped.validation.method == "5-fold" and shipped.validation.rows == 681


def test_prediction_from_the_file_by_hand_is_near_the_measurement() -> None:
    document = json.loads((BUILTIN_DIR / "rtx3090-train.json").read_text(encoding="utf-8"))
    assert document["model"]["form"] == "roofline"
    overhead = document["model"]["intercepts"]["resnet"]
    costs = document["model"]["costs"]["resnet"]
    # resnet50, timm's counts: (overheadᵖ + computeᵖ + memoryᵖ)^(1/p), p the blend
    p = document["model"]["blend"]
    parts = (
        math.exp(overhead),
        4.11e9 * math.exp(costs["flops"]),
        11.11e6 * math.exp(costs["acts"]),
    )
    seconds = sum(part**p for part in parts) ** (1 / p)
    got = predict(load_profile("rtx3090-train"), 4.11e9, 25.56e6, 11.11e6, "resnet")
    assert got.seconds_per_image == pytest.approx(seconds, rel=1e-12)
    assert got.images_per_second == pytest.approx(826.06, rel=0.15)  # measured training img/s


def test_the_profile_says_it_predicts_training_at_its_precision_and_batch() -> None:
    train = load_profile("rtx3090-train")
    setting = train.setting
    assert (setting.mode, setting.dtype, setting.amp) == ("train", "float16", True)
    assert "a training step, float16 AMP, batch 512" in train.describe()
    assert "inference, float16 AMP, batch 1024" in load_profile("rtx3090").describe()
    assert "a training step, float32, batch varies" in load_profile("v100-pycls-train").describe()
