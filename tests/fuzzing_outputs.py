"""Hostile places and environments for the fuzzer: output paths of every kind, inputs that are
not regular files, stdout encodings, and (in a process) closed, full and broken stdout."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from scalecalc.cli import app

REPO = Path(__file__).resolve().parent.parent
ROOT = os.geteuid() == 0
# Output kinds the command must refuse (exit 2, nothing changed) whatever the input.
BAD_OUTPUTS = (
    "folder",
    "empty",
    "dot",
    "slash",
    "missing_dir",
    "symlink_dir",
    "fifo",
    "full",
    "input",
    "hardlink",
    "proc",
)
GOOD_OUTPUTS = ("new", "existing", "symlink", "broken_symlink", "null", "control", "dash")
INPUT_KINDS = ("file", "file", "file", "symlink", "fifo", "zero", "empty_device", "folder")
ENCODINGS = ("utf-8", "utf-8", "ascii", "latin-1")
FORMATS = ("json", "md", "csv", "table")
STREAMS = ("closed", "full", "broken", "ascii", "c_locale", "home_unwritable")


def _snapshot(folder: Path) -> dict[str, object]:
    """What the folder holds: per name, its kind and content (or link target)."""
    state: dict[str, object] = {}
    for path in sorted(folder.iterdir()):
        if path.is_symlink():
            state[path.name] = ("link", os.readlink(path))
        elif path.is_dir():
            state[path.name] = ("dir",)
        elif path.is_fifo():
            state[path.name] = ("fifo",)
        elif path.is_char_device():
            state[path.name] = ("char", path.stat().st_rdev)
        else:
            state[path.name] = ("file", path.read_bytes())
    return state


def _make_input(kind: str, text: str, folder: Path) -> str:
    source = folder / "fuzz.yaml"
    source.write_text(text, encoding="utf-8", errors="surrogatepass")
    if kind == "symlink":
        (folder / "link.yaml").symlink_to("fuzz.yaml")
        return str(folder / "link.yaml")
    if kind == "fifo":
        os.mkfifo(folder / "pipe.yaml")
        return str(folder / "pipe.yaml")
    if kind == "zero":
        return "/dev/zero"  # read only, bounded
    if kind == "empty_device":
        return "/dev/null"  # read only
    if kind == "folder":
        (folder / "sub.yaml").mkdir()
        return str(folder / "sub.yaml")
    return str(source)


def _make_output(kind: str, folder: Path, source: str) -> str | None:
    """The --output argument for `kind`, creating what it names; None when not possible here."""
    out = folder / "out.txt"
    if kind in ("null", "full") and not ROOT:
        return None
    if kind == "existing":
        out.write_text("old")
    elif kind == "folder":
        out.mkdir()
    elif kind == "empty":
        return ""
    elif kind == "dot":
        return "."
    elif kind == "slash":
        return f"{folder}/new/"
    elif kind == "missing_dir":
        return str(folder / "missing" / "out.txt")
    elif kind == "symlink":
        (folder / "real.txt").write_text("old")
        out.symlink_to("real.txt")
    elif kind == "broken_symlink":
        out.symlink_to("later.txt")
    elif kind == "symlink_dir":
        (folder / "realdir").mkdir()
        out.symlink_to("realdir")
    elif kind == "fifo":
        os.mkfifo(out)  # no reader: refused, never a hang
    elif kind == "null":
        os.mknod(out, 0o666 | 0o020000, os.makedev(1, 3))  # a private /dev/null twin
    elif kind == "full":
        os.mknod(out, 0o666 | 0o020000, os.makedev(1, 7))  # a private /dev/full twin
    elif kind == "input":
        # Only inputs inside the scratch folder: a regression must never reach /dev/zero.
        return source if source.startswith(str(folder)) else None
    elif kind == "hardlink":
        if not Path(source).is_file() or not str(source).startswith(str(folder)):
            return None
        os.link(Path(source).resolve(), out)
    elif kind == "proc":
        return "/proc/version"
    elif kind == "control":
        return str(folder / "out\x1b[31m\x07.txt")
    elif kind == "dash":
        return "-"
    return str(out)


def check_outputs_on(text: str, rng: random.Random, folder: Path) -> int:
    """One input in a hostile place: a random input kind, output kind, format and stdout
    encoding; raise AssertionError unless the run is clean and the folder is as promised."""
    folder.mkdir()
    try:
        input_kind = rng.choice(INPUT_KINDS)
        output_kind = rng.choice(BAD_OUTPUTS + GOOD_OUTPUTS)
        source = _make_input(input_kind, text, folder)
        output = _make_output(output_kind, folder, source)
        if output is None:
            output_kind, output = "new", str(folder / "out.txt")
        command = rng.choice((["count"], ["scale", "-s", "dWr", "--factor", "2"]))
        args = [command[0], source, *command[1:], "-o", output]
        if command[0] == "count":
            args += ["-f", rng.choice(FORMATS)]
        before = _snapshot(folder)
        context = f"{input_kind} -> {output_kind} {args}\n{text}"
        result = CliRunner(charset=rng.choice(ENCODINGS)).invoke(app, args)
        _assert_clean(result, context)
        after = _snapshot(folder)
        assert not [n for n in after if n.endswith(".tmp")], (after, context)
        if output_kind in BAD_OUTPUTS:
            assert result.exit_code == 2, context
        if result.exit_code == 2 or output_kind in ("null", "dash"):
            assert after == before, context
        elif output_kind in ("new", "existing", "symlink", "broken_symlink", "control"):
            target = {"symlink": "real.txt", "broken_symlink": "later.txt"}.get(output_kind)
            written = folder / target if target else Path(output)
            data = written.read_text(encoding="utf-8")
            if "-f" in args and args[args.index("-f") + 1] == "json":
                json.loads(data)
            assert data and (folder / "out.txt").is_symlink() == (target is not None), context
        return result.exit_code
    finally:
        shutil.rmtree(folder)


def _assert_clean(result, context: str) -> None:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{type(result.exception).__name__}: {result.exception}\n{context}")
    assert result.exit_code in (0, 2), (result.exit_code, result.output, context)
    if result.exit_code == 2:
        assert result.stderr.startswith("error: "), (result.stderr, context)
        assert result.stderr.count("\n") == 1, (result.stderr, context)
        assert result.stdout == "", context
        assert "\x1b" not in result.stderr and "\x07" not in result.stderr, context


def check_streams_on(text: str, rng: random.Random, folder: Path) -> int:
    """One input in a separate process with a hostile stdout or environment."""
    folder.mkdir()
    try:
        source = folder / "fuzz.yaml"
        source.write_text(text, encoding="utf-8", errors="surrogatepass")
        stream = rng.choice(STREAMS)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        env.update(
            {
                "ascii": {"PYTHONIOENCODING": "ascii"},
                "c_locale": {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0"},
                "home_unwritable": {"HOME": "/proc"},
            }.get(stream, {})
        )
        args = [sys.executable, "-m", "scalecalc", "count", str(source), "resnet50"]
        args += ["-f", rng.choice(FORMATS)]
        if stream == "closed":
            args = ["sh", "-c", 'exec "$@" >&-', "sh", *args]
        with open("/dev/full", "wb") as full:
            stdout = {"full": full, "broken": subprocess.PIPE}.get(stream, subprocess.PIPE)
            process = subprocess.Popen(
                args,
                stdout=stdout,
                stderr=subprocess.PIPE,
                env=env,
            )
            if stream == "broken":
                assert process.stdout is not None
                process.stdout.close()
                out, err = b"", process.stderr.read() if process.stderr else b""
                process.wait(timeout=600)
            else:
                out, err = process.communicate(timeout=600)
        code, stderr = process.returncode, err.decode("utf-8", "replace")
        context = f"{stream}: {code} {stderr!r}\n{text}"
        assert "Traceback" not in stderr and "Exception ignored" not in stderr, context
        if stream == "broken":
            assert code in (2, 128 + signal.SIGPIPE), context
        elif stream in ("closed", "full"):
            assert code == 2, context
        else:
            assert code in (0, 2), context
            if stream == "ascii" and out:
                assert out.isascii(), context
        if code != 0:
            lines = [line for line in stderr.splitlines() if not line.startswith("warning:")]
            assert len(lines) == 1 and lines[0].startswith("error: "), context
        return 0 if code == 0 else 2
    finally:
        shutil.rmtree(folder)
