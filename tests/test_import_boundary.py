"""The house plan: commands that only do arithmetic never import torch, fvcore or matplotlib,
and work where torch and fvcore are not installed (the torch extra is optional); the paths that
need them still work, and without them say in one line what to install."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

# Slow (a fresh interpreter per command): run by `pytest -m slow`, which CI runs too.
pytestmark = pytest.mark.slow

HEAVY = ("torch", "fvcore", "matplotlib")

# Runs the console entry point in a fresh interpreter, then reports which of the watched
# modules it loaded (on stderr's last line, so that the command's own stdout stays intact).
PROBE = """
import json, sys
from scalecalc.cli import main
sys.argv = ["scalecalc", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    code = exit.code
heavy = [name for name in {watched!r} if name in sys.modules]
print(json.dumps({{"code": code, "heavy": heavy}}), file=sys.stderr)
"""


def run_fresh(
    args: list[str], cwd: Path, watched: tuple[str, ...] = HEAVY
) -> tuple[int, list[str], str]:
    """Exit code, `watched` modules loaded and stdout of `scalecalc ARGS` in a new interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(watched=watched), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], report["heavy"], done.stdout


LIGHT_COMMANDS = [
    ["--help"],
    ["-h"],
    ["--version"],
    ["list"],
    ["show", "regnety_4gf"],
    ["scale", "resnet50", "-s", "dWr", "--factor", "4"],
    ["scale", "vit_b16", "-s", "dwr", "--target-factor", "2"],
    *[["count", "resnet50", "convnext_t", "-f", fmt] for fmt in ("md", "json", "csv", "table")],
    *[["compare", "-f", fmt] for fmt in ("md", "json", "csv", "table")],
    *[["compare", "-f", fmt, "-o", f"out.{fmt}"] for fmt in ("md", "json", "csv", "table")],
    ["check", "--presets", "--baseline", str(REPO / "configs/baselines/costs.json"), "-f", "md"],
    ["compare", "--target-factor", "4", "--profile", "rtx4090", "-f", "json"],
    # equal time on the default bases: solving for predicted time is arithmetic too
    ["compare", "-s", "w,dWr", "--target-time-factor", "10", "--profile", "v100-pycls-train"],
    [
        "compare",
        "-s",
        "d",
        "--target-time",
        "200h",
        "--epochs",
        "100",
        "--gpus",
        "8",
        "--profile",
        "rtx3090-train",
    ],  # fmt: skip
    ["profile", "show", "rtx4090"],
    # predicted memory in closed form (the default counter): arithmetic, the default sweep
    ["compare", "--memory", "--train", "--optimizer", "adamw", "--max-batch", "24GiB"],
    ["compare", "--memory", "--batch-size", "8", "--dtype", "bfloat16", "-f", "json"],
]


@pytest.mark.parametrize("args", LIGHT_COMMANDS, ids=" ".join)
def test_arithmetic_commands_import_no_torch(args: list[str], tmp_path: Path) -> None:
    code, heavy, stdout = run_fresh(args, tmp_path)
    assert code in (0, None), stdout
    assert heavy == [], f"{' '.join(args)} imported {heavy}"
    assert stdout or any(a == "-o" for a in args)


def test_meta_counter_and_plot_still_load_what_they_need(tmp_path: Path) -> None:
    code, heavy, stdout = run_fresh(
        ["count", "resnet50", "--counter", "meta", "-f", "json"], tmp_path
    )
    assert code in (0, None) and "torch" in heavy and "matplotlib" not in heavy
    # Equal to the published ResNet-50 parameter count (torchvision), through the traced path.
    assert json.loads(stdout)[0]["params"] == 25_557_032
    args = ["compare", "resnet50", "-s", "w", "--factors", "2", "--plot", "p.svg", "-f", "json"]
    code, heavy, _ = run_fresh(args, tmp_path)
    assert code in (0, None) and "matplotlib" in heavy and "torch" not in heavy
    assert (tmp_path / "p.svg").read_text().lstrip().startswith("<?xml")


