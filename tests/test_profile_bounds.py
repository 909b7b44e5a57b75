"""A profile's numbers are bounded where they are read, and every prediction is a finite time."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scalecalc.cli import app
from scalecalc.errors import ProfileError
from scalecalc.profile.document import BUILTIN_DIR, load_profile
from scalecalc.profile.model import predict

runner = CliRunner()
HUGE = 10**400  # 401 digits: more than a float holds


def _document() -> dict:
    """A log-linear profile (its coefficients acts and params, groups regnet/resnet/efficientnet)."""
    return json.loads((BUILTIN_DIR / "v100-pycls-train.json").read_text(encoding="utf-8"))


def _roofline() -> dict:
    """The RTX 4090 roofline profile without its regions and group ranges (which name its
    groups), as a base for profiles with other groups."""
    document = json.loads((BUILTIN_DIR / "rtx4090.json").read_text(encoding="utf-8"))
    del document["error_regions"], document["group_range"]
    return document


def _handmade() -> dict:
    """The V100 profile without its regions and group ranges (which name its groups), as a
    base for profiles with other intercepts and ranges."""
    document = _document()
    del document["error_regions"], document["group_range"]
    return document


def _write(tmp_path: Path, document: dict | str) -> Path:
    path = tmp_path / "p.json"
    text = document if isinstance(document, str) else json.dumps(document)
    path.write_text(text, encoding="utf-8")
    return path


def _coefficient(value: object) -> Callable[[dict], None]:
    return lambda d: d["model"]["coefficients"].update(acts=value)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_coefficient(50), "model.coefficients.acts: must be a number from 0 to 4, got 50"),
        (_coefficient(-50), "model.coefficients.acts: must be a number from 0 to 4, got -50"),
        (_coefficient(1e308), "model.coefficients.acts: must be a number from 0 to 4, got 1e+308"),
        (_coefficient(HUGE), "model.coefficients.acts: must be a number from 0 to 4, got 1000"),
        (
            lambda d: d["model"]["intercepts"].update(regnet=800),
            "model.intercepts.regnet: must be a number from -100 to 100, got 800",
        ),
        (
            lambda d: d["fitted_on"].update(models=HUGE),
            "fitted_on.models: must be an integer from 0 to 1e+09, got 1000",
        ),
        (
            lambda d: d["validation"].update(rows=HUGE),
            "validation.rows: must be an integer from 0 to 1e+09, got 1000",
        ),
        (
            lambda d: d["validation"].update(spearman=1.5),
            "validation.spearman: must be a number from -1 to 1, got 1.5",
        ),
        (
            lambda d: d["range"].update(flops=[1, HUGE]),
            "range.flops[1]: must be a number from 1 to 1e+30, got 1000",
        ),
        (
            lambda d: d["range"].update(flops=[0.5, 2]),
            "range.flops[0]: must be a number from 1 to 1e+30, got 0.5",
        ),
        (
            lambda d: d["setting"].update(batch_size=0),
            "setting.batch_size: must be null or an integer from 1 to 1e+09, got 0",
        ),
        (
            lambda d: d.update(device="V100\ud800"),
            "device: must be a UTF-8 string, got 'V100\\ud800'",
        ),
        (lambda d: d["model"]["intercepts"].update({"x\ud800": -24.0}), "key 'x\\ud800' has a"),
        (
            lambda d: d["error_regions"]["regions"][0].update(median_abs_pct_error=-1),
            "error_regions.regions[0].median_abs_pct_error: must be a number from 0 to 1e+09, got -1",
        ),
        (
            lambda d: d["error_regions"]["regions"][0].update(third=4),
            "error_regions.regions[0].third: must be null or an integer from 1 to 3, got 4",
        ),
        (
            lambda d: d["error_regions"]["regions"][0].update(group="vit"),
            "error_regions.regions[0].group: 'vit' is not a group of the profile (efficientnet, "
            "regnet, resnet)",
        ),
        (
            lambda d: d["error_regions"]["regions"].append(d["error_regions"]["regions"][0]),
            "error_regions.regions[9]: a second region of group 'efficientnet', third None",
        ),
        (
            lambda d: d["error_regions"].update(regions={}),
            "error_regions.regions: must be a list of regions, got {}",
        ),
        (
            lambda d: d["error_regions"].update(flops_thirds=[2e9, 1e9]),
            "error_regions.flops_thirds: must be [low, high] with low <= high, got [2000000000.0, ",
        ),
        (
            lambda d: d["group_range"]["regnet"].update(acts=[1, HUGE]),
            "group_range.regnet.acts[1]: must be a number from 1 to 1e+30, got 1000",
        ),
        (
            lambda d: d["group_range"].update(vit=d["group_range"]["regnet"]),
            "group_range.vit: not a group of the profile (efficientnet, regnet, resnet)",
        ),
        (
            lambda d: d["group_range"]["resnet"].pop("params"),
            "group_range.resnet.params: missing",
        ),
    ],
)
def test_out_of_range_numbers_are_refused_naming_the_key(
    tmp_path: Path, edit: Callable[[dict], None], message: str
) -> None:
    document = _document()
    edit(document)
    path = _write(tmp_path, document)
    with pytest.raises(ProfileError) as error:
        load_profile(path)
    assert str(error.value).startswith(f"{path}: {message}")
    # every command reading profiles: one line, exit 2 (before: OverflowError, inf, crash)
    for args in (
        ["profile", "show", str(path)],
        ["compare", "regnety_400mf", "-s", "w", "--factors", "2", "--profile", str(path)],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and result.stdout == "", args
        assert result.stderr.startswith(f"error: {path}: ") and result.stderr.count("\n") == 1


def test_duplicate_keys_and_deep_nesting_are_refused(tmp_path: Path) -> None:
    text = json.dumps(_document())
    duplicated = text.replace('"device": ', '"device": "A", "device": ', 1)
    with pytest.raises(ProfileError, match="duplicate key 'device'"):
        load_profile(_write(tmp_path, duplicated))
    nested = '{"format": ' + "[" * 100_000 + "]" * 100_000 + "}"  # 200 kB
    with pytest.raises(ProfileError, match="nested 100001 deep"):
        load_profile(_write(tmp_path, nested))


def test_the_limits_themselves_are_accepted(tmp_path: Path) -> None:
    document = _handmade()
    document["model"]["coefficients"] = {"acts": 4, "flops": 0}
    document["model"]["intercepts"] = {"regnet": -100, "resnet": 100}
    document["validation"]["spearman"] = -1
    profile = load_profile(_write(tmp_path, document))
    assert profile.coefficients == {"acts": 4.0, "flops": 0.0}


def test_a_range_with_low_equal_to_high(tmp_path: Path) -> None:
    document = _handmade()
    document["range"] = {m: [1e9, 1e9] for m in ("flops", "acts", "params")}
    profile = load_profile(_write(tmp_path, document))
    assert not predict(profile, 1e9, 1e9, 1e9, "regnet").extrapolated
    assert predict(profile, 1e9 + 1, 1e9, 1e9, "regnet").extrapolated
    assert predict(profile, 1e9, 1e9, 1e9 - 1, "regnet").extrapolated


def test_a_prediction_beyond_any_real_time_is_an_error_not_inf(tmp_path: Path) -> None:
    document = _handmade()
    document["model"]["coefficients"] = {"acts": 4.0}
    document["model"]["intercepts"] = {"regnet": 0.0}
    profile = load_profile(_write(tmp_path, document))
    # e^0 · acts^4: 1e3 acts gives 1e12 s (inside the band), 1e4 gives 1e16 s (outside)
    assert predict(profile, 1e6, 1e6, 1e3, "regnet").seconds_per_image == pytest.approx(1e12)
    with pytest.raises(ProfileError, match=r"predicts e\^36.84 s per image .* outside 1e-15 to"):
        predict(profile, 1e6, 1e6, 1e4, "regnet")
    document["model"]["intercepts"] = {"regnet": -100.0}
    tiny = load_profile(_write(tmp_path, document))
    # e^-100 · 1e4^4 = e^-63.2: under a femtosecond (before: 1/0 for the images per second)
    with pytest.raises(ProfileError, match=r"predicts e\^-63.16 s"):
        predict(tiny, 1e6, 1e6, 1e4, "regnet")
    assert math.isfinite(predict(tiny, 1e6, 1e6, 1e12, "regnet").images_per_second)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["model"]["costs"]["vit"].update(acts=800),
            "model.costs.vit.acts: must be a number from -100 to 100, got 800",
        ),
        (
            lambda d: d["model"]["costs"]["vit"].update(acts=HUGE),
            "model.costs.vit.acts: must be a number from -100 to 100, got 1000",
        ),
        (lambda d: d["model"]["costs"]["vit"].pop("flops"), "model.costs.vit.flops: missing"),
        (
            lambda d: d["model"]["costs"]["vit"].update(params=-20.0),
            "model.costs.vit.params: unknown key; allowed: flops, acts",
        ),
        (
            lambda d: d["model"]["costs"].pop("vit"),
            "model.costs: needs one entry per intercept's group (convnext, efficientnet, other, "
            "regnet, resnet, vit)",
        ),
        (lambda d: d["model"].pop("costs"), "model.costs: must be an object, got None"),
        (
            lambda d: d["model"]["coefficients"].update(acts=1.0),
            "model.coefficients: must be {} in a roofline model",
        ),
        (
            lambda d: d["model"].update(form="log-linear"),
            "model.costs: only a roofline model has costs",
        ),
        (
            lambda d: d["model"].update(form="power"),
            "model.form: must be one of log-linear, roofline",
        ),
        (
            lambda d: d["model"].update(blend=5),
            "model.blend: must be a number from 0.25 to 4, got 5",
        ),
        (lambda d: d["model"].update(blend=0.2), "model.blend: must be a number from 0.25 to 4"),
        (lambda d: d["model"].update(blend="0.7"), "model.blend: must be a number from 0.25 to 4"),
        (lambda d: d["model"].update(blend=True), "model.blend: must be a number from 0.25 to 4"),
        (
            lambda d: (d["model"].update(form="log-linear"), d["model"].pop("costs")),
            "model.blend: only a roofline model has a blend",
        ),
    ],
)
def test_a_roofline_model_is_checked_key_by_key(
    tmp_path: Path, edit: Callable[[dict], None], message: str
) -> None:
    document = _roofline()
    edit(document)
    path = _write(tmp_path, document)
    with pytest.raises(ProfileError) as error:
        load_profile(path)
    assert str(error.value).startswith(f"{path}: {message}")
    result = runner.invoke(app, ["profile", "show", str(path)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"error: {path}: ") and result.stderr.count("\n") == 1


def test_a_roofline_prediction_beyond_any_real_time_is_an_error(tmp_path: Path) -> None:
    document = _roofline()
    del document["model"]["blend"]  # the plain sum of the parts
    document["model"]["intercepts"] = {"other": -100.0}
    document["model"]["costs"] = {"other": {"flops": -100.0, "acts": 0.0}}
    profile = load_profile(_write(tmp_path, document))
    # e^-100 + 1e6·e^-100 + acts·e^0: 1e3 acts gives 1e3 s; 1e16 acts gives 1e16 s (outside)
    assert predict(profile, 1e6, 1e6, 1e3, "vit").seconds_per_image == pytest.approx(1e3)
    with pytest.raises(ProfileError, match=r"predicts e\^36.84 s per image .* outside 1e-15 to"):
        predict(profile, 1e6, 1e6, 1e16, "vit")
    document["model"]["costs"] = {"other": {"flops": -100.0, "acts": -100.0}}
    tiny = load_profile(_write(tmp_path, document))
    # (1 + 1e6 + 1e6)·e^-100 = e^-85.5: under a femtosecond
    with pytest.raises(ProfileError, match=r"predicts e\^-85.49 s"):
        predict(tiny, 1e6, 1e6, 1e6, "vit")
