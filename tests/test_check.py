"""The baseline file, drift detection and report renderers of `scalecalc check`, without the CLI.

Counts here are small hand-made integers, so every expected drift and percent is hand arithmetic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from scalecalc.check import baseline as check
from scalecalc.check import report as check_report
from scalecalc.costs import Costs
from scalecalc.errors import BaselineError, ConfigError


@dataclass(frozen=True)
class Row:
    """A minimal stand-in for compare.CompareRow: a key and costs."""

    key: str
    costs: Costs


def row(key: str, flops: int, params: int, acts: int, unsupported: tuple = ()) -> Row:
    return Row(key, Costs(flops, params, acts, (), unsupported))


def baseline(**entries: check.BaselineEntry) -> check.Baseline:
    """A baseline of `entries`, with `__` in a keyword standing for `/` in the key."""
    keyed = {key.replace("__", "/"): record for key, record in entries.items()}
    return check.Baseline("b.json", "paper", "0.1.0", keyed)


BASE = baseline(
    a__base=check.BaselineEntry(1000, 200, 50), b__base=check.BaselineEntry(4000, 300, 80)
)


# diff: what drifts, with what numbers.


def test_equal_counts_have_no_drift() -> None:
    assert check.diff(BASE, [row("a/base", 1000, 200, 50), row("b/base", 4000, 300, 80)]) == []


def test_changed_measures_are_reported_with_both_counts() -> None:
    rows = [row("a/base", 1010, 200, 45), row("b/base", 4000, 301, 80)]
    assert check.diff(BASE, rows) == [
        check.Drift("a/base", "flops", "changed", 1000, 1010),
        check.Drift("a/base", "acts", "changed", 50, 45),
        check.Drift("b/base", "params", "changed", 300, 301),
    ]


def test_change_percent_is_relative_to_the_baseline() -> None:
    assert check.Drift("k", "flops", "changed", 1000, 1010).change_percent == pytest.approx(1.0)
    assert check.Drift("k", "acts", "changed", 50, 45).change_percent == pytest.approx(-10.0)
    assert check.Drift("k", "acts", "changed", 0, 5).change_percent is None
    assert check.Drift("k", "entry", "new").change_percent is None


def test_missing_and_new_entries() -> None:
    rows = [row("a/base", 1000, 200, 50), row("c/w/x2", 1, 1, 1)]
    assert check.diff(BASE, rows) == [
        check.Drift("b/base", "entry", "missing"),
        check.Drift("c/w/x2", "entry", "new"),
    ]


def test_rtol_applies_to_flops_and_acts_but_never_params() -> None:
    # flops +0.5%, acts -2% (49 vs 50), params +1 of 200.
    rows = [row("a/base", 1005, 201, 49), row("b/base", 4000, 300, 80)]
    assert [(d.measure, d.kind) for d in check.diff(BASE, rows, rtol=0.01)] == [
        ("params", "changed"),
        ("acts", "changed"),
    ]
    assert [d.measure for d in check.diff(BASE, rows, rtol=0.03)] == ["params"]


def test_rtol_bound_is_inclusive() -> None:
    assert check.within(1000, 1010, 0.01) and not check.within(1000, 1011, 0.01)
    assert check.within(0, 0, 0.0) and not check.within(0, 1, 0.5)


def test_new_gone_and_more_unsupported_op_calls_are_drifts() -> None:
    old = baseline(a__base=check.BaselineEntry(1, 1, 1, (("aten::gone", 2), ("aten::more", 1))))
    current = [row("a/base", 1, 1, 1, (("aten::more", 3), ("aten::new", 1)))]
    assert check.diff(old, current) == [
        check.Drift("a/base", "aten::gone", "unsupported", 2, 0),
        check.Drift("a/base", "aten::more", "unsupported", 1, 3),
        check.Drift("a/base", "aten::new", "unsupported", 0, 1),
    ]


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), True, "0.1"])
def test_rtol_must_be_a_finite_number_at_least_zero(bad: object) -> None:
    with pytest.raises(ConfigError, match="--rtol: must be a finite number >= 0"):
        check.check_rtol(bad)  # type: ignore[arg-type]


def test_exit_code_policy() -> None:
    drift = [check.Drift("k", "flops", "changed", 1, 2)]
    assert check.exit_code([]) == 0
    assert check.exit_code(drift) == 1
    assert check.exit_code(drift, update=True) == 0


def test_convention_mismatch_is_a_baseline_error() -> None:
    check.require_convention(BASE, "paper")
    expected = "counted with the 'paper' convention, this run uses 'fvcore'"
    with pytest.raises(BaselineError, match=expected):
        check.require_convention(BASE, "fvcore")


# The file: format, round trip, refusals that need no corpus file.


def test_file_is_sorted_indented_and_ends_with_a_newline() -> None:
    entries = {"z/base": check.BaselineEntry(3, 2, 1), "a/base": check.BaselineEntry(6, 5, 4)}
    text = check.format_baseline(entries, "paper", "9.9")
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    assert json.loads(text) == {
        "format": "scalecalc-baseline",
        "version": 1,
        "convention": "paper",
        "tool_version": "9.9",
        "entries": {
            "a/base": {"flops": 6, "params": 5, "acts": 4, "unsupported_ops": {}},
            "z/base": {"flops": 3, "params": 2, "acts": 1, "unsupported_ops": {}},
        },
    }


counts = st.integers(min_value=0, max_value=10**15)
ops = st.dictionaries(st.text(min_size=1, max_size=12), st.integers(1, 10**6), max_size=3)
records = st.builds(
    lambda f, p, a, u: check.BaselineEntry(f, p, a, tuple(sorted(u.items()))),
    counts,
    counts,
    counts,
    ops,
)


@given(
    entries=st.dictionaries(
        st.text(min_size=1, max_size=30).filter(str.strip), records, max_size=6
    ),
    convention=st.sampled_from(["paper", "fvcore"]),
)
def test_written_baselines_read_back_equal(
    tmp_path_factory: pytest.TempPathFactory,
    entries: dict[str, check.BaselineEntry],
    convention: str,
) -> None:
    path = tmp_path_factory.mktemp("b") / "costs.json"
    path.write_text(check.format_baseline(entries, convention, "0.1.0"), encoding="utf-8")
    read = check.read_baseline(path)
    assert (read.convention, read.tool_version, read.entries) == (convention, "0.1.0", entries)


def test_records_of_rows_keep_counts_and_unsupported_ops() -> None:
    rows = [row("a/base", 7, 8, 9, (("aten::x", 2),))]
    assert check.entries_of(rows) == {"a/base": check.BaselineEntry(7, 8, 9, (("aten::x", 2),))}


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "costs.json"
    path.write_bytes(data)
    return path


def test_missing_file_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="costs.json: no such file; create it with --update"):
        check.read_baseline(tmp_path / "costs.json")


def test_directory_and_binary_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="is a directory"):
        check.read_baseline(tmp_path)
    with pytest.raises(BaselineError, match="not UTF-8"):
        check.read_baseline(_write(tmp_path, b"\xff\xfe{}"))


def test_absurd_json_is_one_error_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="not a usable JSON document"):
        check.read_baseline(_write(tmp_path, b"[" * 100_000 + b"]" * 100_000))
    huge = b'{"format": "scalecalc-baseline", "version": ' + b"9" * 5000 + b"}"
    with pytest.raises(BaselineError, match="not a usable JSON document"):
        check.read_baseline(_write(tmp_path, huge))


# Renderers: golden strings for a hand-made outcome.

OUTCOME = check.Outcome(
    drifts=(
        check.Drift("net/base", "flops", "changed", 4_000_000_000, 4_100_000_000),
        check.Drift("net/base", "aten::foo", "unsupported", 0, 2),
        check.Drift("old/base", "entry", "missing"),
    ),
    entries=12,
    convention="paper",
    rtol=0.005,
    baseline="configs/baselines/costs.json",
    baseline_tool_version="0.0.9",
    tool_version="0.1.0",
)

MARKDOWN = (
    (
        "### scalecalc check: 3 drifts in 12 entries\n\n"
        "Baseline `configs/baselines/costs.json`, paper convention, params exact, flops and acts "
        "within ±0.5%.\n"
    )
    + """\
