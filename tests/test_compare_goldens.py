"""`compare`'s golden files, and every number in them pinned by an independent check.

The golden files are the code's own output, so they only catch change. What makes them right is
checked here from other sources: base models against published counts, scaled shapes against a
hand-written reference scaler (docs/counting.md, Rules per family; written here from the rules,
not from the code), every count against the meta counter (a traced forward pass, not the
analytic sums), ratios, rankings and exponents recomputed from those counts, and every number in
the markdown and CSV against the JSON.

Regenerate the golden files after an intended change with
`SCALECALC_UPDATE_GOLDEN=1 python -m pytest tests/test_compare_goldens.py` and review the diff.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from reference import PUBLISHED, agrees

from scalecalc.compare import run as compare
from scalecalc.compare import report as compare_report
from scalecalc.api import count
from scalecalc.config import spec_from_fields
from scalecalc.registry import get_family
from scalecalc.sweep import expand
from scalecalc.sweep_file import make_sweep

DATA = Path(__file__).parent / "data"
UPDATE = os.environ.get("SCALECALC_UPDATE_GOLDEN") == "1"
# Golden files leave flops targets out: the solver's factors are its own to change.
SMALL = make_sweep(["regnetx_400mf", "resnet50"], ["w", "dWr"], [2, 4])
# (d, w, g, r) weights of the sweep's strategies (docs/counting.md, Scaling strategies).
WEIGHTS = {"w": (0, 1, 0, 0), "dWr": (1, 8, 8, 1)}
# The bases as published: ResNet-50 (torchvision; one group per bottleneck) and RegNetX-400MF
# (pycls: depth 22, w0 24, wa 24.48, wm 2.54, group width 16, expanded to stages).
BASE_SHAPES = {
    "regnetx_400mf": ((1, 2, 7, 12), (32, 64, 160, 384), (16, 16, 16, 16), 1.0),
    "resnet50": ((3, 4, 6, 3), (256, 512, 1024, 2048), (64, 128, 256, 512), 0.25),
}


def check_golden(name: str, text: str) -> None:
    path = DATA / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs; see the module docstring"


@pytest.fixture(scope="module")
def small_rows() -> list[compare.CompareRow]:
    return compare.run(expand(SMALL))


def test_golden_markdown(small_rows: list[compare.CompareRow]) -> None:
    check_golden(
        "compare_small.md", compare_report.to_markdown(small_rows, compare.exponents(small_rows))
    )


def test_golden_json(small_rows: list[compare.CompareRow]) -> None:
    text = compare_report.to_json(small_rows, compare.exponents(small_rows), "paper")
    check_golden("compare_small.json", text)
    data = json.loads(text)
    assert list(data) == sorted(data) == ["convention", "exponents", "rows", "summary"]
    assert all(isinstance(r[m], int) for r in data["rows"] for m in ("flops", "params", "acts"))


def test_golden_csv(small_rows: list[compare.CompareRow]) -> None:
    check_golden("compare_small.csv", compare_report.to_csv(small_rows))


# The independent checks, on the golden files as they are on disk.


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    return json.loads((DATA / "compare_small.json").read_text(encoding="utf-8"))


def reference_shape(base: str, strategy: str, s: float) -> dict[str, Any]:
    """Depths, widths, group widths and resolution by the paper's reference scaling rules."""
    depths, widths, group_widths, ratio = BASE_SHAPES[base]
    w_d, w_w, w_g, w_r = WEIGHTS[strategy]
    total = w_d + w_w + w_r
    d, w, g, r = (s ** (x / total) for x in (w_d, w_w / 2, w_g / 2, w_r / 2))
    new_widths, new_groups = [], []
    for width, group in zip(widths, group_widths):
        width = max(1, round(width * w / 8)) * 8
        group = max(1, round(group * g))
        group = group if group <= 2 else 4 if group <= 5 else round(group / 8) * 8
        inner = max(1, width * ratio)  # the compatibility step: bottleneck on a group multiple
        group = min(group, inner)
        step = math.lcm(int(group), int(ratio)) if ratio > 1 else group
        inner = max(step, round(inner / step) * step)
        new_widths.append(int(inner / ratio))
        new_groups.append(int(group))
    return {
        "depths": [max(1, round(x * d)) for x in depths],
        "widths": new_widths,
        "group_widths": new_groups,
        "resolution": round(224 * r / 4) * 4,
    }


