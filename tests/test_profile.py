"""Device profiles: fitting, validation, the shipped profiles, prediction, published data."""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

import pytest

from scalecalc.errors import ProfileError
from scalecalc.profile.document import (
    BUILTIN_DIR,
    load_profile,
    profile_from_document,
    profile_to_json,
)
from scalecalc.profile.model import Setting, Source, predict
from scalecalc.profile.data import (
    BUILTINS,
    pycls_records,
    timm_family,
    timm_records,
)
from scalecalc.profile.fit import (
    FitRecord,
    fit_form,
    fit_profile,
    folds,
    profile_form,
    spearman,
    validate,
)
from scalecalc.profile.report import to_markdown
from scalecalc.profile.roofline import ROOFLINE, roofline_form
from scalecalc.profile.userfit import FitOptions, fit_user_file

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data" / "published"
BENCH = Path(__file__).parent / "data" / "bench_cpu_default.json"


def _synthetic() -> list[FitRecord]:
    """Exact times from known exponents: t = e^a(group) · flops^0.3 · acts^0.7."""
    offsets = {"resnet": -20.0, "vit": -20.5, None: -19.8}
    records = []
    for i in range(30):
        family = ("resnet", "vit", None)[i % 3]
        flops, acts, params = 1e9 * 1.3**i, 4e6 * 1.17 ** (i % 7 + i / 2), 5e6 * 1.1**i
        seconds = math.exp(offsets[family] + 0.3 * math.log(flops) + 0.7 * math.log(acts))
        records.append(FitRecord(f"m{i}", family, flops, params, acts, seconds))
    return records


@pytest.mark.parametrize("robust", [False, True])
def test_fit_recovers_known_exponents_and_intercepts(robust: bool) -> None:
    fit = fit_form(_synthetic(), ("flops", "acts"), robust=robust)
    assert fit.coefficients == pytest.approx({"flops": 0.3, "acts": 0.7}, abs=1e-9)
    assert fit.intercepts == pytest.approx(
        {"resnet": -20.0, "vit": -20.5, "other": -19.8}, abs=1e-7
    )


def test_held_out_error_of_an_exact_law_is_zero() -> None:
    result = validate(_synthetic(), ("flops", "acts"), "5-fold")
    assert result.median_abs_pct_error == pytest.approx(0, abs=1e-6)
    assert result.spearman == pytest.approx(1.0)


def test_folds_are_by_name_and_stable() -> None:
    records = [FitRecord(n, None, 1, 1, 1, 1) for n in ("b", "a", "b", "c")]
    assert folds(records, "leave-one-out") == [1, 0, 1, 2]
    five = folds(records, "5-fold")
    assert five[0] == five[2]  # one model at two image sizes never straddles folds
    assert five == folds(records, "5-fold")


def test_spearman_by_hand() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1)
    # d = (0, 0, 1, -1): 1 - 6·2 / (4·15) = 0.8
    assert spearman([1, 2, 3, 4], [1, 2, 4, 3]) == pytest.approx(0.8)


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_shipped_coefficients_equal_a_fresh_fit(name: str) -> None:
    shipped = load_profile(name)
    fit = fit_form(BUILTINS[name].records(DATA), profile_form(shipped))
    assert fit.coefficients == pytest.approx(dict(shipped.coefficients), rel=1e-9, abs=1e-12)
    assert fit.intercepts == pytest.approx(dict(shipped.intercepts), rel=1e-9)
    assert set(fit.costs) == set(shipped.costs)
    for group, costs in fit.costs.items():
        assert costs == pytest.approx(dict(shipped.costs[group]), rel=1e-9)


# timm's 4090 rows (GMACs, M acts, M params, images/s at 224 px).
ROWS_4090 = [
    ("resnet", 4.11, 11.11, 25.56, 4302.84),
    ("regnet", 4.0, 12.29, 20.65, 3910.51),
    ("efficientnet", 0.4, 6.75, 5.29, 8794.71),
    ("vit", 17.58, 23.9, 86.57, 2992.79),
]


def test_predictions_from_the_rtx4090_roofline_by_hand() -> None:
    document = json.loads((BUILTIN_DIR / "rtx4090.json").read_text(encoding="utf-8"))
    assert document["model"]["form"] == "roofline" and document["model"]["coefficients"] == {}
    intercepts, costs = document["model"]["intercepts"], document["model"]["costs"]
    # the 5-fold error picked the blend 0.7 (see benchmarks/prediction.py)
    p = document["model"]["blend"]
    assert p == 0.7
    profile = load_profile("rtx4090")
    for family, gmacs, macts, mparams, measured in ROWS_4090:
        flops, acts, params = gmacs * 1e9, macts * 1e6, mparams * 1e6
        cost = costs[family]
        # (overheadᵖ + computeᵖ + memoryᵖ)^(1/p)
        seconds = (
            math.exp(intercepts[family]) ** p
            + (flops * math.exp(cost["flops"])) ** p
            + (acts * math.exp(cost["acts"])) ** p
        ) ** (1 / p)
        got = predict(profile, flops, params, acts, family)
        assert got.seconds_per_image == pytest.approx(seconds, rel=1e-12)
        assert got.images_per_second == pytest.approx(1 / seconds, rel=1e-12)
        assert not got.extrapolated
        # and close to what was measured: these families fit within a few percent
        assert got.images_per_second == pytest.approx(measured, rel=0.1)


