"""What one inference or training step is set up with, by name: devices, element types and
optimizers. Pure data, shared by the command line, the benchmark, its files and the memory trace."""

from __future__ import annotations

DEVICE_KINDS = ("cpu", "cuda", "mps")
# Bytes of one element of each floating-point type a step may run in, in the order shown.
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}
DTYPE_NAMES = tuple(DTYPE_BYTES)
# The low precisions autocast runs its lower-precision ops in (weights stay float32).
AMP_DTYPES = ("float16", "bfloat16")
OPTIMIZERS = ("sgd", "adam", "adamw")
