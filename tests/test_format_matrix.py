"""Every command x every --format x (pipe, 80- and 200-column terminal) x (stdout, --output):
exit 0, no traceback, something written, and no number cut short in a terminal table."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from terminals import run_in_terminal
from typer.testing import CliRunner

import scalecalc.nn.bench
from scalecalc.cli import app
from scalecalc.cli import common as _common

REPO = Path(__file__).resolve().parent.parent
TINY = str(REPO / "tests" / "data" / "bench_tiny.yaml")
FAST_BENCH = ["-s", "w", "--factors", "2", "--iters", "1", "--warmup", "0", "--batch-size", "1"]
FAST_BENCH += ["--device", "cpu"]
COMMANDS: dict[str, tuple[list[str], tuple[str | None, ...], bool]] = {
    # name: (arguments, formats (None: the default), whether it takes --output)
    "list": (["list", "resnet*"], (None,), False),
    "show": (["show", TINY], (None,), False),
    "count": (["count", TINY, "resnet50"], (None, "table", "md", "json", "csv"), True),
    "scale": (["scale", TINY, "-s", "dWr", "--factor", "2"], (None,), True),
    "compare": (
        ["compare", TINY, "-s", "w,dWr", "--factors", "2"],
        (None, "table", "md", "json", "csv"),
        True,
    ),
    "compare-predicted": (
        ["compare", TINY, "-s", "w,dWr", "--target-factor", "2", "--profile", "rtx4090"]
        + ["--memory", "--max-batch", "2GiB", "--amp", "--train", "--ema", "--channels-last"],
        (None, "table", "md", "json", "csv"),
        True,
    ),
    "check": (["check", TINY, "--baseline", "BASELINE"], (None, "table", "md", "json"), False),
    "bench": (["bench", TINY, *FAST_BENCH], (None, "table", "md", "json", "csv"), True),
}
WHERE = ("pipe", "terminal-80", "terminal-200", "file")
CASES = [
    pytest.param(name, fmt, where, id=f"{name}-{fmt or 'default'}-{where}")
    for name, (_, formats, has_output) in COMMANDS.items()
    for fmt in formats
    for where in WHERE
    if where != "file" or has_output
]
_bench_results: list[Any] = []


@pytest.fixture
def cached_bench(monkeypatch: pytest.MonkeyPatch) -> None:
    """Time the two tiny models once; later cases render the same results."""
    real = scalecalc.nn.bench.run

    def run(*args: Any, **kwargs: Any) -> Any:
        if not _bench_results:
            _bench_results.append(real(*args, **kwargs))
        return _bench_results[0]

    monkeypatch.setattr(scalecalc.nn.bench, "run", run)


@pytest.mark.parametrize(("name", "fmt", "where"), CASES)
def test_every_output_path_renders(
    name: str,
    fmt: str | None,
    where: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cached_bench: None,
) -> None:
    args, _, _ = COMMANDS[name]
    baseline = tmp_path / "baseline.json"
    if name == "check":
        assert (
            CliRunner().invoke(app, ["check", TINY, "-b", str(baseline), "--update"]).exit_code == 0
        )
    args = [str(baseline) if a == "BASELINE" else a for a in args]
    if fmt is not None:
        args += ["--format", fmt]
    out = tmp_path / "out.txt"
    if where == "file":
        args += ["--output", str(out)]
    terminal = where.startswith("terminal")
    monkeypatch.setattr(_common, "stdout_is_terminal", lambda: terminal)
    if terminal:
        monkeypatch.setenv("COLUMNS", where.split("-")[1])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    text = out.read_text() if where == "file" else result.stdout
    assert text.strip(), "nothing was written"
    if where == "file":
        assert result.stdout == ""
    if fmt == "table" or (
        fmt is None and terminal and name.split("-")[0] in ("count", "compare", "check", "bench")
    ):
        assert_numbers_whole(text)


def assert_numbers_whole(text: str) -> None:
    """No cell cut short with an ellipsis, and no number split across lines in a cell."""
    assert "…" not in text, text
    for line in text.splitlines():
        for cell in re.split(r"[│┃|]", line):
            cell = cell.strip()
            # A wrapped number leaves a cell that starts or ends with a lone separator.
            assert not re.fullmatch(r"[\d,.]*[.,]|[.,][\d,.]*", cell) or cell in (".",), line


def test_resnet50_table_shows_its_published_params() -> None:
    """torchvision's resnet50 has 25,557,032 parameters: shown whole at 80 columns."""
    mp = pytest.MonkeyPatch()
    mp.setattr(_common, "stdout_is_terminal", lambda: True)
    mp.setenv("COLUMNS", "80")
    try:
        result = CliRunner().invoke(app, ["count", "resnet50"])
    finally:
        mp.undo()
    assert result.exit_code == 0
    assert re.search(r"total[\s│|]*4\.089[\s│|]*25\.557[\s│|]*11\.115", result.stdout), (
        result.stdout
    )


def test_a_real_terminal_gets_a_table() -> None:
    """Through a pseudo-terminal: the default format is the table, exit 0."""
    text = run_in_terminal(["count", "resnet50"], 80, "xterm")
    assert re.search(r"total[\s│|]*4\.089[\s│|]*25\.557", text) and "…" not in text
