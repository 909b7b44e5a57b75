"""The project's own cost regression test: configs/baselines/costs.json against a fresh count.

After an intended change to a preset, the default sweep or the counting, rewrite the baseline with
`scalecalc check --presets --baseline configs/baselines/costs.json --update` and commit the diff.
"""

from __future__ import annotations

import json
from pathlib import Path

from reference import PUBLISHED, agrees
from typer.testing import CliRunner

from scalecalc.cli import app
from scalecalc.registry import list_presets
from scalecalc.sweep import DEFAULT_SWEEP, expand

BASELINE = Path(__file__).resolve().parent.parent / "configs" / "baselines" / "costs.json"
runner = CliRunner()


def test_committed_baseline_holds() -> None:
    result = runner.invoke(app, ["check", "--presets", "--baseline", str(BASELINE), "-f", "md"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stderr.endswith(" entries\n") and "check: no drift in" in result.stderr


def test_baseline_covers_every_preset_and_the_default_sweep() -> None:
    keys = set(json.loads(BASELINE.read_text(encoding="utf-8"))["entries"])
    presets = {f"{name}/base" for name in list_presets()}
    assert len(presets) == 20
    sweep = {entry.key for entry in expand(DEFAULT_SWEEP)}
    assert len(sweep) == 125
    assert keys == presets | sweep


def test_baseline_presets_match_published_counts() -> None:
    # An independent oracle: a baseline rewritten with wrong counts would still fail here.
    entries = json.loads(BASELINE.read_text(encoding="utf-8"))["entries"]
    for name, (params, flops, _fvcore_flops, acts) in PUBLISHED.items():
        entry = entries[f"{name}/base"]
        assert agrees(entry["params"], params, 1e6), name
        assert agrees(entry["flops"], flops, 1e9), name
        assert agrees(entry["acts"], acts, 1e6), name


def test_baseline_default_sweep_is_at_its_flops_targets() -> None:
    # The default sweep solves each strategy for 2 to 16 times its base's flops: against the
    # base's published flops, every model lands within 5% of its target, except where the
    # strategy's nearest models are a rounding step apart (resnet50/w keeps its group widths,
    # so its flops grow in coarse steps); none misses by more than 15%.
    entries = json.loads(BASELINE.read_text(encoding="utf-8"))["entries"]
    misses = {}
    for entry in expand(DEFAULT_SWEEP):
        if entry.target_factor is None:
            continue
        # RegNetY-4GF's paper-convention flops as pycls and torchvision print them.
        published = float(PUBLISHED[entry.model.name][1] or "3.973") * 1e9
        misses[entry.key] = entries[entry.key]["flops"] / (entry.target_factor * published) - 1
    assert len(misses) == 120
    assert max(abs(miss) for miss in misses.values()) < 0.15
    assert sorted(key for key, miss in misses.items() if abs(miss) > 0.05) == [
        "regnety_4gf/dWr/@2x",
        "resnet50/dwr/@8x",
        "resnet50/w/@2x",
        "resnet50/w/@4x",
    ]


def test_baseline_file_is_canonical() -> None:
    text = BASELINE.read_text(encoding="utf-8")
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"
    assert (data["format"], data["version"]) == ("scalecalc-baseline", 1)
    assert data["convention"] == "paper"
