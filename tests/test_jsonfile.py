"""The one JSON reader of users' files: bounded, strict, and every problem one error line."""

from __future__ import annotations

from pathlib import Path

import pytest

from scalecalc.errors import ProfileError
from scalecalc.jsonfile import MAX_DEPTH, load_json, nesting_depth, parse_json


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "doc.json"
    path.write_text(text, encoding="utf-8")
    return load_json(path, "a test document", ProfileError)


def test_nesting_depth_by_hand() -> None:
    assert nesting_depth("1") == 0
    assert nesting_depth('{"a": [1, {"b": []}]}') == 4
    # brackets inside strings, escaped quotes included, are not structure
    assert nesting_depth('["[[[", "\\"[[", {"x": "}}"}]') == 2


def test_deep_nesting_is_one_error_before_the_parser_recurses(tmp_path: Path) -> None:
    assert _load(tmp_path, "[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    with pytest.raises(ProfileError, match=rf"nested {MAX_DEPTH + 1} deep, the limit is 64"):
        _load(tmp_path, deep)
    # 200 kB of nesting: before, a RecursionError from json.loads
    with pytest.raises(ProfileError, match="nested 100000 deep"):
        parse_json('{"a":' * 100_000 + "1" + "}" * 100_000, "x.json", ProfileError)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1, "a": 2}', "x.json: duplicate key 'a' in a JSON object"),
        ('{"a": NaN}', "x.json: NaN is not a valid number"),
        ('{"a": -Infinity}', "x.json: -Infinity is not a valid number"),
        ('{"a\\ud800": 1}', "x.json: key 'a\\ud800' has a lone surrogate escape"),
        ('{"a": 1,}', "x.json: not valid JSON at line 1, column 9: Expecting property name"),
        ('{"a": ' + "9" * 5000 + "}", "x.json: not a usable JSON document (Exceeds the limit"),
    ],
)
def test_refused_documents(text: str, message: str) -> None:
    with pytest.raises(ProfileError) as error:
        parse_json(text, "x.json", ProfileError)
    assert str(error.value).startswith(message)


def test_empty_missing_and_oversized_files(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="doc.json: file is empty; expected a test document"):
        _load(tmp_path, " \n")
    with pytest.raises(ProfileError, match="none.json: no such file"):
        load_json(tmp_path / "none.json", "a test document", ProfileError)
    big = tmp_path / "big.json"
    big.write_text("[" + "0," * 100 + "0]", encoding="utf-8")
    with pytest.raises(ProfileError, match="file is over 50 bytes"):
        load_json(big, "a test document", ProfileError, limit=50)
    assert _load(tmp_path, '{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}
