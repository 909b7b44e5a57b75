"""Replacing a file all or nothing: a synced temporary file beside it, renamed over it, so that a
kill at any moment leaves either the old file or the new one, and no temporary file behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def new_file_mode() -> int:
    """The permission bits a new file gets under the process's umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def synced_temporary(
    folder: Path, data: bytes, mode: int | None = None, owner: tuple[int, int] | None = None
) -> str:
    """The path of a complete temporary file in `folder`, synced to disk, with `mode` (None:
    what the umask gives a new file) and, when run as root, `owner`; removed again on failure."""
    # A short name of its own: one made from the target's would not fit beside a target whose
    # name is near the longest a folder takes (255 bytes).
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".sc-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, new_file_mode() if mode is None else mode)
        if owner is not None and os.geteuid() == 0:
            os.chown(temporary, *owner)
    except BaseException:
        os.unlink(temporary)
        raise
    return temporary


def replace_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a synced temporary file; the file gets the mode the umask
    gives a new file."""
    temporary = synced_temporary(path.parent, data)
    try:
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
