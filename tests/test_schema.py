"""The checks every JSON reader shares: what each accepts, returns and refuses, word for word."""

from __future__ import annotations

from typing import Any

import pytest

from scalecalc.schema import (
    Check,
    Invalid,
    array,
    boolean,
    choice,
    dotted,
    fields,
    integer,
    nullable,
    number,
    obj,
    positive,
    text,
)

HUGE = 10**400  # more digits than a float holds


def refusal(check: Check, value: Any, path: tuple = ("k",)) -> str:
    with pytest.raises(Invalid) as error:
        check(value, path)
    return str(error.value)


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ((), "the document"),
        (("setup",), "setup"),
        (("rows", 0, "runtime", "median_s"), "rows[0].runtime.median_s"),
        (("range", "flops", 1), "range.flops[1]"),
        ((2, "key"), "[2].key"),
    ],
)
def test_a_key_path_reads_as_dots_and_indexes(path: tuple, shown: str) -> None:
    assert dotted(path) == shown
    error = Invalid(path, "missing")
    assert (str(error), error.path, error.problem) == (f"{shown}: missing", path, "missing")


def test_integer_takes_ints_within_its_bounds_inclusive() -> None:
    check = integer(1, 10**9)
    assert [check(v, ("k",)) for v in (1, 7, 10**9)] == [1, 7, 10**9]
    assert refusal(check, 0) == "k: must be an integer from 1 to 1e+09, got 0"
    assert refusal(check, 10**9 + 1) == "k: must be an integer from 1 to 1e+09, got 1000000001"
    assert refusal(check, 2.0) == "k: must be an integer from 1 to 1e+09, got 2.0"
    assert refusal(check, True) == "k: must be an integer from 1 to 1e+09, got True"
    assert refusal(check, "2") == "k: must be an integer from 1 to 1e+09, got '2'"
    assert refusal(check, None) == "k: must be an integer from 1 to 1e+09, got None"
    # a bound that is not a round power of ten is shown to six digits, not rounded to 1e+18
    assert refusal(integer(0, 2**60), -1) == "k: must be an integer from 0 to 1.15292e+18, got -1"


def test_number_takes_finite_ints_and_floats_as_floats() -> None:
    check = number(-1.0, 1.0)
    assert check(1, ("k",)) == 1.0 and isinstance(check(1, ("k",)), float)
    assert check(-0.5, ("k",)) == -0.5
    for bad, shown in ((1.5, "1.5"), (float("nan"), "nan"), (float("inf"), "inf"), ("0", "'0'")):
        assert refusal(check, bad) == f"k: must be a number from -1 to 1, got {shown}"
    assert refusal(check, False) == "k: must be a number from -1 to 1, got False"
    assert refusal(number(1.0, 1e30), HUGE).startswith("k: must be a number from 1 to 1e+30, got 1")
    seconds = number(1e-9, 1e6, what="seconds")
    assert seconds(1e-9, ("k",)) == 1e-9
    assert refusal(seconds, 0) == "k: must be seconds from 1e-09 to 1e+06, got 0"


def test_positive_takes_numbers_above_zero() -> None:
    assert positive(3, ("k",)) == 3.0 and positive(1e-300, ("k",)) == 1e-300
    for bad, shown in ((0, "0"), (-2.5, "-2.5"), (float("inf"), "inf"), (True, "True")):
        assert refusal(positive, bad) == f"k: must be a finite number > 0, got {shown}"


def test_text_takes_strings_that_encode_as_utf8() -> None:
    assert text("V100 ✓", ("k",)) == "V100 ✓" and text("", ("k",)) == ""
    assert refusal(text, 7) == "k: must be a UTF-8 string, got 7"
    assert refusal(text, "x\ud800") == "k: must be a UTF-8 string, got 'x\\ud800'"


def test_boolean_takes_only_true_and_false() -> None:
    assert boolean(True, ("k",)) is True and boolean(False, ("k",)) is False
    assert refusal(boolean, 1) == "k: must be true or false, got 1"
    assert refusal(boolean, "true") == "k: must be true or false, got 'true'"


def test_choice_takes_one_of_its_strings() -> None:
    check = choice(("paper", "fvcore"))
    assert check("fvcore", ("k",)) == "fvcore"
    assert refusal(check, "timm") == "k: must be one of paper, fvcore, got 'timm'"
    assert refusal(check, None) == "k: must be one of paper, fvcore, got None"


def test_array_checks_the_list_then_each_item_by_index() -> None:
    assert array()([], ("k",)) == [] and array()([1, "x"], ("k",)) == [1, "x"]
    assert refusal(array(), {}) == "k: must be a list, got {}"
    times = array(number(1e-9, 1e6, "seconds"), "seconds", non_empty=True)
    assert times([1, 0.5], ("k",)) == [1.0, 0.5]
    assert refusal(times, []) == "k: must be a non-empty list of seconds, got []"
    assert refusal(times, "fast") == "k: must be a non-empty list of seconds, got 'fast'"
    assert refusal(times, [1, -1]) == "k[1]: must be seconds from 1e-09 to 1e+06, got -1"


def test_nullable_takes_null_or_what_its_check_takes() -> None:
    check = nullable(integer(0, 10))
    assert check(None, ("k",)) is None and check(4, ("k",)) == 4
    assert refusal(check, 11) == "k: must be null or an integer from 0 to 10, got 11"
    # a problem inside a list is the item's, which cannot be null
    items = nullable(array(integer(0, 10)))
    assert refusal(items, [1, 11]) == "k[1]: must be an integer from 0 to 10, got 11"


def test_obj_checks_required_and_with_optional_given_refuses_other_keys() -> None:
    assert obj({"a": 1}, ("k",)) == {"a": 1}
    assert refusal(obj, [1]) == "k: must be an object, got [1]"
    assert refusal(obj, "x", ()) == "the document: must be an object, got 'x'"
    with pytest.raises(Invalid, match=r"^k\.b: missing$"):
        obj({"a": 1}, ("k",), ("a", "b"))
    assert obj({"a": 1, "z": 2}, ("k",), ("a",)) == {"a": 1, "z": 2}  # open: other keys pass
    with pytest.raises(Invalid, match=r"^k\.z: unknown key; allowed: a, b$"):
        obj({"a": 1, "z": 2}, ("k",), ("a",), optional=("b",))
    assert obj({"b": 1}, ("k",), optional=("a", "b")) == {"b": 1}


def test_fields_checks_in_order_and_lets_optional_and_other_keys_be() -> None:
    checks = {"n": integer(0, 9), "s": text, "m": positive}
    document = {"n": 3, "s": "x", "extra": [1]}
    assert fields(document, ("setup",), checks, optional=("m",)) is document
    with pytest.raises(Invalid, match=r"^setup\.m: missing$"):
        fields(document, ("setup",), checks)
    # the first key in order that fails is the one named, whether bad or missing
    with pytest.raises(Invalid, match=r"^setup\.n: must be an integer from 0 to 9, got 10$"):
        fields({"n": 10}, ("setup",), checks)
    with pytest.raises(Invalid, match=r"^m: must be a finite number > 0, got 0$"):
        fields({"n": 1, "s": "", "m": 0}, (), checks)
    with pytest.raises(Invalid, match=r"^the document: must be an object, got None$"):
        fields(None, (), checks)
