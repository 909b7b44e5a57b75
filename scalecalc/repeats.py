"""A stage's run of identical blocks replayed as three: the bytes of the full depth from them.

In a run of L identical blocks, every block between the first and the last (a predecessor and a
successor of the same kind) does the same over the step, shifted: its forward starts R bytes
above the one before (what it keeps for backward), its backward B bytes away from the next
one's. So a replay may play the first, one middle and the last block, and stand for the L - 3
middles left out by shifting the bytes after each allocation: those after the middle's forward by
(L - 3)·R, those after its backward by (L - 3)·(R + B), and, for the copies left out, the middle's
own bytes by the extremes of i·R (forward) and (L - 3)·R + i·B (backward), i from 0 to L - 3, a
maximum of lines taken at their ends.

A CountingTape carries the storages alive and the bytes rounded to the allocator's block beside
the bytes in every such sum and, replayed at a symbolic batch, the rise of the bytes per image:
so one replay gives the peak at its batch and the line through it of the bytes after every
allocation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalecalc.tape import Storage, Tape

if TYPE_CHECKING:
    from collections.abc import Sequence

PLAYED = 3  # a run this long or shorter is replayed whole


class Repeat:
    """The marks of one run's middle block on a tape: where its forward and backward start and
    end (allocations made and bytes alive then) and the sequence numbers of its nodes."""

    __slots__ = ("backward", "copies", "forward", "released", "seqs")

    def __init__(self, copies: int, tape: Tape) -> None:
        self.copies = copies  # middles left out
        self.forward = [(tape.allocs, tape.total)]
        self.backward: list[tuple[int, int]] = []
        self.seqs = [tape.seq + 1]
        # (allocations made, bytes): what the middle made in its forward and freed outside its
        # backward (autocast's cached weight copies no node saved, at the region's exit)
        self.released: list[tuple[int, int]] = []

    def end_forward(self, tape: Tape) -> None:
        """The middle's forward is done: the next block starts."""
        self.forward.append((tape.allocs, tape.total))
        self.seqs.append(tape.seq + 1)

    def release(self, tape: Tape, freed: list[Storage]) -> None:
        """Storages about to be freed, from outside the middle's backward."""
        start, stop = self.forward[0][0], self.forward[-1][0]
        made = sum(storage.nbytes for storage in freed if start <= storage.born < stop)
        self.released.append((tape.allocs, made))


def unrolled(tape: Tape, repeats: list[Repeat]) -> list[int]:
    """The bytes after each allocation of the full-depth step, as candidates whose maximum is
    its peak, from the recorded `tape` of a replay whose runs were cut to PLAYED blocks (where
    the middle's storages are freed outside its backward, the copies left out drop what theirs
    would have freed). Their order depends on the step's structure alone, so two batches'
    lists align."""
    timeline = tape.timeline or []
    end = len(timeline)
    # the middles' forward and backward windows, in allocation indices: (start, stop, what the
    # copies left out add at most inside, what they add to every later allocation)
    cuts: list[tuple[int, int, int, int]] = []
    for repeat in repeats:
        (f_start, f_level), (f_stop, f_next) = repeat.forward
        rise = repeat.copies * (f_next - f_level)
        cuts.append((f_start, f_stop, rise, rise))
        if len(repeat.backward) == 2:
            (b_start, b_level), (b_stop, b_next) = repeat.backward
            fall = repeat.copies * (b_next - b_level)
            cuts.append((b_start, b_stop, fall, fall))
        cuts += [(index, index, 0, -repeat.copies * made) for index, made in repeat.released]
    cuts.sort()
    out: list[int] = []
    shift = 0  # what the windows passed add to every later allocation
    index = 0
    for start, stop, inside, added in cuts:
        out += [value + shift for value in timeline[index:start]]
        window = timeline[start:stop]
        out += [value + shift for value in window]
        out += [value + shift + inside for value in window]
        shift += added
        index = stop
    out += [value + shift for value in timeline[index:end]]
    return out


