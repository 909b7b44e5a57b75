"""Output destinations, the all-or-nothing transaction, bounded reads and safe echoing."""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

import pytest

from scalecalc.cli import outputs
from scalecalc.errors import ConfigError, safe_text
from scalecalc.files import read_text
from scalecalc.cli.outputs import Destination, OutputError, Outputs, destination, fit_encoding

ROOT = os.geteuid() == 0


def write_one(path: Path, data: str) -> None:
    """Write one file (or device) as a transaction of its own."""
    transaction = Outputs()
    transaction.add(destination(path), data)
    transaction.commit()


def test_stdout_and_dash_are_stdout() -> None:
    for given in (None, "-"):
        assert destination(given).target is None and destination(given).in_place


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("", "empty path"),
        (".", "names a folder"),
        ("..", "names a folder"),
        ("newname/", "names a folder"),
        ("sub/.", "names a folder"),
        ("sub", "is a folder"),
        ("missing/x.json", "directory missing does not exist"),
    ],
)
def test_paths_that_name_no_file_are_refused(
    given: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    with pytest.raises(OutputError, match=expected):
        destination(given)
    assert not (tmp_path / "newname").exists()


def test_new_file_honours_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_one(tmp_path / "new.md", "x")
    finally:
        os.umask(old)
    # 0o666 & ~0o027, as `touch` or an editor would create it (mkstemp alone gives 0o600).
    assert stat.S_IMODE((tmp_path / "new.md").stat().st_mode) == 0o640


def test_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "costs.json"
    path.write_text("old")
    path.chmod(0o604)
    write_one(path, "new")
    assert path.read_text() == "new" and stat.S_IMODE(path.stat().st_mode) == 0o604


@pytest.mark.skipif(not ROOT, reason="chown to another owner needs root")
def test_existing_file_keeps_its_owner_as_root(tmp_path: Path) -> None:
    path = tmp_path / "theirs.json"
    path.write_text("old")
    os.chown(path, 1234, 5678)
    write_one(path, "new")
    assert (path.stat().st_uid, path.stat().st_gid) == (1234, 5678)


def test_symlink_target_is_replaced_in_its_own_folder(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "out.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_one(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["link.json", "out.json", "real"]


def test_broken_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "later.json")
    write_one(link, "new")
    assert link.is_symlink() and (tmp_path / "later.json").read_text() == "new"


def test_an_input_is_never_an_output(tmp_path: Path) -> None:
    source = tmp_path / "m.yaml"
    source.write_text("family: resnet\n")
    alias = tmp_path / "alias.yaml"
    alias.symlink_to(source)
    hard = tmp_path / "hard.yaml"
    os.link(source, hard)
    for output, given in ((source, source), (alias, source), (source, alias), (hard, source)):
        with pytest.raises(OutputError, match="is the input"):
            destination(str(output), inputs=[str(given)])
    assert source.read_text() == "family: resnet\n"


def test_two_outputs_naming_one_file_are_refused(tmp_path: Path) -> None:
    batch = Outputs()
    batch.add(destination(str(tmp_path / "a.md"), "--report"), "x")
    with pytest.raises(OutputError, match="is also --report"):
        batch.add(destination(str(tmp_path / "a.md"), "--output"), "y")


def test_a_failure_leaves_every_file_as_it_was(tmp_path: Path) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.md"
    first.write_text("old")
    batch = Outputs()
    batch.add(destination(str(first)), "new")
    batch.add(destination(str(second), "--report"), "report")
    (tmp_path / "gone").mkdir()
    # The second file's folder disappears after the check: its temporary file cannot be made.
    batch._items[1] = (Destination("--report", "gone/x", tmp_path / "gone" / "x", False), "r")
    (tmp_path / "gone").rmdir()
    outputs.begin_run()
    with pytest.raises(OutputError, match="nothing was written"):
        batch.commit()
    assert first.read_text() == "old" and not second.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.json"]


def test_a_signal_during_the_renames_is_held_until_all_are_done(tmp_path: Path) -> None:
    paths = [tmp_path / f"{name}.txt" for name in "abc"]
    batch = Outputs()
    for path in paths:
        batch.add(destination(str(path)), path.name)
    real_replace, calls = os.replace, []

    def replace(source: str, target: Path) -> None:
        calls.append(target)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # arrives between the first and second rename
        real_replace(source, target)

    outputs.begin_run()
    mp = pytest.MonkeyPatch()
    mp.setattr(outputs.os, "replace", replace)
    try:
        with pytest.raises(KeyboardInterrupt):
            batch.commit()
    finally:
        mp.undo()
    assert [p.read_text() for p in paths] == ["a.txt", "b.txt", "c.txt"]
    # The message after such an interrupt names every file, since all were written.
    assert outputs.outcome_text() == "already written: " + ", ".join(str(p) for p in paths)
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.skipif(not ROOT, reason="chattr +i needs root")
def test_immutable_file_and_folder_are_refused_before_work(tmp_path: Path) -> None:
    path = tmp_path / "locked.json"
    path.write_text("old")
    folder = tmp_path / "locked"
    folder.mkdir()
    if os.system(f"chattr +i {path} {folder} 2>/dev/null") != 0:
        pytest.skip("chattr +i is not supported on this file system")
    try:
        with pytest.raises(OutputError, match="read-only or immutable"):
            destination(str(path))
        with pytest.raises(OutputError, match="cannot write in directory"):
            destination(str(folder / "new.json"))
    finally:
        os.system(f"chattr -i {path} {folder}")
    assert path.read_text() == "old"


def test_fifo_without_reader_is_an_error_not_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    where = destination(str(fifo))
    assert where.in_place
    with pytest.raises(OutputError, match="cannot write"):
        write_one(fifo, "x")
    assert stat.S_ISFIFO(fifo.stat().st_mode)


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        ("acts ∝ s², 2×, a — b", "ascii", "acts ~ s^2, 2x, a -- b"),
        ("acts ∝ s", "latin-1", "acts ~ s"),
        ("2×", "latin-1", "2×"),  # latin-1 has ×: kept
        ("x\ud800", "utf-8", "x\\ud800"),  # a lone surrogate cannot be encoded anywhere
        ("∝", "no-such-codec", "~"),
    ],
)
def test_stdout_text_degrades_to_what_the_encoding_carries(
    text: str, encoding: str, expected: str
) -> None:
    assert fit_encoding(text, encoding) == expected


