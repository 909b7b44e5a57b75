"""Device memory in profiles: the built-in values, the loader's checks, the round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from scalecalc.cli import app
from scalecalc.errors import ProfileError
from scalecalc.profile.document import (
    BUILTIN_DIR,
    load_profile,
    profile_from_document,
    profile_to_json,
)

runner = CliRunner()
GIB = 2**30
# The cards' memory as sold (binary gigabytes): RTX 3090 and 4090 24 GB, RTX 5090 32 GB; pycls
# timed its model zoo on V100s with 16 GB (its MODEL_ZOO.md); a CPU states none.
EXPECTED = {
    "rtx3090": 24 * GIB,
    "rtx4090": 24 * GIB,
    "rtx5090": 32 * GIB,
    "v100-pycls-infer": 16 * GIB,
    "v100-pycls-train": 16 * GIB,
    "rtx3090-train": 24 * GIB,
    "cpu-i9-10940x": None,
}


def test_builtin_profiles_state_their_device_memory() -> None:
    assert {path.stem for path in BUILTIN_DIR.glob("*.json")} == set(EXPECTED)
    for name, memory in EXPECTED.items():
        profile = load_profile(name)
        assert profile.device_memory == memory, name
        document = json.loads((BUILTIN_DIR / f"{name}.json").read_text(encoding="utf-8"))
        assert document.get("device_memory_bytes") == memory, name


def test_device_memory_round_trips() -> None:
    for name, memory in EXPECTED.items():
        written = json.loads(profile_to_json(load_profile(name)))
        assert written.get("device_memory_bytes", None) == memory, name
        assert ("device_memory_bytes" in written) == (memory is not None)
        assert profile_from_document(written, name) == load_profile(name)


def with_memory(value: Any) -> str:
    document = json.loads((BUILTIN_DIR / "rtx4090.json").read_text(encoding="utf-8"))
    document["device_memory_bytes"] = value
    return json.dumps(document)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("24GiB", "device_memory_bytes: must be an integer from 1 to 1.15292e+18, got '24GiB'"),
        (24.5, "device_memory_bytes: must be an integer from 1 to 1.15292e+18, got 24.5"),
        (True, "device_memory_bytes: must be an integer from 1 to 1.15292e+18, got True"),
        (None, "device_memory_bytes: must be an integer from 1 to 1.15292e+18, got None"),
        (0, "device_memory_bytes: must be an integer from 1 to 1.15292e+18, got 0"),
        (-1, "device_memory_bytes: "),
        (2**60 + 1, "device_memory_bytes: "),
        (10**400, "device_memory_bytes: "),
    ],
)
def test_bad_device_memory_is_one_error(value: Any, message: str) -> None:
    with pytest.raises(ProfileError) as error:
        profile_from_document(json.loads(with_memory(value)), "mine.json")
    assert str(error.value).startswith(f"mine.json: {message}")


def test_bad_device_memory_in_compare_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(with_memory(0), encoding="utf-8")
    args = ["compare", "resnet50", "-s", "w", "--factors", "2", "--profile", str(path)]
    result = runner.invoke(app, args)
    assert (result.exit_code, result.stdout) == (2, "")
    expected = (
        f"error: {path}: device_memory_bytes: must be an integer from 1 to 1.15292e+18, got 0\n"
    )
    assert result.stderr == expected
