"""The Python API: what each function accepts, said plainly; a model from a dict, validated as a
YAML file is; the public names listed; messages free of command-line options."""

from __future__ import annotations

from pathlib import Path

import pytest

import scalecalc
from scalecalc.errors import ConfigError, ProfileError
from scalecalc.profile.document import load_profile

WIDTHS = "widths: [64, 128, 256, 512]\n"
PUBLIC = ("load", "count", "scale", "scale_by", "build", "solve", "ScalecalcError", "Costs")


def test_dir_lists_every_public_name_before_it_is_imported() -> None:
    listed = dir(scalecalc)
    assert set(PUBLIC) <= set(listed) and set(scalecalc.__all__) <= set(listed)
    assert "__version__" in listed
    assert not {"Any", "TYPE_CHECKING", "import_module"} & set(listed)


@pytest.mark.parametrize("function", ["count", "build", "scale_by"])
def test_a_dict_is_refused_with_what_is_accepted(function: str) -> None:
    call = getattr(scalecalc, function)
    args = () if function != "scale_by" else (scalecalc.scaling_factors("w", 2),)
    with pytest.raises(TypeError) as error:
        call({"preset": "resnet50"}, *args)
    assert str(error.value) == (
        f"{function}() takes a model spec or the model scalecalc.load() returns, got dict; "
        "make one from a dict with scalecalc.load(dict)"
    )


def test_a_torch_module_is_refused_with_what_is_accepted() -> None:
    nn = pytest.importorskip("torch.nn")
    with pytest.raises(TypeError, match=r"^count\(\) takes a model spec .* got Linear$"):
        scalecalc.count(nn.Linear(2, 2))
    with pytest.raises(TypeError, match=r"^load\(\) takes a preset name, .* got Linear$"):
        scalecalc.load(nn.Linear(2, 2))  # type: ignore[arg-type]


def test_a_dict_makes_a_model_as_a_yaml_file_does(tmp_path: Path) -> None:
    fields = {"family": "resnet", "block": "basic", "depths": [2, 2, 2, 2]}
    fields["widths"] = [64, 128, 256, 512]
    model = scalecalc.load(fields)
    path = tmp_path / "r18.yaml"
    path.write_text("family: resnet\nblock: basic\ndepths: [2, 2, 2, 2]\n" + WIDTHS)
    assert model.spec == scalecalc.load(path).spec
    # torchvision's resnet18: 11,689,512 params; a loaded model is counted as its spec is.
    assert scalecalc.count(model).params == scalecalc.count(model.spec).params == 11_689_512
    assert scalecalc.load({"preset": "resnet50", "resolution": 160}).spec.resolution == 160
    assert scalecalc.scale(model, "w", 2) == scalecalc.scale(model.spec, "w", 2)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"family": "resnet", "depths": [1], "widths": [64]}, "dict: block: is required"),
        ({"preset": "resnet50", "colour": "red"}, "dict: colour: unknown key for family resnet"),
        ({"preset": "resnet50", "depths": [1, 2]}, "dict: widths: must have 2 entries"),
        ({1: "x", "family": "vit"}, "dict: key 1 is not a string"),
        ({}, "dict: needs a 'family' or a 'preset' key"),
    ],
)
def test_a_bad_dict_is_refused_naming_the_key(fields: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=f"^{message}"):
        scalecalc.load(fields)


def test_a_profile_of_another_convention_is_refused_without_naming_a_cli_option() -> None:
    with pytest.raises(ProfileError) as error:
        load_profile("rtx4090", convention="paper")
    assert "--" not in str(error.value)
    assert "count them in 'fvcore' or use a profile counted in 'paper'" in str(error.value)
