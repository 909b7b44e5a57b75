"""Writing files so that a failure at any point leaves the previous file (or none) behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from scalecalc.errors import ConfigError


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ConfigError(f"{path}: directory {directory} does not exist")
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if isinstance(data, str):
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
        else:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