# The radix of a CountingTape's weights: more than any step's bytes, rise per image or storages.
# Within the spec limits the largest storage is a ViT's attention scores, at most 2^69 elements
# (2^17 heads × 2^52 tokens²) of 4 bytes per image, 2^102 bytes at batch 2^31; a replay makes
# fewer than 2^16 storages, so the bytes alive stay below 2^118. A power of two, so that the
# parts are read by shifts and masks.
BITS = 128
COUNT = 1 << BITS
MASK = COUNT - 1
ONE = 1 << 2 * BITS  # the weight of one storage
ROUNDED = 3 * BITS  # the shift of the rounded bytes


def symbolic(batch: int) -> int:
    """A batch that replays as `batch` with every size's rise per image carried beside it:
    an op's output of p elements per image holds p·batch + p·COUNT, read back by `parts`.
    Ops that choose a path by the batch choose as at any batch from 2 on
    (scalecalc.families.castops.CastOps.by_batch)."""
    return batch + COUNT


class CountingTape(Tape):
    """A tape on which every storage weighs its bytes, plus COUNT² times one storage, plus COUNT³
    times its bytes rounded up to a multiple of `unit`; at a `symbolic` batch the bytes carry
    their rise per image times COUNT too. Every sum the tape and `unrolled` make (the bytes
    alive, the marks' levels, the copies left out) then carries the rise, the storages alive and
    the rounded bytes beside the bytes, for `parts` to read. It records the weighed bytes alive
    after each allocation (`timeline`) and keeps nothing else: no peak, no parts by kind."""

    __slots__ = ("unit",)

    def __init__(self, unit: int, cut: bool = False) -> None:
        super().__init__(1, True, cut)
        self.unit = unit

    def hold(self, sizes: Sequence[int], kind: str) -> None:
        """Tensors of these bytes alive for the whole step, weighed together."""
        self.total += self._weighed(sizes)
        self._record()

    def _weighed(self, sizes: Sequence[int]) -> int:
        """The weight of storages of these (batch-independent) bytes together."""
        unit = self.unit
        blocks = sum(-(-size // unit) for size in sizes) * unit if unit > 1 else sum(sizes)
        return sum(sizes) + ONE * len(sizes) + (blocks << ROUNDED)

    def temporaries(self, sizes: Sequence[int]) -> None:
        """Storages of these bytes made one after another and freed together, weighed together
        at the moment all are alive."""
        held = self._weighed(sizes)
        self.total += held
        self._record()
        self.total -= held

    def alloc(self, nbytes: int, kind: str = "activations") -> Storage:
        """A new storage of `nbytes`, weighed (a weight already, as another storage's `nbytes`
        the engine allocates again, is kept)."""
        if nbytes < ONE:
            unit = self.unit
            nbytes += ONE + ((-(-(nbytes & MASK) // unit) * unit) << ROUNDED)
        storage = Storage(nbytes, kind, self.allocs)
        self.allocs += 1
        self.total += nbytes
        self.timeline.append(self.total)  # type: ignore[union-attr]
        return storage

    def retag(self, storage: Storage, kind: str) -> None:
        """Name the storage's kind (the weights count no kinds)."""
        storage.kind = kind

    def drop(self, *storages: Storage | None) -> None:
        """Release one reference to each storage; the last one frees it."""
        for storage in storages:
            if storage is not None:
                storage.refs -= 1
                if not storage.refs:
                    self.total -= storage.nbytes

    def _record(self) -> None:
        self.allocs += 1
        self.timeline.append(self.total)  # type: ignore[union-attr]


def parts(values: list[int]) -> tuple[list[int], list[int], list[int]]:
    """The bytes, their rise per image and the storages alive in each of a CountingTape's
    `values`."""
    now = [value & MASK for value in values]
    rise = [value >> BITS & MASK for value in values]
    alive = [value >> 2 * BITS & MASK for value in values]
    return now, rise, alive


def rounded_peak(values: list[int]) -> int:
    """The most rounded bytes alive in any of a CountingTape's `values` (the rounded bytes
    weigh the most, so the largest value holds them)."""
    return max(values) >> ROUNDED
