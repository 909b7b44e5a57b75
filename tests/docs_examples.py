"""The examples of README.md and docs/*.md: found, run for real, and rewritten from real runs.

Two kinds of fenced block are examples:

* ```` ```console ````: each line that starts with `$ ` is a shell command, and the lines up to
  the next command are what it prints (stdout and stderr together, as a terminal shows them).
  A block runs as one `bash` session, so `$ echo $?` shows the previous command's exit status
  and a file written by one command can be read by the next.
* ```` ```pycon ````: Python statements after `>>> ` (continued by `... `), each followed by what
  it prints or the value it returns, as in the interactive interpreter.

Each block runs in a fresh scratch folder that mirrors the repository root through symlinks (so
`configs/...` resolves and what a command writes stays out of the tree), with `scalecalc` and
`python` on PATH meaning this repository's code and this interpreter, stdout a pipe (so tables
are markdown), `COLUMNS=80` and a UTF-8 locale. The shown output must equal the real one; the
only normalisation is that trailing whitespace of each line and trailing blank lines are ignored.

An HTML comment on the line just before a block changes how it runs:
`<!-- example: slow -->` runs it in the slow suite only, and `<!-- example: not executed: WHY -->`
leaves it unrun (for what needs a GPU, minutes of benchmarking or a network), with a reason.
Any other block that shows a shell command (```` ```bash ````, ```` ```sh ````, ...) needs that
comment too.

`python tests/docs_examples.py [PAGE...]` lists the blocks whose output differs; `--update`
rewrites the shown outputs from real runs (after a deliberate change in behaviour), and its diff is then
reviewed like any other.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXECUTED = ("console", "pycon")
SHELL_LANGUAGES = ("bash", "sh", "shell", "zsh", "shell-session")
MARKER = re.compile(r"^<!-- example: (slow|not executed: (?P<why>.+?)) -->$")
FENCE = re.compile(r"^```(?P<lang>[\w-]*)")
END = "\x1eDOCS-EXAMPLE-END\x1e"
TIMEOUT_S = 120


@dataclass(frozen=True)
class Block:
    """One fenced block of a markdown file: where it is, its language, marker and lines."""

    path: Path
    start: int  # index of the first line inside the fence
    lang: str
    marker: str  # "", "slow" or "not executed: WHY"
    lines: tuple[str, ...]

    @property
    def where(self) -> str:
        """`FILE:LINE` of the opening fence, for messages and test ids."""
        return f"{self.path.relative_to(ROOT)}:{self.start}"

    @property
    def executed(self) -> bool:
        """True for a console or pycon block not marked `not executed`."""
        return self.lang in EXECUTED and not self.marker.startswith("not executed")

    @property
    def slow(self) -> bool:
        """True for a block marked `slow`."""
        return self.marker == "slow"


def documents() -> list[Path]:
    """README.md and every page of docs/, in a fixed order."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path: Path) -> list[Block]:
    """Every top-level fenced block of `path`, with the marker comment just before it."""
    lines = path.read_text(encoding="utf-8").split("\n")
    found = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        close = index + 1
        while close < len(lines) and lines[close] != "```":
            close += 1
        previous = MARKER.match(lines[index - 1]) if index else None
        marker = previous.group(1) if previous else ""
        body = tuple(lines[index + 1 : close])
        found.append(Block(path, index + 1, opening.group("lang"), marker, body))
        index = close + 1
    return found


def examples() -> list[Block]:
    """The executed blocks of all documents."""
    return [block for path in documents() for block in blocks(path) if block.executed]


def unexplained_commands() -> list[str]:
    """Blocks that show shell commands but are neither run nor say why not."""
    return [
        block.where
        for path in documents()
        for block in blocks(path)
        if block.lang in SHELL_LANGUAGES and not block.marker.startswith("not executed")
    ]


