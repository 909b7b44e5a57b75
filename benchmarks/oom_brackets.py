"""The largest batch that fits in 24 GiB, predicted, against timm's out-of-memory brackets.

timm's benchmark.py (revision 0dbd935, July 2022, the one of its torch 1.12 / CUDA 11.3 runs)
trained each model on an RTX 3090 with torch.cuda.amp.autocast (float16, no GradScaler),
CrossEntropyLoss, SGD (nesterov, momentum 0.9, as timm's create_optimizer_v2 makes 'sgd') and
cudnn.benchmark, starting at batch 512 and, after each out-of-memory error, stepping the batch
down timm's ladder (timm.utils.decay_batch_step: 512, 384, 256, 192, 128, 96, 64, 48, ...). So a
row's `train_batch_size` B brackets the largest batch that fit: [B, the ladder step above B);
a row at 512 is censored (it fit at the top and says no more).

The prediction is scalecalc's `compare --max-batch 24GiB --amp --train --optimizer sgd`: the
meta-device trace of a float16 autocast step (scalecalc.nn.memory) in CUDA blocks, its device
view (scalecalc.devicememory: allocator reserve, cuBLAS workspace, CUDA context) and the largest
batch whose view fits (scalecalc.nn.devicebatch). Rows: every row of the nchw train CSV whose
model is a scalecalc spec (benchmarks/timmnames.py), at its `train_img_size`.

Run: python benchmarks/oom_brackets.py [--csv FILE] [--include GLOB] (about 2 s a model; the
79 rows take 3 to 5 minutes on one core).
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pycls_zoo import refuse  # noqa: E402
from timmnames import timm_spec  # noqa: E402

from scalecalc.devicememory import device_view  # noqa: E402
from scalecalc.profile.data import timm_family  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "data/published/timm/benchmark-train-amp-nchw-pt112-cu113-rtx3090.csv"
DEVICE = 24 * 2**30  # the RTX 3090's memory
START = 512  # timm's benchmark.py starting batch for these runs


def decay_batch_step(batch_size: int) -> int:
    """timm.utils.decay_batch_step with its defaults (two steps per power of two, odd allowed)."""
    if batch_size <= 1:
        return 0
    base = int(2 ** (math.log(batch_size - 1) // math.log(2)))
    step = max(base // 2, 1)
    return base + ((batch_size - base - 1) // step) * step


def ladder(start: int = START) -> list[int]:
    """The batches timm tries, largest first."""
    batches = [start]
    while batches[-1] > 1:
        batches.append(decay_batch_step(batches[-1]))
    return batches


def bracket(batch: int) -> tuple[int, int | None]:
    """[batch, the ladder step above it); None above the start (censored)."""
    steps = ladder()
    index = steps.index(batch)
    return batch, (steps[index - 1] if index else None)


def steps_off(predicted: int, batch: int) -> int:
    """Ladder steps from the bracket to where the prediction lands: 0 inside, +1 one above."""
    steps = ladder()
    landing = next((b for b in steps if b <= predicted), None)
    if landing is None:
        return -(len(steps) - steps.index(batch))
    return steps.index(batch) - steps.index(landing)


def rows(path: Path, include: str) -> list[tuple[str, str, int, int]]:
    """(model, family, image size, timm's batch) of every row scalecalc can build."""
    found = []
    with path.open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            model, family = row["model"], timm_family(row["model"])
            size = int(row["train_img_size"])
            if family and fnmatch.fnmatch(model, include) and timm_spec(model, size):
                found.append((model, family, size, int(row["train_batch_size"])))
    return found


def predict(model: str, size: int, batch: int) -> tuple[int, int]:
    """(the predicted largest batch in DEVICE, the traced tensor peak at timm's batch)."""
    from scalecalc.nn.devicebatch import device_max_batch
    from scalecalc.nn.memory import spec_step

    spec = timm_spec(model, size)
    assert spec is not None
    step = spec_step(spec, "float16", True, "sgd", "cuda", amp=True)
    return device_max_batch(step, DEVICE), step.estimate(batch).total_bytes


def main() -> None:
    """Print the table, the hits per family and in all."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=CSV, help="timm's train CSV (default: nchw)")
    parser.add_argument("--include", default="*", help="models matching this glob only")
    args = parser.parse_args()
    if not args.csv.is_file():
        refuse(f"--csv: no such file: {args.csv}")
    chosen = rows(args.csv, args.include)
    if not chosen:
        refuse(f"--include: no row's model matches {args.include!r} and is a scalecalc spec")
    start = time.perf_counter()
    print(
        "| model | family | px | bracket | predicted | peak at B (GiB) | device at B (GiB) |",
        end="",
    )
    print(" in | off |")
    print("| :--- | :--- | ---: | :--- | ---: | ---: | ---: | :---: | ---: |")
    by_family: dict[str, list[int]] = defaultdict(list)
    for model, family, size, batch in chosen:
        predicted, peak = predict(model, size, batch)
        low, high = bracket(batch)
        shown = f"[{low}, {high})" if high else f">= {low} (censored)"
        if high is None:
            hit, off = "-", "-"
        else:
            by_family[family].append(steps_off(predicted, batch))
            off_by = by_family[family][-1]
            hit, off = ("yes" if off_by == 0 else "no"), f"{off_by:+d}"
        total = device_view(peak).total
        print(
            f"| {model} | {family} | {size} | {shown} | {predicted} | {peak / 2**30:.2f} | "
            f"{total / 2**30:.2f} | {hit} | {off} |"
        )
    print()
    everything = [off for offs in by_family.values() for off in offs]
    for family, offs in sorted(by_family.items()):
        inside = sum(off == 0 for off in offs)
        print(f"{family}: {inside}/{len(offs)} in bracket, steps off {sorted(set(offs))}")
    inside = sum(off == 0 for off in everything)
    share = inside / len(everything) if everything else 0.0
    print(
        f"all: {inside}/{len(everything)} uncensored rows in bracket ({share:.0%}); most steps "
        f"above: {max(everything, default=0)}; {len(chosen) - len(everything)} censored rows; "
        f"{time.perf_counter() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