The baseline was written by scalecalc 0.0.9; this is 0.1.0.

| entry | measure | baseline | current | change |
| :--- | :--- | ---: | ---: | ---: |
| net/base | flops | 4,000,000,000 | 4,100,000,000 | +2.5% |
| net/base | unsupported op aten::foo | 0 | 2 | — |
| old/base | entry | — | — | missing from this run |
"""
)


def test_markdown_report() -> None:
    assert check_report.to_markdown(OUTCOME) == MARKDOWN


def test_markdown_report_without_drift_has_no_table() -> None:
    clean = check.Outcome((), 1, "fvcore", 0.0, "b.json", tool_version="0.1.0")
    assert check_report.to_markdown(clean) == (
        "### scalecalc check: no drift in 1 entry\n\nBaseline `b.json`, fvcore convention, "
        "all counts exact.\n"
    )


def test_json_report() -> None:
    data = json.loads(check_report.to_json(OUTCOME))
    assert data["passed"] is False and data["entries"] == 12 and data["rtol"] == 0.005
    assert data["drifts"][0] == {
        "key": "net/base",
        "measure": "flops",
        "kind": "changed",
        "baseline": 4_000_000_000,
        "current": 4_100_000_000,
        "change_percent": 2.5,
    }
    assert [d["kind"] for d in data["drifts"]] == ["changed", "unsupported", "missing"]
    assert data["drifts"][2]["baseline"] is None and data["drifts"][2]["change_percent"] is None
    text = check_report.to_json(OUTCOME)
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"


def test_update_summary_names_the_file() -> None:
    updated = check.Outcome(OUTCOME.drifts[:1], 12, "paper", 0.0, "b.json", updated=True)
    assert check_report.summary(updated) == "check: 1 change in 12 entries; wrote b.json"
    assert "all counts exact" not in check_report.to_markdown(updated)


@pytest.mark.parametrize(
    ("percent", "text"),
    [
        (0.5, "+0.5%"),
        (-12.345, "-12.3%"),
        (250.0, "+250%"),
        (0.0001234, "+0.000123%"),
        (None, "—"),
    ],
)
def test_format_change(percent: float | None, text: str) -> None:
    assert check_report.format_change(percent) == text
