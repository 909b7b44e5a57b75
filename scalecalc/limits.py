"""How large a model, and a batch of it, the traced paths take (the meta counter, the fvcore
counter, the memory trace): past these only the closed-form counts run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalecalc.errors import ConfigError, ModelTooLargeError, shown
from scalecalc.registry import get_family

if TYPE_CHECKING:
    from scalecalc.costs import Costs
    from scalecalc.families.spec import BaseSpec

# Building a module per block costs time and memory (a 16,000-block model took 90 s and
# 1.6 GiB to trace for its memory): past this many blocks no trace runs.
MAX_TRACED_BLOCKS = 1000
# torch refuses tensors of 2^63 bytes or more; the largest tensor of a forward or backward pass
# is at most its activations (the sum of the outputs counted) times the batch, so this leaves
# a margin of 2 at float32.
MAX_TRACED_ELEMENTS = 2**60
# The largest batch size any option takes. 2^31 images of the smallest input a model here
# reads (3×32×32 at float16) are 13 TB; a larger batch is a typo.
MAX_BATCH_SIZE = 2**31


def check_batch_size(value: int, what: str = "--batch-size") -> int:
    """`value` if it is a batch size from 1 to MAX_BATCH_SIZE; ConfigError naming `what`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BATCH_SIZE:
        raise ConfigError(f"{what}: must be from 1 to {MAX_BATCH_SIZE} (2^31), got {shown(value)}")
    return value


def check_traceable(spec: BaseSpec, what: str, instead: str) -> Costs:
    """The closed-form costs of `spec` (paper convention, batch 1), or ModelTooLargeError if
    `what` could not trace it in reasonable time and memory; `instead` ends the message with
    what to use."""
    if spec.num_blocks > MAX_TRACED_BLOCKS:
        raise ModelTooLargeError(
            f"{spec.num_blocks} blocks is more than {what} builds "
            f"(limit {MAX_TRACED_BLOCKS}); {instead}"
        )
    costs = get_family(spec.family).complexity(spec, "paper")
    if costs.acts > MAX_TRACED_ELEMENTS:
        raise ModelTooLargeError(
            f"this model's activations ({costs.acts:.3g} elements) are more than {what}'s "
            f"tensors can hold (2^60); {instead}"
        )
    return costs


def largest_traceable_batch(costs: Costs) -> int:
    """The largest batch of a model with these (batch-1) costs whose trace stays within
    MAX_TRACED_ELEMENTS and MAX_BATCH_SIZE."""
    return min(MAX_BATCH_SIZE, MAX_TRACED_ELEMENTS // max(costs.acts, 1))
