"""Sweep files: validation with one-line errors, path resolution, expansion into keyed entries."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from scalecalc.errors import ConfigError
from scalecalc.scaling import GRAMMAR
from scalecalc.sweep import DEFAULT_SWEEP, Sweep, expand, format_count
from scalecalc.sweep_file import make_sweep, read_sweep
from scalecalc.sweep_options import SweepOptions, sweep_from_options

REPO = Path(__file__).resolve().parent.parent


def write(folder: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_builtin_default_equals_the_shipped_file() -> None:
    assert read_sweep(REPO / "configs" / "sweeps" / "default.yaml") == DEFAULT_SWEEP
    fields = dataclasses.asdict(DEFAULT_SWEEP)
    assert make_sweep(**fields) == DEFAULT_SWEEP  # the built-in one passes validation too


@pytest.mark.parametrize("path", sorted((REPO / "configs" / "sweeps").glob("*.yaml")))
def test_shipped_sweeps_load_and_expand(path: Path) -> None:
    entries = expand(read_sweep(path), str(path))
    assert entries and len({e.key for e in entries}) == len(entries)


def test_default_sweep_covers_one_base_per_family() -> None:
    assert DEFAULT_SWEEP.bases == (
        "regnety_4gf",
        "resnet50",
        "vit_b16",
        "convnext_t",
        "efficientnet_b0",
    )
    assert DEFAULT_SWEEP.strategies == ("w", "d", "r", "dw", "dwr", "dWr")
    # Solved for multiples of each base's flops, so that strategies compare at equal flops.
    assert (DEFAULT_SWEEP.factors, DEFAULT_SWEEP.target_flops) == ((), ())
    assert DEFAULT_SWEEP.target_factors == (2, 4, 8, 16)
    entries = expand(DEFAULT_SWEEP)
    assert len(entries) == 5 * (1 + 6 * 4)
    assert entries[1].key == "regnety_4gf/w/@2x" and entries[1].target_factor == 2
    assert len({e.key for e in entries}) == len(entries)


def test_read_sweep_with_presets_paths_and_targets(tmp_path: Path) -> None:
    write(tmp_path / "models", "preset: resnet50\nresolution: 192\nname: r50_192\n", "r50.yaml")
    path = write(
        tmp_path / "sweeps",
        "bases: [regnetx_400mf, ../models/r50.yaml]\nstrategies: [dWr, ' w ']\n"
        "factors: [4, 2]\ntarget_flops: [16G, 2e9]\ntarget_factors: [8, 2.5]\n"
        "convention: fvcore\n",
    )
    sweep = read_sweep(path)
    assert sweep == Sweep(
        bases=("regnetx_400mf", str(tmp_path / "sweeps" / "../models/r50.yaml")),
        strategies=("dWr", "w"),
        factors=(2.0, 4.0),
        target_flops=(2_000_000_000, 16_000_000_000),
        target_factors=(2.5, 8.0),
        convention="fvcore",
    )
    lone = write(tmp_path, "bases: [resnet50]\nstrategies: [w]\ntarget_factors: 4\n")
    assert read_sweep(lone).target_factors == (4.0,)


def test_relative_base_paths_resolve_against_the_sweep_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "sweeps", "preset: regnetx_400mf\nname: small\n", "small.yaml")
    path = write(tmp_path / "sweeps", "bases: [small.yaml]\nstrategies: [d]\nfactors: [2]\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    entries = expand(read_sweep(Path("..") / "sweeps" / "sweep.yaml"))
    assert [e.key for e in entries] == ["small/base", "small/d/x2"]
    assert entries[0].model.spec.widths == (32, 64, 160, 384)
    assert read_sweep(path).bases == (str(tmp_path / "sweeps" / "small.yaml"),)


def test_a_file_named_like_a_preset_in_the_cwd_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "not: a model\n", "resnet50")
    monkeypatch.chdir(tmp_path)
    [base, _] = expand(make_sweep(["resnet50"], ["w"], [2]))
    assert base.model.name == "resnet50" and base.model.spec.depths == (3, 4, 6, 3)


def test_expand_keys_and_order() -> None:
    sweep = make_sweep(["regnetx_400mf", "resnet50"], ["dWr", "w"], [4, 2.5], ["16G"], [4, 1.5])
    keys = [e.key for e in expand(sweep)]
    assert keys == [
        "regnetx_400mf/base",
        "regnetx_400mf/dWr/x2.5",
        "regnetx_400mf/dWr/x4",
        "regnetx_400mf/dWr/@16G",
        "regnetx_400mf/dWr/@1.5x",
        "regnetx_400mf/dWr/@4x",
        "regnetx_400mf/w/x2.5",
        "regnetx_400mf/w/x4",
        "regnetx_400mf/w/@16G",
        "regnetx_400mf/w/@1.5x",
        "regnetx_400mf/w/@4x",
        "resnet50/base",
        "resnet50/dWr/x2.5",
        "resnet50/dWr/x4",
        "resnet50/dWr/@16G",
        "resnet50/dWr/@1.5x",
        "resnet50/dWr/@4x",
        "resnet50/w/x2.5",
        "resnet50/w/x4",
        "resnet50/w/@16G",
        "resnet50/w/@1.5x",
        "resnet50/w/@4x",
    ]
    entries = expand(sweep)
    assert (entries[3].strategy, entries[3].factor, entries[3].target_flops) == (
        "dWr",
        None,
        16_000_000_000,
    )
    assert (entries[5].strategy, entries[5].target_factor, entries[5].target_flops) == (
        "dWr",
        4.0,
        None,
    )


def test_format_count() -> None:
    assert format_count(16_000_000_000) == "16G"
    assert format_count(400_000_000) == "400M"
    assert format_count(4_089_184_256) == "4.08918G"
    assert format_count(2_500_000_000_000) == "2.5T"
    assert format_count(999) == "999"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "bases: [resnet50]\nstrategies: [w]\nfactor: [2]\n",
            (
                "unknown key 'factor'; allowed: bases, strategies, factors, target_flops, "
                "target_factors, convention, target_time, target_time_factors"
            ),
        ),
        ("strategies: [w]\nfactors: [2]\n", "missing key 'bases'"),
        (
            "bases: [resnet50]\nstrategies: [w]\n",
            "needs at least one of 'factors', 'target_flops', 'target_factors', 'target_time', "
            "'target_time_factors'",
        ),
        (
            "bases: [resnet50]\nstrategies: [w]\nfactors: []\ntarget_factors: []\n",
            "needs at least one of 'factors', 'target_flops', 'target_factors', 'target_time', "
            "'target_time_factors'",
        ),
        (
            "bases: [resnet50]\nstrategies: [w]\ntarget_factors: [4, 0]\n",
            "target_factors: 0 must be a finite number > 0",
        ),
        (
            "bases: [resnet50]\nstrategies: [w]\ntarget_factors: [4x]\n",
            "target_factors: '4x' is not a number; factors must be > 0",
        ),
        (
            "bases: [resnet50]\nstrategies: [w]\ntarget_factors: {a: 1}\n",
            "target_factors: must be a list of numbers > 0, got {'a': 1}",
        ),
        (
            "bases: [resnet50]\nstrategies: [w]\ntarget_factors: [4, 4.0]\n",
            "target_factors: factor 4 appears twice",
        ),
        (
            "bases: [resnet50]\nstrategies: [w]\nfactors: [2, -1]\n",
            "factors: -1 must be a finite number > 0",
        ),
        (
            "bases: [resnet50]\nstrategies: [w]\nfactors: [.nan]\n",
            "factors: nan must be a finite number > 0",
        ),
        (
            "bases: [resnet50]\nstrategies: [w]\nfactors: [.inf]\n",
            "factors: inf must be a finite number > 0",
        ),
        (
            "bases: [resnet50]\nstrategies: [w]\nfactors: [two]\n",
            "factors: 'two' is not a number; factors must be > 0",
        ),
        (
            "bases: [resnet50]\nstrategies: [w]\nfactors: [true]\n",
            "factors: True is not a number; factors must be > 0",
        ),
        (
            "bases: [resnet50]\nstrategies: [w]\nfactors: [2, 2.0]\n",
            "factors: factor 2 appears twice",
        ),
        (
            "bases: [resnet50]\nstrategies: [w]\ntarget_flops: [16X]\n",
            "target_flops: expected a count such as 16G or 4e9, got '16X'",
        ),
        (
            "bases: [resnet50]\nstrategies: [w]\nfactors: [2]\nconvention: timm\n",
            "convention: 'timm' is not one of paper, fvcore",
        ),
        ("bases: []\nstrategies: [w]\nfactors: [2]\n", "bases: must be a non-empty list, got []"),
        (
            "bases: [resnet50, resnet50]\nstrategies: [w]\nfactors: [2]\n",
            "bases: 'resnet50' appears twice",
        ),
        (
            "bases: [resnet50]\nstrategies: [w, 3]\nfactors: [2]\n",
            "strategies: entries must be non-empty strings, got 3",
        ),
        (
            "[1, 2]\n",
            (
                "expected a mapping with keys bases, strategies, factors, target_flops, "
                "target_factors, convention, target_time, target_time_factors, got a list"
            ),
        ),
        (
            "",
            (
                "expected a mapping with keys bases, strategies, factors, target_flops, "
                "target_factors, convention, target_time, target_time_factors, got empty"
            ),
        ),
    ],
)
def test_bad_sweep_files_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        read_sweep(path)
    assert str(error.value) == f"{path}: {message}"


def test_bad_strategy_lists_the_grammar(tmp_path: Path) -> None:
    path = write(tmp_path, "bases: [resnet50]\nstrategies: [w, dxr]\nfactors: [2]\n")
    with pytest.raises(ConfigError) as error:
        read_sweep(path)
    assert str(error.value).startswith(f"{path}: strategies: strategy 'dxr'")
    assert GRAMMAR in str(error.value) and "\n" not in str(error.value)


def test_bad_bases_name_the_sweep_file(tmp_path: Path) -> None:
    path = write(tmp_path, "bases: [resnet5O]\nstrategies: [w]\nfactors: [2]\n")
    with pytest.raises(ConfigError) as error:
        expand(read_sweep(path), str(path))
    assert str(error.value).startswith(
        f"{path}: bases: unknown preset 'resnet5O' (did you mean resnet50 or "
    )
    assert str(error.value).endswith("(or a path ending in .yaml)")
    path = write(tmp_path, "bases: [missing.yaml]\nstrategies: [w]\nfactors: [2]\n")
    with pytest.raises(ConfigError) as error:
        expand(read_sweep(path), str(path))
    assert str(error.value) == f"{path}: bases: {tmp_path / 'missing.yaml'}: no such file"


def test_two_bases_with_one_name_are_an_error(tmp_path: Path) -> None:
    write(tmp_path, "preset: resnet50\nresolution: 160\n", "resnet50.yaml")
    sweep = make_sweep(["resnet50", str(tmp_path / "resnet50.yaml")], ["w"], [2])
    with pytest.raises(ConfigError, match="are both named 'resnet50'; give one a 'name:'"):
        expand(sweep)


def test_command_line_errors_name_the_option() -> None:
    with pytest.raises(ConfigError) as error:
        make_sweep(["resnet50"], ["w"], [0.0])
    assert str(error.value) == "--factors: 0.0 must be a finite number > 0"
    with pytest.raises(ConfigError) as error:
        make_sweep(["resnet50"], ["w"], [], ["lots"])
    assert str(error.value) == "--target-flops: expected a count such as 16G or 4e9, got 'lots'"
    with pytest.raises(ConfigError) as error:
        make_sweep(["resnet50"], ["w"], target_factors=[float("nan")])
    assert str(error.value) == "--target-factor: nan must be a finite number > 0"
    message = (
        "^give at least one of --factors, --target-flops, --target-factor, --target-time, "
        "--target-time-factor$"
    )
    with pytest.raises(ConfigError, match=message):
        make_sweep(["resnet50"], ["w"])


def test_sweep_options_replace_the_default_goals_and_keep_its_bases() -> None:
    options = SweepOptions(strategies=["w,d"], factors=["4,2", "8"], convention="fvcore")
    sweep, entries = sweep_from_options(DEFAULT_SWEEP, options)
    assert (sweep.strategies, sweep.factors, sweep.target_factors) == (
        ("w", "d"),
        (2.0, 4.0, 8.0),
        (),
    )
    assert (sweep.bases, sweep.convention) == (DEFAULT_SWEEP.bases, "fvcore")
    # per base: the base, then 2 strategies x 3 factors
    assert len(entries) == len(DEFAULT_SWEEP.bases) * (1 + 2 * 3)
    assert entries[1].key == "regnety_4gf/w/x2"


def test_compare_and_bench_declare_the_same_sweep_options() -> None:
    import typer

    from scalecalc.cli import app

    command = typer.main.get_command(app)
    names = {
        name: [p.name for p in command.commands[name].params][:9]  # type: ignore[attr-defined]
        for name in ("compare", "bench")
    }
    assert names["compare"] == names["bench"] == [
        "configs", "sweep_file", "strategies", "factors", "target_flops", "target_factors",
        "target_times", "target_time_factors", "convention",
    ]  # fmt: skip
