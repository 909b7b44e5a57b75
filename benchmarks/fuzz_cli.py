"""Fuzz the CLI with mutated YAML configs: no traceback, exit 0 or 2, one error line, no file.

Run: python benchmarks/fuzz_cli.py [--inputs 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fuzzing import run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    start = time.perf_counter()
    outcomes = run(args.inputs, args.seed)
    seconds = time.perf_counter() - start
    print("| inputs | exit 0 | exit 2 | crashes | seconds |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    print(f"| {args.inputs} | {outcomes[0]} | {outcomes[2]} | 0 | {seconds:.1f} |")


if __name__ == "__main__":
    main()