def test_safe_text_escapes_control_characters_and_shortens() -> None:
    assert safe_text("a\x1b[31mb\x07\u202e\ud800") == "a\\x1b[31mb\\x07\\u202e\\ud800"
    assert len(safe_text("x" * 10_000)) == 200
    error = ConfigError("bad\x1b]0;title\x07 path")
    assert "\x1b" not in str(error) and "\x07" not in str(error)


def read(path: Path | str, limit: int = 1 << 10) -> str:
    return read_text(path, limit, ConfigError, "a YAML file")


def test_reads_are_bounded_for_devices(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="the limit is 1024"):
        read("/dev/zero")
    assert read("/dev/null") == ""


def test_fifo_without_writer_reads_as_empty(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert read(fifo) == ""


def test_pipe_is_read_up_to_the_limit_only(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        os.write(write_end, b"y\n" * 4096)  # more than the limit, still being written
        with pytest.raises(ConfigError, match="the limit is 1024"):
            read(f"/proc/self/fd/{read_end}")
    finally:
        os.close(read_end)
        os.close(write_end)


def test_silent_pipe_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    import scalecalc.files

    monkeypatch.setattr(scalecalc.files, "QUIET_SECONDS", 0.2)
    read_end, write_end = os.pipe()
    try:
        with pytest.raises(ConfigError, match="sent nothing for 0.2 s"):
            read(f"/proc/self/fd/{read_end}")
    finally:
        os.close(read_end)
        os.close(write_end)