def test_python_api_counts_without_torch() -> None:
    script = (
        "import sys, scalecalc\n"
        "costs = scalecalc.count(scalecalc.load('resnet50').spec)\n"
        "print(costs.params, 'torch' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert done.stdout.split() == ["25557032", "False"]


def test_no_module_imports_click_directly() -> None:
    # typer 0.29 vendors its own click and installs none: a direct `import click` works in a
    # venv where something else brought click, and fails in a fresh `pip install scalecalc`.
    offenders = [
        str(path.relative_to(REPO))
        for path in (REPO / "scalecalc").rglob("*.py")
        if any(
            line.strip().startswith(("import click", "from click"))
            for line in path.read_text().splitlines()
        )
    ]
    assert offenders == []


# Refusals of `bench` that need no device: said before torch is imported (seconds, not the
# 5-48 s its import took on a busy machine).
BENCH_REFUSALS = [
    ["bench", "--resume"],
    ["bench", "-o", "missing/out.json"],
    ["bench", "--threads", "0"],
    ["bench", "--iters", "0"],
    ["bench", "-s", "q"],
    ["bench", "-o", "out.json.partial.jsonl/x.json"],
]


@pytest.mark.parametrize("args", BENCH_REFUSALS, ids=" ".join)
def test_bench_refuses_bad_options_before_importing_torch(args: list[str], tmp_path: Path) -> None:
    code, heavy, stdout = run_fresh(args, tmp_path)
    assert (code, heavy, stdout) == (2, [], "")


def test_bench_refuses_a_partial_file_in_the_way_before_importing_torch(tmp_path: Path) -> None:
    (tmp_path / "out.json.partial.jsonl").mkdir()
    code, heavy, _ = run_fresh(["bench", "-o", "out.json", "--resume"], tmp_path)
    assert (code, heavy) == (2, [])


# Runs the console entry point in a fresh interpreter where the packages named in argv[1]
# (comma-separated) cannot be imported, as in a `pip install scalecalc` without the torch extra.
WITHOUT = """
import sys

blocked = set(sys.argv[1].split(","))


class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NotInstalled())
if sys.argv[2] == "-c":
    exec(sys.argv[3])
else:
    from scalecalc.cli import main

    sys.argv = ["scalecalc", *sys.argv[2:]]
    main()
"""
NO_TORCH = "torch,fvcore"
INSTALL = "install the torch extra: pip install 'scalecalc[torch]'"


def run_without(
    blocked: str, args: list[str], cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    """`scalecalc ARGS` (or `-c CODE`) in a new interpreter that cannot import `blocked`."""
    return subprocess.run(
        [sys.executable, "-c", WITHOUT, blocked, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["count", "resnet50", "--counter", "meta"], "--counter meta needs torch, which is"),
        (["count", "resnet50", "--counter", "fvcore"], "--counter fvcore needs torch and fvcore"),
        (["bench", "--iters", "1"], "bench needs torch"),
        (["compare", "--memory", "--memory-counter", "trace"], "--memory-counter trace needs"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_paths_that_need_torch_name_the_extra_without_it(args: list[str], message: str) -> None:
    done = run_without(NO_TORCH, args)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith(f"error: {message}"), done.stderr
    assert done.stderr.count("\n") == 1
    assert done.stderr.endswith(f"not installed; {INSTALL}\n")


def test_fvcore_alone_missing_is_named() -> None:
    done = run_without("fvcore", ["count", "resnet50", "--counter", "fvcore"])
    assert (done.returncode, done.stdout) == (2, "")
    expected = f"error: --counter fvcore needs fvcore, which is not installed; {INSTALL}\n"
    assert done.stderr == expected
    # torch alone is enough for the meta counter: ResNet-50's published parameter count.
    done = run_without("fvcore", ["count", "resnet50", "--counter", "meta", "-f", "json"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["params"] == 25_557_032


def test_python_api_without_torch_raises_an_import_error_naming_the_extra() -> None:
    script = (
        "import scalecalc\n"
        "spec = scalecalc.load('resnet50').spec\n"
        "print(scalecalc.count(spec).params)\n"
        "for call in (lambda: scalecalc.build(spec),\n"
        "             lambda: scalecalc.count(spec, counter='meta'),\n"
        "             lambda: __import__('scalecalc.nn.memory')):\n"
        "    try:\n"
        "        call()\n"
        "    except ImportError as error:\n"
        "        print(type(error).__name__, isinstance(error, scalecalc.ScalecalcError), error)\n"
    )
    done = run_without(NO_TORCH, ["-c", script])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "25557032"  # torchvision's published ResNet-50 parameters
    needs = [
        "building a model",
        "the meta counter",
        "building, tracing or timing a model (scalecalc.nn)",
    ]
    assert lines[1:] == [
        f"TorchUnavailableError True {what} needs torch, which is not installed; {INSTALL}"
        for what in needs
    ]


BENCH_FILE = REPO / "tests" / "data" / "bench_cpu_default.json"


@pytest.mark.parametrize(
    "args",
    [
        ["list"],
        ["show", "resnet50"],
        ["scale", "resnet50", "-s", "d", "--factor", "2"],
        ["count", "resnet50", "-f", "json"],
        ["compare", "-f", "json"],
        ["compare", "--target-factor", "4", "--profile", "rtx4090", "-f", "json"],
        ["check", "--presets", "--baseline", str(REPO / "configs/baselines/costs.json")],
        ["profile", "show", "rtx4090"],
        ["profile", "fit", str(BENCH_FILE), "-o", "fitted.json"],
    ],
    ids=" ".join,
)
def test_arithmetic_commands_work_without_torch(args: list[str], tmp_path: Path) -> None:
    done = run_without(NO_TORCH, args, tmp_path)
    with_torch = subprocess.run(
        [sys.executable, "-m", "scalecalc", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == with_torch.returncode == 0, done.stderr
    # Byte for byte what the same command prints where torch is installed.
    assert done.stdout == with_torch.stdout


def test_without_torch_the_counts_are_the_published_ones(tmp_path: Path) -> None:
    done = run_without(NO_TORCH, ["count", "resnet50", "vit_b16", "-f", "json"], tmp_path)
    rows = json.loads(done.stdout)
    # torchvision's published parameter counts.
    assert [row["params"] for row in rows] == [25_557_032, 86_567_656]
    # Depth × 2: each of ResNet-50's stages (3, 4, 6, 3) twice as deep.
    done = run_without(NO_TORCH, ["scale", "resnet50", "-s", "d", "--factor", "2"], tmp_path)
    assert "depths: [6, 8, 12, 6]" in done.stdout, done.stdout
    done = run_without(NO_TORCH, ["list"], tmp_path)
    assert len(done.stdout.splitlines()) == len(list((REPO / "configs").glob("*.yaml")))
