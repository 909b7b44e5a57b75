"""Random mutations of valid YAML, and a CLI driver that fails on anything but a clean exit."""

from __future__ import annotations

import json
import random
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from fuzzing_outputs import check_outputs_on, check_streams_on
from typer.testing import CliRunner

from scalecalc.cli import app

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
KEY = re.compile(r"^(\s*)([A-Za-z_]+):", re.MULTILINE)
ODD_VALUES = (
    "-1",
    "0",
    "1",
    "7",
    "0.5",
    "1e309",
    ".nan",
    ".inf",
    "-.inf",
    "99999999999",
    "65536",
    "abc",
    "[]",
    "{}",
    "null",
    "true",
    "~",
    "[1, [2]]",
    "!!binary aGk=",
    "&x 3",
    "*x",
    "'8'",
    "1_000",
    "0x10",
    "2e3",
    "!!python/none",
    "{a: 1}",
    "1.0",
    "8192",
    "1" + "0" * 400,
    "-1" + "0" * 320,
    "1.0e+400",
    '"x\\ud800"',
    "16",
    "1e18",
)
ODD_KEYS = (
    "family",
    "preset",
    "name",
    "depths",
    "widths",
    "resolution",
    "num_heads",
    "hidden_size",
    "group_widths",
    "bottleneck_ratio",
    "unknown",
    "depth",
    "w0",
    "wa",
    "wm",
    "patch_size",
)
ODD_TEXT = ":[]{}-,&*!#'\"\n\t|>%@`? 0123456789."


def seeds() -> list[str]:
    """The valid YAML texts mutations start from."""
    return [path.read_text() for path in sorted(CONFIGS.glob("*.yaml"))]


def mutate(text: str, rng: random.Random) -> str:
    """Apply one to three random edits: values, keys, lines or raw characters."""
    for _ in range(rng.randint(1, 3)):
        text = rng.choice((_replace_number, _replace_key, _edit_lines, _edit_chars))(text, rng)
    return text


def _replace_number(text: str, rng: random.Random) -> str:
    matches = list(NUMBER.finditer(text))
    if not matches:
        return text
    match = rng.choice(matches)
    return text[: match.start()] + rng.choice(ODD_VALUES) + text[match.end() :]


def _replace_key(text: str, rng: random.Random) -> str:
    matches = list(KEY.finditer(text))
    if not matches:
        return text
    match = rng.choice(matches)
    return text[: match.start(2)] + rng.choice(ODD_KEYS) + text[match.end(2) :]


def _edit_lines(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    if not lines:
        return text
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    action = rng.randrange(3)
    if action == 0:
        del lines[i]
    elif action == 1:
        lines.insert(i, lines[j])
    else:
        lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines) + "\n"


def _edit_chars(text: str, rng: random.Random) -> str:
    if not text:
        return rng.choice(ODD_TEXT)
    i = rng.randrange(len(text))
    action = rng.randrange(3)
    if action == 0:
        return text[:i] + text[i + 1 :]
    if action == 1:
        return text[:i] + rng.choice(ODD_TEXT) + text[i:]
    return text[:i] + rng.choice(ODD_TEXT) + text[i + 1 :]


def mutated_inputs(count: int, seed: int) -> Iterator[str]:
    """`count` mutated YAML texts, reproducible from `seed`."""
    rng = random.Random(seed)
    bases = seeds()
    for _ in range(count):
        yield mutate(rng.choice(bases), rng)


def check_cli_on(text: str, runner: CliRunner, directory: Path) -> int:
    """Run `count` (and `scale`) on one input; raise AssertionError unless it exits cleanly."""
    path = directory / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    out = directory / "out.json"
    result = runner.invoke(app, ["count", str(path), "-f", "json", "-o", str(out)])
    _assert_clean(result, text)
    if result.exit_code == 0:
        json.loads(out.read_text())
        out.unlink()
        scaled = runner.invoke(app, ["scale", str(path), "-s", "dWr", "--factor", "2"])
        _assert_clean(scaled, text)
    else:
        assert not out.exists(), text
    return result.exit_code


def _assert_clean(result, text: str) -> None:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{type(result.exception).__name__}: {result.exception}\n{text}")
    assert result.exit_code in (0, 2), (result.exit_code, result.output, text)
    if result.exit_code == 2:
        assert result.stderr.startswith("error: "), (result.stderr, text)
        assert result.stderr.count("\n") == 1, (result.stderr, text)
        assert result.stdout == "", text


def run(count: int, seed: int, process_every: int = 500) -> dict[int, int]:
    """Fuzz `count` inputs; returns how many exited 0 and 2. About a third of the inputs are
    also put in hostile places (output and input kinds, stdout encodings), and every
    `process_every`-th runs in its own process with a closed, full or broken stdout or an
    unfriendly environment."""
    runner = CliRunner()
    rng = random.Random(seed + 1)
    outcomes = {0: 0, 2: 0}
    with tempfile.TemporaryDirectory() as directory:
        for index, text in enumerate(mutated_inputs(count, seed)):
            case = Path(directory) / f"case{index}"
            if index % process_every == process_every - 1:
                outcomes[check_streams_on(text, rng, case)] += 1
            elif rng.random() < 1 / 3:
                outcomes[check_outputs_on(text, rng, case)] += 1
            else:
                outcomes[check_cli_on(text, runner, Path(directory))] += 1
    return outcomes