def test_predictions_from_a_log_linear_profile_by_hand() -> None:
    document = json.loads((BUILTIN_DIR / "v100-pycls-train.json").read_text(encoding="utf-8"))
    assert document["model"]["form"] == "log-linear" and "costs" not in document["model"]
    coefficients = document["model"]["coefficients"]
    intercepts = document["model"]["intercepts"]
    profile = load_profile("v100-pycls-train")
    # pycls's RegNetY-4.0GF (paper counts): 4.0 GF, 12.2 M acts, 20.6 M params
    flops, acts, params = 4.0e9, 12.2e6, 20.6e6
    log_t = intercepts["regnet"] + sum(
        coefficients[m] * math.log(v)
        for m, v in (("flops", flops), ("acts", acts), ("params", params))
        if m in coefficients
    )
    got = predict(profile, flops, params, acts, "regnet")
    assert got.seconds_per_image == pytest.approx(math.exp(log_t), rel=1e-12)


def _roofline_records(deviations: dict[str | None, float], p: float = 1.0) -> list[FitRecord]:
    """Exact times t = (e^-12p + (flops·e^-32)^p + (acts·e^(-25 + deviation))^p)^(1/p), the
    deviation being the family's."""
    records = []
    for i in range(60):
        family = list(deviations)[i % len(deviations)]
        flops, acts, params = 3e8 * 1.12**i, 2e6 * 1.05 ** (i % 9 + i / 2), 5e6 * 1.1**i
        parts = (math.exp(-12), flops * math.exp(-32), acts * math.exp(-25 + deviations[family]))
        seconds = sum(part**p for part in parts) ** (1 / p)
        records.append(FitRecord(f"m{i}", family, flops, params, acts, seconds))
    return records


def test_roofline_fit_recovers_an_exact_law() -> None:
    fit = fit_form(_roofline_records({None: 0.0}), ROOFLINE)
    assert fit.coefficients == {}
    assert fit.intercepts == pytest.approx({"other": -12.0}, abs=1e-4)
    assert fit.costs == {"other": pytest.approx({"flops": -32.0, "acts": -25.0}, abs=1e-4)}
    assert validate(_roofline_records({None: 0.0}), ROOFLINE, "5-fold").median_abs_pct_error < 1e-3


def test_a_blended_roofline_law_is_recovered_and_its_blend_kept() -> None:
    records = _roofline_records({None: 0.0}, p=0.7)
    fit = fit_form(records, roofline_form(0.7))
    assert fit.blend == 0.7
    assert fit.intercepts == pytest.approx({"other": -12.0}, abs=1e-4)
    assert fit.costs == {"other": pytest.approx({"flops": -32.0, "acts": -25.0}, abs=1e-4)}
    # the plain sum cannot follow it: a model whose compute and memory times are equal takes
    # 2^(1/0.7) = 2.69 of one, not 2; among every candidate form the fit keeps blend 0.7
    assert validate(records, ROOFLINE, "5-fold").median_abs_pct_error > 1
    profile = fit_profile(
        records,
        name="p",
        device="d",
        convention="fvcore",
        setting=Setting("inference", 1, "float32", False),
        source=Source("synthetic", "", "", 0, 0),
    )
    assert (profile.form, profile.blend) == ("roofline", 0.7)
    assert profile.validation.median_abs_pct_error < 1e-3
    assert profile_form(profile) == roofline_form(0.7)
    # written and read back, the blend is kept; `profile show` writes the formula with it
    assert profile_from_document(json.loads(profile_to_json(profile)), "x") == profile
    formula = (
        "- model: seconds per image = (e^(0.7·intercept) + (flops·e^cost(flops))^0.7 "
        "+ (acts·e^cost(acts))^0.7)^(1/0.7); fit: "
    )
    assert formula in to_markdown(profile)


def test_roofline_fit_on_identical_counts_predicts_the_median_time() -> None:
    """Six models with the same counts: no term can tell them apart, so least absolute
    deviations predicts a median of their times (any value from the 3rd to the 4th)."""
    records = [FitRecord(f"m{i}", None, 1e9, 1e6, 1e6, 1e-3 * (1 + i / 10)) for i in range(6)]
    fit = fit_form(records, ROOFLINE)
    predicted = math.exp(fit.predict_log(records[0]))
    assert 1.2e-3 - 1e-9 <= predicted <= 1.3e-3 + 1e-9


