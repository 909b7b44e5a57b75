"""The device to run on: choosing it, its free memory, waiting for it, its peak memory."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import re
from collections.abc import Callable
from pathlib import Path

import torch

from scalecalc.errors import ConfigError, shown
from scalecalc.machine import available_bytes
from scalecalc.step_options import DEVICE_KINDS, DTYPE_NAMES

TORCH_DTYPES = {name: getattr(torch, name) for name in DTYPE_NAMES}


def no_sync() -> None:
    """Nothing to wait for: CPU work is done when the call returns."""
    return None


def best_device() -> str:
    """cuda if available, else mps if available, else cpu."""
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def resolve_device(name: str | None) -> str:
    """The device to run on: `name` checked and available, or the best one when None."""
    if name is None:
        return best_device()
    if name not in DEVICE_KINDS:
        raise ConfigError(f"--device: {shown(name)} is not one of {', '.join(DEVICE_KINDS)}")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device cuda: CUDA is not available to torch {torch.__version__}")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"--device mps: MPS is not available to torch {torch.__version__}")
    return name


def synchronizer(device: str) -> Callable[[], None]:
    """A function that waits for all queued work on `device` (a no-op on CPU)."""
    if device == "cuda":
        return torch.cuda.synchronize
    if device == "mps":
        return torch.mps.synchronize
    return no_sync


def describe_device(device: str) -> str:
    """The device in words, for the report's setup line."""
    if device == "cuda":
        return f"cuda ({torch.cuda.get_device_name()})"
    if device == "mps":
        return "mps (Apple GPU)"
    name = "unknown CPU"
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        name = found.group(1).strip() if found else name
    except OSError:
        pass
    return f"cpu ({name}, {torch.get_num_threads()} threads)"


def available_memory(device: str) -> int | None:
    """Bytes free on `device` now: CUDA free memory, MemAvailable on CPU; None if unknown."""
    if device == "cuda":
        return torch.cuda.mem_get_info()[0]
    if device == "mps":
        if not hasattr(torch.mps, "recommended_max_memory"):  # torch < 2.5
            return None
        return torch.mps.recommended_max_memory() - torch.mps.driver_allocated_memory()
    return available_bytes()


def _libc_trim() -> None:
    # Hand freed heap back to the OS, so the next model's peak RSS starts from a clean baseline.
    try:
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)
    except (OSError, AttributeError, TypeError):
        pass


def release(device: str) -> None:
    """Free what the last model left: Python garbage, cached device memory, returned heap."""
    gc.collect()
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
    elif device == "mps":
        torch.mps.synchronize()
        torch.mps.empty_cache()
    else:
        _libc_trim()


def _status_bytes(field: str) -> int | None:
    try:
        found = re.search(rf"^{field}:\s+(\d+)\s*kB", Path("/proc/self/status").read_text(), re.M)
    except OSError:
        return None
    return int(found.group(1)) * 1024 if found else None


class PeakMemory:
    """Peak memory added between start() and peak(): CUDA allocator peak, or peak RSS on Linux."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.baseline: int | None = None

    def start(self) -> None:
        """Remember the current use and reset the peak."""
        if self.device == "cuda":
            torch.cuda.reset_peak_memory_stats()
            self.baseline = torch.cuda.memory_allocated()
        elif self.device == "cpu":
            try:
                # "5" resets the process's peak RSS (VmHWM) to its current RSS (Linux >= 4.0).
                Path("/proc/self/clear_refs").write_text("5")
            except OSError:
                return
            self.baseline = _status_bytes("VmRSS")

    def peak(self) -> int | None:
        """Bytes above the baseline at the peak; None where the device cannot tell."""
        if self.baseline is None:
            return None
        if self.device == "cuda":
            return torch.cuda.max_memory_allocated() - self.baseline
        high = _status_bytes("VmHWM")
        return None if high is None else max(0, high - self.baseline)