def test_golden_shapes_follow_the_reference_rules(golden: dict[str, Any]) -> None:
    assert len(golden["rows"]) == 10
    for row in golden["rows"]:
        if row["strategy"] is None:
            depths, widths, groups, _ = BASE_SHAPES[row["base"]]
            expected = {"depths": depths, "widths": widths, "group_widths": groups}
            expected = {k: list(v) for k, v in expected.items()} | {"resolution": 224}
        else:
            expected = reference_shape(row["base"], row["strategy"], row["factor"])
        shape = {key: row["spec"][key] for key in expected}
        assert shape == expected, row["key"]
        assert [row[k] for k in ("depths", "widths", "resolution")] == [
            expected[k] for k in ("depths", "widths", "resolution")
        ]


def test_golden_counts_match_published_values_and_the_meta_counter(
    golden: dict[str, Any],
) -> None:
    measured: dict[str, tuple[int, int, int]] = {}
    for row in golden["rows"]:
        fields = {k: v for k, v in row["spec"].items() if k != "family"}
        spec = spec_from_fields(get_family(row["family"]), fields, row["key"])
        if spec not in measured:
            traced = count(spec, counter="meta")
            measured[spec] = (traced.flops, traced.params, traced.acts)
        assert (row["flops"], row["params"], row["acts"]) == measured[spec], row["key"]
        if row["strategy"] is None:
            params, flops, _fvcore, acts = PUBLISHED[row["base"]]
            assert agrees(row["params"], params, 1e6)
            assert agrees(row["flops"], flops, 1e9)
            assert agrees(row["acts"], acts, 1e6)


def base_rows(golden: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["base"]: row for row in golden["rows"] if row["strategy"] is None}


def test_golden_ratios_summary_and_exponents_recomputed(golden: dict[str, Any]) -> None:
    bases = base_rows(golden)
    for row in golden["rows"]:
        base = bases[row["base"]]
        for measure in ("flops", "params", "acts"):
            assert row["ratios"][measure] == row[measure] / base[measure]
    scaled = [row for row in golden["rows"] if row["strategy"] is not None]
    expected = []
    for base in ("regnetx_400mf", "resnet50"):
        for s in (2.0, 4.0):
            group = sorted(
                (r for r in scaled if (r["base"], r["factor"]) == (base, s)),
                key=lambda r: r["acts"],
            )
            goal = round(s * bases[base]["flops"])
            flops = [r["flops"] for r in group]
            # Ranked: the models within 5% of the goal, when there are two or more; none of
            # this sweep's nominal-factor groups has two (w and dWr land 9% to 50% apart).
            near = [r for r in group if abs(r["flops"] / goal - 1) <= 0.05]
            assert len(near) < 2
            ranking = [
                {
                    "rank": None,
                    "best": False,
                    "key": r["key"],
                    "strategy": r["strategy"],
                    "factor": s,
                    "flops": r["flops"],
                    "params": r["params"],
                    "acts": r["acts"],
                    "flops_vs_goal": r["flops"] / goal,
                    "acts_vs_best": None,
                }
                for r in group
            ]
            expected.append(
                {
                    "base": base,
                    "goal": "factor",
                    "value": s,
                    "goal_flops": goal,
                    "equal_flops": False,
                    "flops_spread": max(flops) / min(flops) - 1,
                    "flops_tolerance": 0.05,
                    "ranking": ranking,
                }
            )
    assert golden["summary"] == expected
    for fit in golden["exponents"]:
        points = [bases[fit["base"]]] + [
            r for r in scaled if (r["base"], r["strategy"]) == (fit["base"], fit["strategy"])
        ]
        logs = np.log([[p["flops"], p["acts"], p["params"]] for p in points])
        assert fit["points"] == len(points) == 3
        assert fit["acts"] == round(np.polyfit(logs[:, 0], logs[:, 1], 1)[0], 6)
        assert fit["params"] == round(np.polyfit(logs[:, 0], logs[:, 2], 1)[0], 6)