def test_roofline_family_cost_moves_toward_its_own() -> None:
    """A family whose acts cost e^0.5 times the shared one (-25 + 0.5): the ridge that pulls
    each family toward the shared costs leaves it most of its own difference, and both acts
    costs within 0.15 of the truth; the flops cost, equal for both, within 0.05."""
    fit = fit_form(_roofline_records({None: 0.0, "vit": 0.5}), ROOFLINE)
    own = fit.costs["vit"]["acts"] - fit.costs["other"]["acts"]
    assert 0.3 < own < 0.6
    assert fit.costs["vit"]["acts"] == pytest.approx(-24.5, abs=0.15)
    assert fit.costs["other"]["acts"] == pytest.approx(-25.0, abs=0.15)
    for group in ("vit", "other"):
        assert fit.costs[group]["flops"] == pytest.approx(-32.0, abs=0.05)


def test_extrapolation_flag() -> None:
    profile = load_profile("v100-pycls-infer")  # RegNet, ResNe(X)t, EfficientNet, 0.2-32 GF
    low_f, high_f = profile.ranges["flops"]
    inside = (4.0e9, 20e6, 12e6)
    assert not predict(profile, *inside, "regnet").extrapolated
    assert predict(profile, high_f * 2, 20e6, 12e6, "regnet").extrapolated
    assert predict(profile, low_f / 2, 20e6, 12e6, "regnet").extrapolated
    # a family the profile never saw: the mean of each group's parameters, flagged
    assert profile.form == "roofline" and "other" not in profile.intercepts
    vit = predict(profile, *inside, "vit")
    assert vit.extrapolated
    groups = len(profile.intercepts)
    overhead = sum(profile.intercepts.values()) / groups
    per_flop = sum(c["flops"] for c in profile.costs.values()) / groups
    per_act = sum(c["acts"] for c in profile.costs.values()) / groups
    flops, _, acts = inside
    p = profile.blend
    seconds = (
        math.exp(overhead) ** p
        + (flops * math.exp(per_flop)) ** p
        + (acts * math.exp(per_act)) ** p
    ) ** (1 / p)
    assert vit.seconds_per_image == pytest.approx(seconds, rel=1e-12)


def test_pycls_time_per_image_reproduces_model_zoo_tables() -> None:
    """MODEL_ZOO.md prints infer ms for 64 images on 1 GPU and train hours for 100 epochs on 8
    GPUs; both follow from our seconds per image (per GPU)."""
    text = (DATA / "pycls" / "MODEL_ZOO.md").read_text(encoding="utf-8")
    table = {}
    for name, body in re.findall(r"<!-- ROW (\S+) -->(.*?)</tr>", text, re.DOTALL):
        cells = re.findall(r'<td align="center">([^<]*)</td>', body)
        table[name] = (float(cells[4]), float(cells[5]))
    infer = {r.name: r.seconds for r in pycls_records(DATA / "pycls", "inference")}
    train = {r.name: r.seconds for r in pycls_records(DATA / "pycls", "train")}
    assert len(infer) == len(train) == 36 and set(infer) <= set(table)
    for name, (ms, hours) in table.items():
        if name not in infer:
            continue
        assert round(infer[name] * 64 * 1000) == ms, name
        assert round(train[name] / 8 * 1281167 * 100 / 3600, 1) == pytest.approx(hours), name


def test_pycls_counts_are_the_zoo_complexity() -> None:
    records = {r.name: r for r in pycls_records(DATA / "pycls", "inference")}
    resnet50 = records["ResNet-50"]  # MODEL_ZOO.md: 4.1 GF, 25.6 M params, 11.3 M acts
    assert (resnet50.flops, resnet50.params, resnet50.acts) == pytest.approx(
        (4.1e9, 25.6e6, 11.3e6), rel=0.01
    )
    assert resnet50.family == "resnet" and records["EfficientNet-B3"].family == "efficientnet"


