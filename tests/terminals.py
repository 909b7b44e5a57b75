"""The command line run as a user runs it: in a real pseudo-terminal, or piped."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run_in_terminal(args: list[str], columns: int, term: str) -> str:
    """The CLI's stdout in a pseudo-terminal `columns` wide (set on the terminal itself, no
    COLUMNS variable), after a zero exit; escape sequences removed."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env |= {"PYTHONPATH": str(REPO), "TERM": term}
    process = subprocess.Popen(
        [sys.executable, "-m", "scalecalc", *args],
        stdin=follower,
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=300) == 0
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def run_piped(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    """The CLI with stdout and stderr piped, in a fresh interpreter of this checkout."""
    return subprocess.run(
        [sys.executable, "-m", "scalecalc", *args],
        capture_output=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