def numbers(text: str) -> list[str]:
    return re.findall(r"\d+\.\d+|\d+", text)


def test_golden_markdown_numbers_come_from_the_json(golden: dict[str, Any]) -> None:
    text = (DATA / "compare_small.md").read_text(encoding="utf-8")
    by_table = text.split("### ")[1:]
    assert len(by_table) == 4 + 2 + 1  # summaries per base and s, tables per base, exponents
    for section, group in zip(by_table[:4], golden["summary"]):
        lines = [
            line for line in section.splitlines() if line.startswith("| ") and "---" not in line
        ]
        for line, entry in zip(lines[1:], group["ranking"], strict=True):
            assert line.startswith(f"| – | {entry['strategy']} | ")  # not ranked: no rank
            assert numbers(line) == [
                f"{entry['factor']:g}",
                f"{entry['flops'] / 1e9:.3f}",
                f"{entry['flops_vs_goal']:.3f}",
                f"{entry['params'] / 1e6:.3f}",
                f"{entry['acts'] / 1e6:.3f}",
            ]
            assert line.endswith(" | n/a |")
        misses = [e["flops"] / group["goal_flops"] - 1 for e in group["ranking"]]
        heading = section.splitlines()[0]
        assert f"at s = {group['value']:g} ({group['goal_flops'] / 1e9:.3f} GF)" in heading
        assert f"not ranked, flops {min(misses):+.1%} to {max(misses):+.1%} off goal" in heading
    rows = iter(golden["rows"])
    for section in by_table[4:6]:
        lines = [
            line for line in section.splitlines() if line.startswith("| ") and "---" not in line
        ]
        assert lines[0].startswith("| scaling | s | res (px) | depths | widths | group widths |")
        for line in lines[1:]:
            row = next(rows)
            cells = [c.strip() for c in line.strip("|").split("|")]
            stage = [
                "-".join(map(str, row["spec"][k])) for k in ("depths", "widths", "group_widths")
            ]
            assert cells[1:] == [
                f"{row['factor']:g}",
                str(row["resolution"]),
                *stage,
                f"{row['flops'] / 1e9:.3f}",
                f"{row['ratios']['flops']:.2f}",
                f"{row['params'] / 1e6:.3f}",
                f"{row['ratios']['params']:.2f}",
                f"{row['acts'] / 1e6:.3f}",
                f"{row['ratios']['acts']:.2f}",
            ]
    lines = [
        line for line in by_table[6].splitlines() if line.startswith("| ") and "---" not in line
    ]
    for line, fit in zip(lines[1:], golden["exponents"], strict=True):
        assert numbers(line)[-5:] == [
            f"{fit['acts']:.2f}",
            f"{fit['predicted_acts']:.2f}",
            f"{fit['params']:.2f}",
            f"{fit['predicted_params']:.2f}",
            str(fit["points"]),
        ]


def test_golden_csv_comes_from_the_json(golden: dict[str, Any]) -> None:
    records = list(csv.DictReader(io.StringIO((DATA / "compare_small.csv").read_text())))
    assert len(records) == len(golden["rows"])
    for record, row in zip(records, golden["rows"]):
        for key in ("flops", "params", "acts", "resolution"):
            assert int(record[key]) == row[key]
        for measure, ratio in row["ratios"].items():
            assert float(record[f"{measure}_ratio"]) == ratio
        for field, value in row["spec"].items():
            shown = "-".join(map(str, value)) if isinstance(value, list) else str(value)
            assert record[field] == shown, (row["key"], field)
        # ResNet's `block` is not a RegNet field: empty there.
        assert record["block"] == ("bottleneck" if row["family"] == "resnet" else "")