def console_steps(lines: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    """A console block as (command, shown output lines) pairs."""
    steps: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
        else:
            raise ValueError(f"output before the first `$ ` command: {line!r}")
    return steps


def pycon_steps(lines: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    """A pycon block as (statement source, shown output lines) pairs."""
    steps: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith(">>> ") or line == ">>>":
            steps.append((line[4:], []))
        elif (line.startswith("... ") or line == "...") and steps and not steps[-1][1]:
            steps[-1] = (steps[-1][0] + "\n" + line[4:], [])
        elif steps:
            steps[-1][1].append(line)
        else:
            raise ValueError(f"output before the first `>>> ` statement: {line!r}")
    return steps


def _environment(scratch: Path) -> dict[str, str]:
    """A clean environment: this repository's code, a pipe for stdout, 80 columns, UTF-8."""
    bin_dir = scratch / ".bin"
    bin_dir.mkdir()
    entry = "import sys; sys.argv[0] = 'scalecalc'; from scalecalc.cli.console import main; main()"
    for name, command in (("scalecalc", f'-c "{entry}"'), ("python", ""), ("python3", "")):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" {command} "$@"\n')
        shim.chmod(0o755)
    python_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "PYTHONPATH": python_path,
        "HOME": os.environ.get("HOME", str(scratch)),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "COLUMNS": "80",
        "LINES": "24",
        "TERM": "dumb",
        "TMPDIR": str(scratch),
    }
    for passed in ("OMP_NUM_THREADS", "MPLCONFIGDIR"):
        if passed in os.environ:
            env[passed] = os.environ[passed]
    return env


@contextlib.contextmanager
def _scratch():
    """A temporary folder whose entries are symlinks to the repository's top-level entries."""
    with tempfile.TemporaryDirectory(prefix="scalecalc-docs-") as folder:
        scratch = Path(folder)
        for entry in ROOT.iterdir():
            if not entry.name.startswith("."):
                (scratch / entry.name).symlink_to(entry)
        yield scratch


def _run_console(commands: list[str], scratch: Path, env: dict[str, str]) -> list[str]:
    """Run the commands in one bash session; what each printed, stdout and stderr together."""
    # The marker after each command keeps its exit status, so that `$ echo $?` shows it.
    after = f"status=$?; printf '{END}'; (exit $status)\n"
    script = "exec 2>&1\n" + "".join(f"{command}\n{after}" for command in commands)
    done = subprocess.run(
        ["bash", "--noprofile", "--norc"],
        input=script,
        capture_output=True,
        text=True,
        cwd=scratch,
        env=env,
        timeout=TIMEOUT_S,
    )
    return done.stdout.split(END)[: len(commands)]


def _run_pycon(statements: list[str], scratch: Path, env: dict[str, str]) -> list[str]:
    """Run the statements in one fresh interpreter; what each printed or returned."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--pycon"],
        input=json.dumps(statements),
        capture_output=True,
        text=True,
        cwd=scratch,
        env=env,
        timeout=TIMEOUT_S,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the pycon runner failed:\n{done.stderr}")
    return json.loads(done.stdout)


def _pycon_runner() -> None:
    """Execute JSON statements from stdin as the interactive interpreter would; print JSON."""
    statements = json.loads(sys.stdin.read())
    namespace: dict[str, object] = {"__name__": "__main__"}
    outputs = []
    for source in statements:
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            try:
                exec(compile(source + "\n", "<docs>", "single"), namespace)
            except Exception:  # shown as the interpreter shows it, so a mismatch is readable
                print(traceback.format_exc().rstrip())
        outputs.append(captured.getvalue())
    sys.stdout.write(json.dumps(outputs))


def _normal(text: str) -> list[str]:
    """Lines with trailing whitespace and trailing blank lines removed."""
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def rendered(block: Block) -> tuple[str, ...]:
    """The block's lines as a real run prints them: its commands with their actual output."""
    steps = console_steps(block.lines) if block.lang == "console" else pycon_steps(block.lines)
    sources = [source for source, _ in steps]
    with _scratch() as scratch:
        env = _environment(scratch)
        if block.lang == "console":
            outputs = _run_console(sources, scratch, env)
        else:
            outputs = _run_pycon(sources, scratch, env)
    outputs += [""] * (len(sources) - len(outputs))
    lines: list[str] = []
    for source, output in zip(sources, outputs):
        if block.lang == "console":
            lines.append("$ " + source)
        else:
            first, *rest = source.split("\n")
            lines += [">>> " + first, *("... " + line for line in rest)]
        lines += _normal(output)
    return tuple(lines)


def shown(block: Block) -> tuple[str, ...]:
    """The block's lines as the document shows them, normalised like a real run's."""
    return tuple(line.rstrip() for line in _normal("\n".join(block.lines)))


def update(path: Path) -> int:
    """Rewrite the shown output of every executed block of `path`; the number of blocks changed."""
    lines = path.read_text(encoding="utf-8").split("\n")
    changed = 0
    for block in reversed([block for block in blocks(path) if block.executed]):
        fresh = rendered(block)
        if fresh != shown(block):
            lines[block.start : block.start + len(block.lines)] = list(fresh)
            changed += 1
    if changed:
        path.write_text("\n".join(lines), encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    """List the examples whose output differs from a real run, or rewrite them (--update)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--update", action="store_true", help="rewrite the shown outputs")
    parser.add_argument("--pycon", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("pages", nargs="*", type=Path, help="only these pages (default: all)")
    args = parser.parse_args(argv)
    pages = [page.resolve() for page in args.pages] or documents()
    if args.pycon:
        _pycon_runner()
        return 0
    if args.update:
        for path in pages:
            changed = update(path)
            if changed:
                print(f"{path.relative_to(ROOT)}: {changed} examples rewritten")
        return 0
    chosen = [block for path in pages for block in blocks(path) if block.executed]
    stale = [block.where for block in chosen if rendered(block) != shown(block)]
    for where in stale:
        print(f"{where}: the shown output differs from a real run")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