def test_timm_records_units_and_filters() -> None:
    records, dropped = timm_records(
        DATA / "timm" / "benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv"
    )
    # the file has 1443 rows: one without counts, three test_* models, no repeated pair
    assert dropped == {"missing or non-numeric value": 1, "test_* model": 3}
    assert len(records) == 1443 - 4
    # the row "resnet50,224,3219.06,...,25.56,4.11,11.11" (M params, GMACs, M acts)
    resnet50 = next(r for r in records if r.name == "resnet50" and round(r.flops) == 4_110_000_000)
    assert (resnet50.acts, resnet50.params) == pytest.approx((11.11e6, 25.56e6), rel=1e-12)
    assert resnet50.seconds == pytest.approx(1 / 3219.06, rel=1e-12)
    assert all(r.flops > 0 and r.acts > 0 and r.params > 0 for r in records)


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("resnet50", "resnet"),
        ("resnext101_32x8d", "resnet"),
        ("wide_resnet50_2", "resnet"),
        ("wide_resnet101_2", "resnet"),
        ("regnety_040", "regnet"),
        ("regnetz_040", None),
        ("vit_base_patch16_224", "vit"),
        ("deit_small_patch16_224", "vit"),
        ("convnext_tiny", "convnext"),
        ("convnext_large_mlp", "convnext"),
        ("convnext_base_384_in22ft1k", "convnext"),
        ("convnextv2_tiny", None),
        ("convnext_atto_rms", None),
        ("convnext_nano_ols", None),
        ("convnext_tiny_hnf", None),
        ("tf_efficientnet_b3", "efficientnet"),
        ("efficientnetv2_rw_s", None),
    ],
)
def test_timm_family(model: str, family: str | None) -> None:
    assert timm_family(model) == family


def test_profile_from_real_bench_output() -> None:
    text = BENCH.read_text(encoding="utf-8")
    document = json.loads(text)
    profile = fit_user_file(BENCH, "mine", FitOptions(validation="loo"))[0]
    rows = document["rows"]
    assert profile.source.models == profile.validation.rows == len(rows) == 9
    assert profile.validation.method == "leave-one-out"
    assert profile.convention == "paper" and profile.setting.batch_size == 8
    assert profile.ranges["flops"] == (min(r["flops"] for r in rows), max(r["flops"] for r in rows))
    # each record's time is the row's median seconds per batch over its batch size
    base = next(r for r in rows if r["key"] == "regnety_400mf/base")
    times = sorted(base["runtime"]["times_s"])
    assert base["runtime"]["median_s"] == times[2]
    assert profile_from_document(json.loads(profile_to_json(profile)), "x") == profile


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda d: d.pop("convention"), "convention"),
        (lambda d: d.update(version=2), "version"),
        (lambda d: d.update(format="other"), "format"),
        (lambda d: d["model"]["coefficients"].update(flops="x"), "model.coefficients.flops"),
        (lambda d: d["model"]["coefficients"].update(depth=1.0), "model.coefficients.depth"),
        (lambda d: d["model"].update(intercepts={}), "model.intercepts"),
        (lambda d: d["range"].update(acts=[5, 1]), "range.acts"),
        (lambda d: d["setting"].update(mode="eval"), "setting.mode"),
        (lambda d: d["validation"].pop("spearman"), "validation.spearman"),
        (lambda d: d["model"].update(time_unit="ms"), "model.time_unit"),
    ],
)
def test_malformed_profile_names_file_and_key(tmp_path: Path, edit: object, key: str) -> None:
    document = json.loads((BUILTIN_DIR / "rtx4090.json").read_text(encoding="utf-8"))
    edit(document)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ProfileError) as error:
        load_profile(path)
    message = str(error.value)
    assert message.startswith(f"{path}: {key}") and "\n" not in message


def test_missing_unparsable_and_other_convention(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"nope\.json: no such file .*rtx4090"):
        load_profile(tmp_path / "nope.json")
    (tmp_path / "x.json").write_text("{", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"x\.json: not valid JSON at line 1, column 2"):
        load_profile(tmp_path / "x.json")
    with pytest.raises(ProfileError, match=r"rtx4090\.json: convention: .*'fvcore'.*'paper'"):
        load_profile("rtx4090", convention="paper")
    assert load_profile("rtx4090", convention="fvcore").convention == "fvcore"


def test_profile_modules_import_no_numpy_or_torch_at_load() -> None:
    """Loading a profile and predicting are pure: the modules they need import, at top level,
    only the standard library and scalecalc's own pure modules."""
    import ast

    pure = {"scalecalc.errors", "scalecalc.files", "scalecalc.profile.model", "scalecalc.inputs"}
    pure.update({"scalecalc.jsonfile", "scalecalc.profile.document", "scalecalc.costs"})
    pure.update({"scalecalc.units", "scalecalc.schema", "scalecalc.profile.regions"})
    modules = ("profile/model", "profile/document", "profile/report", "profile/regions")
    modules += ("errors", "files", "inputs")
    modules += ("jsonfile", "costs", "units", "schema")
    for module in modules:
        tree = ast.parse((REPO / "scalecalc" / f"{module}.py").read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name in pure or name.split(".")[0] in sys.stdlib_module_names, name


def test_profile_terms_are_the_measures_counted() -> None:
    """A profile's terms are the three measures a count gives, in the profile's own order."""
    from scalecalc.costs import MEASURES
    from scalecalc.profile.model import TERMS

    assert sorted(TERMS) == sorted(MEASURES) == ["acts", "flops", "params"]
    assert TERMS == ("flops", "acts", "params")
