"""Regenerate tests/data/pycls_reference.json with the paper's reference implementation.

Runs pycls's own scaler (pycls/models/scaler.py) and complexity code over scalecalc's CNN presets
and EfficientNet-B0, for every named strategy and a grid of factors chosen so that each rounding
step of the scaler meets exact .5 ties. pycls is imported from a checkout given on the command
line; it is not part of the project and CI never runs this script:

    git clone https://github.com/facebookresearch/pycls /tmp/pycls
    git -C /tmp/pycls checkout 5719de641657c251f807c20a1fcf8ef6f4b60144
    python tests/data/make_pycls_reference.py /tmp/pycls

Needs numpy, torch, yacs and iopath (pycls's imports); prints how many ties each rounding step
met, and how many of those half-up rounding would have resolved differently.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import types
from collections import Counter
from pathlib import Path

OUTPUT = Path(__file__).with_name("pycls_reference.json")
ZOO = "configs/dds_baselines"

# scalecalc preset -> pycls config (the model zoo's own YAML for each)
BASES = {
    "resnet50": f"{ZOO}/resnet/R-50-1x64d_dds_8gpu.yaml",
    "resnet101": f"{ZOO}/resnet/R-101-1x64d_dds_8gpu.yaml",
    "resnext50_32x4d": f"{ZOO}/resnext/X-50-32x4d_dds_8gpu.yaml",
    "regnetx_400mf": f"{ZOO}/regnetx/RegNetX-400MF_dds_8gpu.yaml",
    "regnetx_4gf": f"{ZOO}/regnetx/RegNetX-4.0GF_dds_8gpu.yaml",
    "regnety_400mf": f"{ZOO}/regnety/RegNetY-400MF_dds_8gpu.yaml",
    "regnety_4gf": f"{ZOO}/regnety/RegNetY-4.0GF_dds_8gpu.yaml",
    "regnety_16gf": f"{ZOO}/regnety/RegNetY-16GF_dds_8gpu.yaml",
    "efficientnet_b0": f"{ZOO}/effnet/EN-B0_dds_8gpu.yaml",
}

# scalecalc strategy -> pycls MODEL.SCALING_TYPE (pycls spells fast compound scaling by weights)
STRATEGIES = {
    "w": "w",
    "d": "d",
    "r": "r",
    "dw": "dw",
    "dr": "dr",
    "wr": "wr",
    "dwr": "dwr",
    "dWr": "d1_w8_g8_r1",
    "d1_w2": "d1_w2",
    "w1_g1": "w1_g1",
    "d1_w2_g2_r1": "d1_w2_g2_r1",
    "d2_w1_g1_r1": "d2_w1_g1_r1",
}

# Factors whose roots are exact binary fractions put the scaler's products on exact .5 ties:
# s^(1/2) or s^(1/4) = 0.5, 0.625, 1.5, 2.5 for depths and widths/8; (11/16)^2, (19/16)^2,
# (19/16)^4 for image sizes/4 (56 * 19/16 = 66.5); (41/32)^2, (41/16)^2 for group widths 16 and 8
# (20.5); the rest are ordinary factors, among them the paper's 2, 4, 8, 16.
FACTORS = (
    0.25, 0.390625, 0.47265625, 0.5, 1.0, 1.41015625, 1.5, 1.6416015625, 1.9885406494140625,
    2.0, 2.25, 2.5, 4.0, 5.0625, 6.25, 6.56640625, 8.0, 16.0,
)  # fmt: skip


def import_pycls(checkout: Path) -> types.SimpleNamespace:
    """Import pycls's config, scaler, builders and complexity from `checkout`."""
    # pycls.core.distributed (imported by pycls.core.net) needs submitit only to launch cluster
    # jobs; a stand-in with the one base class it subclasses lets the model code import.
    submitit = types.ModuleType("submitit")
    submitit.helpers = types.SimpleNamespace(Checkpointable=object)
    sys.modules.setdefault("submitit", submitit)
    sys.path.insert(0, str(checkout))
    from pycls.core import builders, config, net
    from pycls.models import regnet, scaler

    return types.SimpleNamespace(
        builders=builders, config=config, net=net, regnet=regnet, scaler=scaler
    )


def load_config(pycls: types.SimpleNamespace, path: Path) -> None:
    """Reset pycls's global config and load one YAML file into it."""
    pycls.config.reset_cfg()
    pycls.config.load_cfg(str(path))


def model_fields(cfg) -> dict:
    """The scaled network as pycls's config describes it."""
    resolution = int(cfg.TRAIN.IM_SIZE)
    if cfg.MODEL.TYPE == "effnet":
        en = cfg.EN
        return {
            "type": "effnet",
            "depths": [int(d) for d in en.DEPTHS],
            "widths": [int(w) for w in en.WIDTHS],
            "exp_rs": [float(b) for b in en.EXP_RATIOS],
            "kernels": [int(k) for k in en.KERNELS],
            "strides": [int(s) for s in en.STRIDES],
            "stem_w": int(en.STEM_W),
            "head_w": int(en.HEAD_W),
            "se_r": float(en.SE_R),
            "resolution": resolution,
        }
    an = cfg.ANYNET
    return {
        "type": "anynet",
        "depths": [int(d) for d in an.DEPTHS],
        "widths": [int(w) for w in an.WIDTHS],
        "bot_muls": [float(b) for b in an.BOT_MULS],
        "group_ws": [int(g) for g in an.GROUP_WS],
        "stem_w": int(an.STEM_W),
        "se_r": float(an.SE_R) if an.SE_ON else 0.0,
        "resolution": resolution,
    }


