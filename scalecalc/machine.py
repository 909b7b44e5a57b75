"""How much memory this machine can still give, for refusing models that would not fit."""

from __future__ import annotations

from pathlib import Path


def available_bytes() -> int | None:
    """MemAvailable from /proc/meminfo, or None where the system does not report it."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def gib(n: int) -> str:
    """Bytes as GiB with one decimal."""
    return f"{n / 2**30:.1f} GiB"
