"""The search for the largest batch within a memory budget: pure arithmetic over the live bytes
that scalecalc.nn.memory traces."""

from __future__ import annotations

import math
from collections.abc import Callable

# max_batch draws its lines through these batches. Not batch 1: some ops take other paths there
# (ViT-B/16 runs a different op sequence at batch 1 than at 2 or 3).
LINE_BATCHES = (2, 3)


def linear_guess(small: list[int], large: list[int], budget_bytes: int) -> int:
    """The largest batch within budget if the bytes alive after each op are affine in the batch.

    `small` and `large` are the live bytes after each op at batch 2 and 3 (LINE_BATCHES). Every
    tensor of these models is either independent of the batch (weights, gradients, optimizer
    state) or holds one slice per image, so the bytes after op t are a_t + b_t·batch and the
    peak at any batch is max_t(a_t + b_t·batch): exact from two traces, whichever op holds it."""
    if len(small) != len(large):  # another op sequence at another batch: no line to follow
        return LINE_BATCHES[0]
    guess = math.inf
    for low, high in zip(small, large, strict=True):
        slope = high - low
        if slope <= 0:
            if low > budget_bytes:
                return 0
            continue
        guess = min(guess, LINE_BATCHES[0] + (budget_bytes - low) // slope)
    return max(int(guess), 0) if guess != math.inf else LINE_BATCHES[0]


def largest_fitting(fits: Callable[[int], bool], guess: int) -> int:
    """The largest batch b >= 0 with fits(b), fits being true up to some batch and false after.

    Searched outward from `guess` in doubling steps, then by bisection: two calls of `fits` when
    the guess is right, a few more (logarithmic in the miss) when it is not."""
    guess = max(guess, 1)
    step = 1
    if fits(guess):
        low = guess
        while fits(low + step):
            low += step
            step *= 2
        high = low + step
    else:
        high = guess
        while high - step >= 1 and not fits(high - step):
            high -= step
            step *= 2
        low = max(high - step, 0)
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low
