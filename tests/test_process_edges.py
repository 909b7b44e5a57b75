"""The command line as a process: signals, closed and broken streams, full disks, file size
limits, device nodes, read-only mounts, and reproducible plots without a writable HOME."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Slow (real processes and signals): run by `pytest -m slow`, which CI runs too.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
TINY = str(REPO / "tests" / "data" / "bench_tiny.yaml")
ROOT = os.geteuid() == 0
UNSHARE = shutil.which("unshare")
COMMAND = [sys.executable, "-m", "scalecalc"]


def environment(**changes: str | None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def scalecalc(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("env", environment())
    if "stdout" not in kwargs:
        kwargs.setdefault("capture_output", True)
    return subprocess.run([*COMMAND, *args], check=False, text=True, timeout=300, **kwargs)  # type: ignore[call-overload]


def assert_one_line(stderr: str, expected: str) -> None:
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    assert expected in stderr and "Traceback" not in stderr, stderr


def test_broken_pipe_exits_like_sigpipe(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*COMMAND, "count", "resnet50", "-f", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment(),
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before anything is written
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=300) == 128 + signal.SIGPIPE  # 141, as `yes | head` gives
    assert_one_line(stderr, "stdout: broken pipe")


def test_closed_stdout_and_full_stdout() -> None:
    closed = subprocess.run(
        ["sh", "-c", 'exec "$0" -m scalecalc count resnet50 >&-', sys.executable],
        capture_output=True,
        check=False,
        text=True,
        env=environment(),
        timeout=300,
    )
    assert closed.returncode == 2
    assert_one_line(closed.stderr, "stdout: is closed; nothing was written")
    with open("/dev/full", "w") as full:
        result = scalecalc("count", "resnet50", stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == 2
    assert_one_line(result.stderr, "stdout: cannot write (No space left on device)")


def test_file_size_limit_is_one_line_and_keeps_the_old_file(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    out.write_text("old")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))  # `ulimit -f` in bytes

    result = scalecalc(
        "compare",
        "resnet50",
        "-s",
        "w,d",
        "--factors",
        "2,4",
        "-f",
        "json",
        "-o",
        str(out),
        preexec_fn=limit,
    )
    assert result.returncode == 2
    assert_one_line(result.stderr, "cannot write (File too large); nothing was written")
    assert out.read_text() == "old" and sorted(os.listdir(tmp_path)) == ["out.json"]


@pytest.mark.parametrize(
    ("signum", "word"), [(signal.SIGTERM, "terminated"), (signal.SIGINT, "interrupted")]
)
def test_signal_mid_run_removes_everything(tmp_path: Path, signum: int, word: str) -> None:
    out = tmp_path / "bench.json"
    process = subprocess.Popen(
        [*COMMAND, "bench", TINY, "--device", "cpu", "--iters", "100000", "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
    )
    assert process.stderr is not None
    first = process.stderr.readline()  # "bench [1/…] …": timing has started
    assert first.startswith("bench ["), first
    process.send_signal(signum)
    rest = process.stderr.read()
    # Exit status and stderr together, so that a failure shows what the process said.
    assert (process.wait(timeout=120), rest) == (
        128 + signum,
        f"error: {word}; nothing was written\n",
    )
    assert os.listdir(tmp_path) == []


def handles_sigterm(pid: int) -> bool:
    """Whether the process catches SIGTERM: scalecalc's console entry has started (the
    interpreter's own start-up, before any scalecalc code, is out of the tool's reach)."""
    status = Path(f"/proc/{pid}/status").read_text()
    caught = int(
        next(line for line in status.splitlines() if line.startswith("SigCgt")).split()[1], 16
    )
    return bool(caught & (1 << (signal.SIGTERM - 1)))


def test_ctrl_c_during_start_up_and_twice_at_the_end() -> None:
    process = subprocess.Popen(
        [*COMMAND, "bench", TINY, "--device", "cpu", "--iters", "100000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
    )
    deadline = time.monotonic() + 60
    while not handles_sigterm(process.pid) and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)  # typer, rich and torch are still being imported
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert stderr == "error: interrupted; nothing was written\n", stderr
    process = subprocess.Popen(
        [*COMMAND, "bench", TINY, "--device", "cpu", "--iters", "100000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
    )
    assert process.stderr is not None
    process.stderr.readline()
    for _ in range(3):  # three Ctrl-C 50 ms apart: one line, no "Exception ignored"
        process.send_signal(signal.SIGINT)
        time.sleep(0.05)
    rest = process.stderr.read()
    assert process.wait(timeout=120) == 130
    assert rest == "error: interrupted; nothing was written\n", rest


@pytest.mark.skipif(not ROOT or UNSHARE is None, reason="device nodes and mounts need root")
def test_devices_full_disk_and_read_only_mount(tmp_path: Path) -> None:
    """In a private mount namespace: never the real /dev, nothing left mounted afterwards."""
    command = f'"{sys.executable}" -m scalecalc'
    script = f"""
    set -u
    mount -t tmpfs none "$0" || exit 99
    cd "$0"
    mknod null c 1 3 && mknod full c 1 7 || exit 98
    {command} count resnet50 -f json -o null 2>err1; echo "null $? $(stat -c %F null)"
    {command} count resnet50 -o full 2>err2; echo "full $?"
    mkdir small && mount -t tmpfs -o size=4k none small
    {command} compare resnet50 -s w,d,r --factors 2,4,8 -f json -o small/out.json 2>err3
    echo "small $? $(ls -A small | wc -l)"
    mkdir ro && mount --bind ro ro && mount -o remount,bind,ro ro
    {command} count resnet50 -o ro/out.md 2>err4; echo "ro $?"
    cat err1 err2 err3 err4 > "$1"
    """
    log = tmp_path / "log"
    folder = tmp_path / "mnt"
    folder.mkdir()
    result = subprocess.run(
        [UNSHARE, "-m", "--propagation", "private", "sh", "-c", script, str(folder), str(log)],
        capture_output=True,
        check=False,
        text=True,
        env=environment(),
        timeout=600,
    )
    if result.returncode in (98, 99):
        pytest.skip(f"cannot mount or mknod here: {result.stderr.strip()}")
    lines = result.stdout.splitlines()
    assert lines == ["null 0 character special file", "full 2", "small 2 0", "ro 2"], result
    errors = log.read_text().splitlines()
    assert len(errors) == 3, errors
    assert "full: cannot write (No space left on device); nothing was written" in errors[0]
    assert "small/out.json: cannot write (No space left on device)" in errors[1]
    assert "cannot write in directory ro (Read-only file system)" in errors[2]
    assert os.listdir(folder) == []  # the tmpfs lived only in the namespace


def test_plots_are_reproducible_and_quiet_without_a_writable_home(tmp_path: Path) -> None:
    args = ["compare", "resnet50", "-s", "w,dWr", "--factors", "2", "-o", os.devnull]
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    quiet_home = environment(
        HOME="/proc",
        XDG_CONFIG_HOME=None,
        XDG_CACHE_HOME=None,
        MPLCONFIGDIR=None,
        TMPDIR=str(scratch),
    )
    first = scalecalc(*args, "--plot", str(tmp_path / "a.svg"), env=quiet_home)
    second = scalecalc(*args, "--plot", str(tmp_path / "b.svg"))
    assert first.returncode == 0 and second.returncode == 0, (first.stderr, second.stderr)
    assert first.stderr == ""  # no matplotlib warning about its cache folder
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
    assert os.listdir(scratch) == []  # the private matplotlib folder is removed at exit


def test_dev_stdout_is_written_in_place() -> None:
    result = scalecalc("count", "resnet50", "-f", "csv", "-o", "/dev/stdout")
    assert result.returncode == 0, result.stderr
    total = [line for line in result.stdout.splitlines() if ",total," in line]
    assert total[0].split(",")[6] == "25557032"  # torchvision's resnet50 parameter count
    assert os.path.islink("/dev/stdout")
