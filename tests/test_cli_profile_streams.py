"""`profile fit` and `profile show` as processes: stdout closed, full, broken or Latin-1, and
the profile file written only when the report was (all or nothing)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BENCH = str(REPO / "tests" / "data" / "bench_cpu_default.json")
COMMAND = [sys.executable, "-m", "scalecalc"]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    kwargs.setdefault("stdout", subprocess.PIPE)
    command = [*COMMAND, *args]
    return subprocess.run(command, stderr=subprocess.PIPE, check=False, timeout=120, **kwargs)  # type: ignore[call-overload]


def one_line(stderr: bytes, expected: str) -> None:
    text = stderr.decode()
    assert text.startswith("error: ") and text.count("\n") == 1, text
    assert expected in text


@pytest.mark.parametrize(
    "args", [["profile", "show", "v100-pycls-infer"], ["profile", "show"], ["fit"]]
)
def test_full_stdout_is_one_line_and_writes_no_profile(tmp_path: Path, args: list[str]) -> None:
    output = tmp_path / "mine.json"
    if args == ["fit"]:
        args = ["profile", "fit", BENCH, "-o", str(output)]
    with open("/dev/full", "w") as full:
        result = run(*args, stdout=full, env=ENV)
    assert result.returncode == 2
    one_line(result.stderr, "stdout: cannot write (No space left on device)")
    assert list(tmp_path.iterdir()) == []


def test_closed_stdout_writes_no_profile(tmp_path: Path) -> None:
    output = tmp_path / "mine.json"
    script = 'exec "$0" -m scalecalc profile fit "$1" -o "$2" >&-'
    result = subprocess.run(
        ["sh", "-c", script, sys.executable, BENCH, str(output)],
        capture_output=True,
        check=False,
        env=ENV,
        timeout=120,
    )
    assert result.returncode == 2
    one_line(result.stderr, "stdout: is closed; nothing was written")
    assert list(tmp_path.iterdir()) == []  # no profile, no temporary file


@pytest.mark.parametrize("fit", [False, True])
def test_broken_pipe_exits_like_sigpipe(tmp_path: Path, fit: bool) -> None:
    output = tmp_path / "mine.json"
    args = ["profile", "fit", BENCH, "-o", str(output)] if fit else ["profile", "show", "rtx4090"]
    process = subprocess.Popen(
        [*COMMAND, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 128 + signal.SIGPIPE
    one_line(stderr, "stdout: broken pipe")
    assert not output.exists()


def test_latin1_terminal_gets_ascii_for_what_it_cannot_encode() -> None:
    result = run("profile", "show", "v100-pycls-infer", env={**ENV, "PYTHONIOENCODING": "latin-1"})
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode("latin-1")
    # the fitted range's en dash becomes "-"; the middle dot is Latin-1 and stays
    assert "- fitted range: flops 1.99e+08-3.228e+10, acts 2.164e+06-9.886e+07" in text
    assert "flops·e^cost(flops)" in text


def test_dash_output_is_the_profile_alone_on_stdout_with_the_report_on_stderr() -> None:
    result = run("profile", "fit", BENCH, "-o", "-", env=ENV)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # nothing else on stdout
    assert document["name"] == "bench_cpu_default" and document["validation"]["rows"] == 9
    report = result.stderr.decode()
    assert report.startswith("## Device profile bench_cpu_default\n")
    assert f"- form kept: {document['model']['selection']}" in report
