"""The scripts under benchmarks/ start, refuse bad input in one line, and say what they cost;
the long measurements themselves are not run here."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from conftest import REPO

BENCHMARKS = REPO / "benchmarks"
PYCLS = REPO / "data" / "published" / "pycls"


def script(name: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run benchmarks/NAME.py with ARGS in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )


def module(name: str) -> ModuleType:
    """benchmarks/NAME.py imported as a module (its main() not run)."""
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


@pytest.mark.parametrize("layout", ["checkout", "flat"])
def test_pycls_zoo_reads_a_pycls_checkout_and_the_published_copy(
    tmp_path: Path, layout: str
) -> None:
    if layout == "checkout":  # pycls's own layout: MODEL_ZOO.md at the root, the JSON in dev/
        folder = tmp_path / "pycls"
        (folder / "dev").mkdir(parents=True)
        shutil.copy(PYCLS / "MODEL_ZOO.md", folder)
        for name in ("model_complexity.json", "model_timing.json"):
            shutil.copy(PYCLS / name, folder / "dev")
    else:
        folder = PYCLS
    done = script("pycls_zoo", str(folder))
    assert done.returncode == 0, done.stderr
    assert "36 of 36 models equal pycls's counts." in done.stdout
    # The zoo's measured V100 inference times follow acts (Pearson 0.973) more than flops.
    assert "| test | acts | 0.973 | 0.975 |" in done.stdout


def test_pycls_zoo_refuses_a_folder_without_the_zoo_in_one_line(tmp_path: Path) -> None:
    done = script("pycls_zoo", str(tmp_path))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"error: {tmp_path}: no model_complexity.json in it or in its dev/; give a pycls checkout\n"
    )


def test_fvcore_cost_has_help() -> None:
    done = script("fvcore_cost", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: fvcore_cost.py [-h] [MODEL ...]")


def test_memory_table_names_each_error_column_by_what_it_compares() -> None:
    columns = module("memory").headers("allocator")
    assert len(columns) == len(set(columns)) == 9
    assert [c for c in columns if c.startswith("error")] == ["error vs allocator", "error vs rss"]


def test_memory_silences_the_profilers_own_lines_on_stderr() -> None:
    # The profiler's C++ side writes `USDT: ... profiler_start` on file descriptor 2.
    code = (
        "import os, sys\n"
        f"sys.path.insert(0, {str(BENCHMARKS)!r})\n"
        "import memory\n"
        "with memory._no_stderr():\n"
        "    os.write(2, b'USDT: profiler_start\\n')\n"
        "os.write(2, b'after\\n')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "after\n")


def test_counting_leaves_the_giant_model_out_unless_asked() -> None:
    counting = module("counting")
    names = counting.model_names("resnet*", giant=False)
    assert names == ["resnet101", "resnet50"]
    assert counting.model_names("resnet*", giant=True) == [*names, "vit_1.8b"]


@pytest.mark.slow
def test_counting_quick_counts_without_fvcore_or_the_sweep() -> None:
    done = script("counting", "--quick", "--include", "vit_s16")
    assert done.returncode == 0, done.stderr
    (row,) = [line for line in done.stdout.splitlines() if line.startswith("| vit_s16 |")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[3] == "-" and cells[4].endswith(" / -")  # no fvcore count
    assert "Sweep:" not in done.stdout and "vit_1.8b" not in done.stdout
