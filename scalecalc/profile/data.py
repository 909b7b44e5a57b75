"""Measured times as fitting records: timm's benchmark CSVs, pycls's model zoo, `bench` JSON."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scalecalc.bench.results import BenchFile, read_bench
from scalecalc.errors import ProfileError
from scalecalc.profile.model import Profile, Setting, Source
from scalecalc.profile.fit import FitRecord, fit_profile

# timm model names that are the same design as a scalecalc family, for a per-family intercept.
# Narrow on purpose: variants with other blocks (ConvNeXt-V2's GRN, RegNetZ, EfficientNet-V2,
# hybrid or windowed ViTs under other names) stay in "other", as do ConvNeXt's RMSNorm (_rms),
# overlapping-stem (_ols) and head-norm-first (_hnf, _hnfd) variants: at the same counts they
# run 1.1-1.25x slower than the plain design on the timm RTX 4090 file (convnext_tiny_hnf 256 µs
# per image, convnext_tiny 208 µs), which priced the plain ConvNeXts' widening wrong when they
# shared its costs.
TIMM_FAMILIES = (
    ("resnet", re.compile(r"(resnet|resnext|wide_resnet)\d+[a-z]*(_\d+x\d+d|_2)?$")),
    ("regnet", re.compile(r"regnet[xy]_\d+")),
    ("vit", re.compile(r"(vit_|deit_|deit3_)")),
    (
        "convnext",
        re.compile(
            r"convnext_(atto|femto|pico|nano|tiny|small|base|large|xlarge|xxlarge)(_mlp)?"
            r"(_384)?(_in22ft1k)?$"
        ),
    ),
    ("efficientnet", re.compile(r"(tf_)?efficientnet_b\d")),
)
# pycls zoo names -> (config path under configs/dds_baselines, scalecalc family)
PYCLS_PREFIXES = {
    "RegNetX": ("regnetx/RegNetX-{}", "regnet"),
    "RegNetY": ("regnety/RegNetY-{}", "regnet"),
    "ResNet": ("resnet/R-{}-1x64d", "resnet"),
    "ResNeXt": ("resnext/X-{}-32x4d", "resnet"),
    "EfficientNet": ("effnet/EN-{}", "efficientnet"),
}
TIMM_FILTERS = (
    "dropped rows with a missing, non-numeric or non-positive count or throughput, the test_* "
    "models (random tiny nets), and repeats of a (model, image size) pair; the same model at "
    "several image sizes stays (its counts are at that size) and shares one fold"
)


def timm_family(model: str) -> str | None:
    """The scalecalc family a timm model name belongs to, or None."""
    for family, pattern in TIMM_FAMILIES:
        if pattern.match(model):
            return family
    return None


def timm_records(path: Path) -> tuple[list[FitRecord], Counter[str]]:
    """Records of a timm `benchmark-infer-*.csv` (fvcore counts in GMACs, M acts, M params;
    throughput in images/s) and how many rows each filter dropped."""
    records, seen, dropped = [], set(), Counter()
    with path.open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            model = row["model"]
            try:
                flops = float(row["infer_gmacs"]) * 1e9
                acts = float(row["infer_macts"]) * 1e6
                params = float(row["param_count"]) * 1e6
                throughput = float(row["infer_samples_per_sec"])
            except ValueError:
                dropped["missing or non-numeric value"] += 1
                continue
            if not all(math.isfinite(v) and v > 0 for v in (flops, acts, params, throughput)):
                dropped["non-positive value"] += 1
            elif model.startswith("test_"):
                dropped["test_* model"] += 1
            elif (model, row["infer_img_size"]) in seen:
                dropped["repeated (model, image size)"] += 1
            else:
                seen.add((model, row["infer_img_size"]))
                family = timm_family(model)
                records.append(FitRecord(model, family, flops, params, acts, 1.0 / throughput))
    return records, dropped


def pycls_config(name: str) -> tuple[str, str]:
    """The config path (relative to pycls's root) and scalecalc family of a zoo model name."""
    prefix, rest = name.split("-", 1)
    pattern, family = PYCLS_PREFIXES[prefix]
    return f"configs/dds_baselines/{pattern.format(rest)}_dds_8gpu.yaml", family


def pycls_records(directory: Path, mode: str) -> list[FitRecord]:
    """Records of pycls's zoo timings: per-batch seconds over the images per GPU of the config
    (inference: TEST.BATCH_SIZE / NUM_GPUS; train: TRAIN.BATCH_SIZE / NUM_GPUS, fw + bw)."""
    import yaml

    timing = json.loads((directory / "model_timing.json").read_text(encoding="utf-8"))
    complexity = json.loads((directory / "model_complexity.json").read_text(encoding="utf-8"))
    records = []
    for name in sorted(k for k in timing if k != "date-created"):
        path, family = pycls_config(name)
        config = yaml.safe_load((directory / path).read_text(encoding="utf-8"))
        key, column = (
            ("TEST", "test_fw_time") if mode == "inference" else ("TRAIN", "train_fw_bw_time")
        )
        per_gpu = config[key]["BATCH_SIZE"] / config["NUM_GPUS"]
        counts = complexity[path]
        seconds = timing[name][column] / per_gpu
        records.append(
            FitRecord(name, family, counts["flops"], counts["params"], counts["acts"], seconds)
        )
    return records


def bench_records(path: Path) -> tuple[Mapping[str, Any], list[FitRecord]]:
    """The setup and one record per distinct model of a `scalecalc bench --format json` file,
    read and validated by bench.results.read_bench."""
    measured = read_bench(path, ProfileError)
    return measured.setup, records_of_bench(measured)


def records_of_bench(measured: BenchFile) -> list[FitRecord]:
    """One record per distinct model of a validated bench file: its seconds per image."""
    return [
        FitRecord(
            row["key"],
            row["family"],
            float(row["flops"]),
            float(row["params"]),
            float(row["acts"]),
            row["runtime"]["median_s"] / row["runtime"]["batch_size"],
        )
        for row in measured.distinct()
    ]


TIMM = ("huggingface/pytorch-image-models, results/", "aa4b5850c1543fa488abf260f18390eda46cf85d")
PYCLS = ("facebookresearch/pycls, dev/", "5719de641657c251f807c20a1fcf8ef6f4b60144")
TIMM_NOTE = "AMP, NCHW, batch 1024 (lower for models that do not fit)"
PYCLS_NOTE = (
    "8 GPUs timed at once, each on the per-GPU batch of the model's config "
    "({}.BATCH_SIZE / NUM_GPUS); torch 1.6, CUDA 10.0, cuDNN 7.6"
)


@dataclass(frozen=True)
class Builtin:
    """How a shipped profile is fitted: its data file (under data/published) and its setting."""

    data: str
    device: str
    convention: str
    setting: Setting
    origin: tuple[str, str]
    license: str
    device_memory: int | None = None  # bytes; None for a CPU
    counts: str = ""  # for a training file without counts: the inference file that has them

    def records(self, root: Path) -> list[FitRecord]:
        """The fitting records from the copy of the published data under `root`."""
        path = root / self.data
        if self.counts:
            from scalecalc.profile.train import timm_train_records

            return timm_train_records(path, root / self.counts)[0]
        if path.suffix == ".csv":
            return timm_records(path)[0]
        return pycls_records(path, self.setting.mode)


BUILTINS = {
    "rtx3090": Builtin(
        "timm/benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv",
        "NVIDIA GeForce RTX 3090",
        "fvcore",
        Setting("inference", 1024, "float16", True, f"{TIMM_NOTE}; torch 2.4.0, CUDA 12.4"),
        TIMM,
        "Apache-2.0",
        24 * 2**30,
    ),
    "rtx4090": Builtin(
        "timm/benchmark-infer-amp-nchw-pt291-cu128-4090.csv",
        "NVIDIA GeForce RTX 4090",
        "fvcore",
        Setting("inference", 1024, "float16", True, f"{TIMM_NOTE}; torch 2.9.1, CUDA 12.8"),
        TIMM,
        "Apache-2.0",
        24 * 2**30,
    ),
    "rtx5090": Builtin(
        "timm/benchmark-infer-amp-nchw-pt291-cu130-5090.csv",
        "NVIDIA GeForce RTX 5090",
        "fvcore",
        Setting("inference", 1024, "float16", True, f"{TIMM_NOTE}; torch 2.9.1, CUDA 13.0"),
        TIMM,
        "Apache-2.0",
        32 * 2**30,
    ),
    "cpu-i9-10940x": Builtin(
        "timm/benchmark-infer-fp32-nchw-pt240-cpu-i9_10940x-dynamo.csv",
        "Intel Core i9-10940X (CPU)",
        "fvcore",
        Setting("inference", 1, "float32", False, "NCHW, torch 2.4.0 with torch.compile"),
        TIMM,
        "Apache-2.0",
    ),
    "v100-pycls-infer": Builtin(
        "pycls",
        "NVIDIA Tesla V100 16GB",
        "paper",
        Setting("inference", None, "float32", False, PYCLS_NOTE.format("TEST")),
        PYCLS,
        "MIT",
        16 * 2**30,
    ),
    "v100-pycls-train": Builtin(
        "pycls",
        "NVIDIA Tesla V100 16GB",
        "paper",
        Setting(
            "train", None, "float32", False, "forward + backward; " + PYCLS_NOTE.format("TRAIN")
        ),
        PYCLS,
        "MIT",
        16 * 2**30,
    ),
    "rtx3090-train": Builtin(
        "timm/benchmark-train-amp-nchw-pt112-cu113-rtx3090.csv",
        "NVIDIA GeForce RTX 3090",
        "fvcore",
        Setting(
            "train",
            512,
            "float16",
            True,
            "forward + backward + SGD step; AMP, NCHW, batch 512 (lower for models that do not "
            "fit); torch 1.12, CUDA 11.3; counts from the torch 1.13 inference file",
        ),
        TIMM,
        "Apache-2.0",
        24 * 2**30,
        counts="timm/benchmark-infer-amp-nchw-pt113-cu117-rtx3090.csv",
    ),
}


def fit_builtin(
    name: str, root: Path, measures: tuple[str, ...] | None = None, families: bool = True
) -> Profile:
    """Fit the shipped profile `name` from the published data under `root` (data/published)."""
    spec = BUILTINS[name]
    is_timm = spec.data.endswith(".csv")
    repository, commit = spec.origin
    filters = (
        TIMM_FILTERS if is_timm else "the 36 model-zoo models; configs give batch size and GPUs"
    )
    if spec.counts:
        from scalecalc.profile import train as profile_train

        filters = profile_train.TRAIN_FILTERS
    fitted = fit_profile(
        spec.records(root),
        name=name,
        device=spec.device,
        convention=spec.convention,
        setting=spec.setting,
        source=Source(
            f"{repository}{Path(spec.data).name if is_timm else 'model_timing.json, model_complexity.json'}",
            commit,
            spec.license,
            0,
            0,
            filters,
        ),
        method="5-fold" if is_timm else "leave-one-out",
        measures=measures,
        families=families,
    )
    return dataclasses.replace(fitted, device_memory=spec.device_memory)
