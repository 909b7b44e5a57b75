"""YAML configs: presets with overrides, aliases, and one-line errors naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from scalecalc.api import count
from scalecalc.config import dump, load
from scalecalc.errors import ConfigError


# A ResNet config without a preset names its block.
RESNET = "family: resnet\nblock: bottleneck\n"


def write(tmp_path: Path, text: str, name: str = "model.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_preset_with_overrides(tmp_path: Path) -> None:
    model = load(write(tmp_path, "preset: regnety_4gf\nresolution: 256\nname: big\n"))
    assert model.name == "big"
    assert model.spec.resolution == 256
    assert model.spec.widths == (128, 192, 512, 1088)


def test_overriding_a_paper_parameter_re_expands_the_regnet(tmp_path: Path) -> None:
    model = load(write(tmp_path, "preset: regnetx_400mf\ndepth: 23\n"))
    assert sum(model.spec.depths) == 23


def test_overriding_stage_lists_of_a_paper_preset(tmp_path: Path) -> None:
    model = load(write(tmp_path, "preset: regnetx_400mf\ndepths: [1, 1, 1, 1]\n"))
    assert model.spec.depths == (1, 1, 1, 1) and model.spec.widths == (32, 64, 160, 384)


def test_resnext_groups_alias_equals_explicit_stage_form(tmp_path: Path) -> None:
    explicit = load(
        write(
            tmp_path,
            RESNET + "depths: [3, 4, 6, 3]\nwidths: [256, 512, 1024, 2048]\n"
            "bottleneck_ratio: 0.5\ngroup_widths: [4, 8, 16, 32]\n",
        )
    )
    assert explicit.spec == load("resnext50_32x4d").spec


def test_groups_alias_floors_the_group_width_as_torchvision(tmp_path: Path) -> None:
    # torchvision: planes = width / 4 = 24, 48, 96, 192; group width int(planes * 4 / 64) =
    # int(1.5), int(3), int(6), int(12) -> bottlenecks 32 x (1, 3, 6, 12) = 32, 96, 192, 384.
    text = RESNET + "depths: [3, 4, 6, 3]\nwidths: [96, 192, 384, 768]\n"
    model = load(write(tmp_path, text + "groups: 32\nwidth_per_group: 4\n"))
    assert model.spec.group_widths == (1, 3, 6, 12)
    assert model.spec.bottleneck_widths() == (32, 96, 192, 384)
    # torchvision's ResNet(Bottleneck, [3, 4, 6, 3], groups=32, width_per_group=4) at these widths
    assert count(model.spec).params == 4_020_488
    assert load(write(tmp_path, dump(model), "again.yaml")) == model


def test_dump_round_trips(tmp_path: Path) -> None:
    for name in ("resnext50_32x4d", "regnety_400mf", "vit_s16", "convnext_t"):
        model = load(name)
        again = load(write(tmp_path, dump(model), f"{name}.yaml"))
        assert again == model


def test_dump_has_one_style_for_every_family() -> None:
    # Block style, one `key: value` line per field in the spec's order, lists inline.
    for name in ("resnext50_32x4d", "regnety_400mf", "vit_s16", "convnext_t"):
        model = load(name)
        fields = {"name": name, **model.spec.to_dict()}
        lines = dump(model).splitlines()
        assert [line.split(": ", 1)[0] for line in lines] == list(fields)
        for line, value in zip(lines, fields.values()):
            if isinstance(value, list):
                assert line.endswith("[" + ", ".join(str(v) for v in value) + "]"), line
            else:
                assert "{" not in line and "[" not in line, line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (RESNET + "depths: [3, 4]\nwidths: [1, 2, 3]\n", "widths: must have 2 entries"),
        (
            "family: nope\n",
            "family: unknown family 'nope'; allowed: convnext, efficientnet, regnet, resnet, vit",
        ),
        ("preset: resnet50\ncolour: red\n", "colour: unknown key for family resnet; allowed:"),
        ("preset: vit_b16\nnum_heads: 7\n", "num_heads: must divide hidden_size 768, got 7"),
        ("preset: vit_b16\nresolution: 15\n", "resolution: must be at least patch_size 16, got 15"),
        ("preset: resnet50\nresolution: -1\n", "resolution: must be between 1 and 8192, got -1"),
        ("preset: resnet50\ndepths: [3, 4, 6.5, 3]\n", "depths: must be a list of integers"),
        (
            "preset: resnext50_32x4d\ngroups: 0\n",
            "groups: must be an integer from 1 to 131072, got 0",
        ),
        (RESNET + "depths: [1]\nwidths: [258]\ngroups: 32\n", "widths: must be multiples"),
        (
            RESNET + "depths: [1]\nwidths: [64]\ngroups: 2\nwidth_per_group: 1\n",
            "per_group: gives",
        ),
        (RESNET + "depths: [1]\nwidths: [64]\ngroup_widths: [48]\n", "group_widths: group"),
        ("preset: regnetx_400mf\nwm: 1\n", "wm: must be a number above 1"),
        ("[1, 2]\n", "expected a mapping with 'family' or 'preset', got a list"),
        ("", "expected a mapping with 'family' or 'preset', got empty"),
        ("family: [resnet\n", "YAML error at line"),
        ("!!python/object/apply:os.system ['true']\n", "YAML error"),
    ],
)
def test_bad_configs_name_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_missing_file_and_unknown_preset() -> None:
    with pytest.raises(ConfigError, match="no-such.yaml: no such file"):
        load("no-such.yaml")
    with pytest.raises(ConfigError, match=r"unknown preset 'resnet5' \(did you mean resnet50 "):
        load("resnet5")