def base_stages(pycls: types.SimpleNamespace) -> tuple[list, list, list, list]:
    """Depths, widths, bottleneck multipliers and group widths the scaler starts from."""
    cfg = pycls.config.cfg
    if cfg.MODEL.TYPE == "regnet":
        widths, depths, _, bot_muls, group_ws = pycls.regnet.generate_regnet_full()
        return depths, widths, bot_muls, group_ws
    if cfg.MODEL.TYPE == "effnet":
        en = cfg.EN
        widths = [*en.WIDTHS, en.STEM_W, en.HEAD_W]
        return list(en.DEPTHS), widths, list(en.EXP_RATIOS), [1] * len(en.DEPTHS)
    an = cfg.ANYNET
    return list(an.DEPTHS), list(an.WIDTHS), list(an.BOT_MULS), list(an.GROUP_WS)


def count_ties(ties: Counter, stages: tuple, factors: tuple, resolution: int, effnet: bool) -> None:
    """Count the exact .5 ties each rounding step of the scaler meets (and the even ones)."""
    depths, widths, _, group_ws = stages
    d_scale, w_scale, g_scale, r_scale = factors

    def note(helper: str, x: float) -> None:
        if x % 1 == 0.5:
            ties[helper] += 1
            if int(x) % 2 == 0:  # half-up would round this one up, half-to-even down
                ties[helper + " (even)"] += 1

    for d in depths:
        note("depth", d * d_scale)
    for w in widths:
        note("width", w * w_scale / 8)
    if not effnet:
        for g in group_ws:
            note("group width", g * g_scale)
            g = max(1, round(g * g_scale))
            if g > 5:
                note("group width /8", g / 8)
    note("resolution", resolution * r_scale / 4)


def reference_entry(pycls, config: Path, base: str, strategy: str, factor: float, ties: Counter):
    """Scale one base with pycls and count it with pycls's complexity code."""
    load_config(pycls, config)
    cfg = pycls.config.cfg
    cfg.MODEL.SCALING_TYPE = STRATEGIES[strategy]
    cfg.MODEL.SCALING_FACTOR = factor
    factors = pycls.scaler.scaling_factors(cfg.MODEL.SCALING_TYPE, factor)
    effnet = cfg.MODEL.TYPE == "effnet"
    count_ties(ties, base_stages(pycls), factors, int(cfg.TRAIN.IM_SIZE), effnet)
    pycls.scaler.scale_model()
    complexity = pycls.net.complexity(pycls.builders.get_model())
    return {
        "key": f"{base}/{strategy}/x{factor:g}",
        "base": base,
        "strategy": strategy,
        "pycls_strategy": STRATEGIES[strategy],
        "factor": factor,
        "pycls": model_fields(cfg),
        "complexity": {k: int(complexity[k]) for k in ("flops", "params", "acts")},
    }


def commit_of(checkout: Path) -> str:
    """The checked-out commit of `checkout` (a git work tree)."""
    result = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"],
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.exit(f"error: {checkout}: not a git checkout of pycls ({result.stderr.strip()})")
    return result.stdout.strip()


def dump(data: dict, path: Path) -> None:
    """Write the JSON with one model per line (readable diffs, modest size)."""
    head = {key: value for key, value in data.items() if key != "models"}
    lines = json.dumps(head, indent=1)[:-2] + ',\n "models": [\n'
    rows = [json.dumps(model, separators=(",", ":")) for model in data["models"]]
    path.write_text(lines + ",\n".join(rows) + "\n ]\n}\n")


def main() -> None:
    """Parse the command line, run pycls over the grid, write the JSON, print the tie counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pycls", type=Path, help="a git checkout of facebookresearch/pycls")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    commit = commit_of(args.pycls)
    pycls = import_pycls(args.pycls)
    ties: Counter = Counter()
    models = [
        reference_entry(pycls, args.pycls / config, base, strategy, factor, ties)
        for base, config in BASES.items()
        for strategy in STRATEGIES
        for factor in FACTORS
    ]
    data = {
        "source": {"repo": "facebookresearch/pycls", "commit": commit, "license": "MIT"},
        "generator": "tests/data/make_pycls_reference.py",
        "models": models,
    }
    dump(data, args.output)
    print(f"{len(models)} models from pycls {commit} -> {args.output}")
    print("exact .5 ties met by each rounding step (even: half-up would differ):")
    for helper in ("depth", "width", "group width", "group width /8", "resolution"):
        print(f"  {helper:15} {ties[helper]:5} ties, {ties[helper + ' (even)']:5} even")


if __name__ == "__main__":
    main()
