"""Live bytes of a step replayed without torch: storages, autograd nodes and the backward engine.

The closed-form twin of the meta-device trace (scalecalc.nn.memory). A step is written as the
storages its ops allocate and the Python references that keep them alive; training adds one node
per op that allocates in backward, saving what autograd saves. `backward` then runs the nodes
as torch's engine does: the ready node with the highest sequence number first, a node's
incoming gradients and saved tensors released once it has run, and a second gradient for the
same input summed out of place. The peak is the most bytes alive after any op.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scalecalc.repeats import Repeat

KINDS = (
    "weights", "grads", "optimizer_state", "activations", "cast_weights", "ema_weights",
    "scaler_state",
)  # fmt: skip
# AccumulateGrad's sequence number: the highest, so the engine runs it as soon as it is ready.
ACCUMULATE_FIRST = 2**64 - 1


class Storage:
    """Bytes of one storage (rounded to the allocator's block) and the references to it."""

    __slots__ = ("born", "kind", "nbytes", "refs")

    def __init__(self, nbytes: int, kind: str, born: int) -> None:
        self.nbytes, self.kind, self.refs, self.born = nbytes, kind, 1, born


# What a node hands back for each of its inputs: a gradient storage, or None (no gradient).
Grads = list["Storage | None"]
Backward = Callable[["Tape", "list[Storage]"], Grads]


class Node:
    """One autograd node: its sequence number, what it saved, where its gradients go, and the
    ops its backward runs (a function of the tape and the gradients of its outputs)."""

    __slots__ = ("backward", "edges", "outputs", "saved", "seq")

    def __init__(
        self, seq: int, saved: Sequence[Storage], edges: Sequence[Edge], backward: Backward,
        outputs: int,
    ) -> None:  # fmt: skip
        self.seq, self.saved, self.edges, self.backward = seq, saved, edges, backward
        self.outputs = outputs


# Where one input of a node gets its gradient: the node that made it and the output's index;
# None for an input that needs none.
Edge = tuple[Node, int] | None


class Tape:
    """Bytes alive over one step, by kind, and their peak (taken after each op, as the trace)."""

    __slots__ = (
        "allocs", "block", "by_kind", "marks", "one_differs", "peak", "peak_at", "peak_parts", "seq",
        "timeline", "total",
    )  # fmt: skip

    def __init__(self, block: int = 1, record: bool = False, cut: bool = False) -> None:
        self.block = block
        self.total = 0
        self.peak = 0
        self.by_kind = dict.fromkeys(KINDS, 0)
        self.peak_parts = dict(self.by_kind)
        self.peak_at = 0  # allocations made up to the peak
        self.allocs = 0
        self.seq = 0
        # with `record`, the bytes alive after each allocation: affine in the batch, for
        # max_batch's line
        self.timeline: list[int] | None = [] if record else None
        # with `cut`, runs of identical blocks are played as three (scalecalc.repeats), whose
        # middles' marks are kept here
        self.marks: list[Repeat] | None = [] if cut else None
        # replayed at a symbolic batch (scalecalc.repeats.symbolic): whether an op would have
        # chosen another path at batch 1, whose bytes are then off the replay's lines
        self.one_differs = False

    def rounded(self, nbytes: int) -> int:
        """`nbytes` as the allocator hands it out (a multiple of its block)."""
        return nbytes if self.block == 1 else -(-nbytes // self.block) * self.block

    def hold(self, sizes: Sequence[int], kind: str) -> None:
        """Count tensors of these bytes that stay alive for the whole step (weights, state)."""
        held = sum(map(self.rounded, sizes))
        self.total += held
        self.by_kind[kind] += held
        self._check()

    def alloc(self, nbytes: int, kind: str = "activations") -> Storage:
        """A new storage of `nbytes` made by an op, with one reference."""
        if self.block != 1:
            nbytes = -(-nbytes // self.block) * self.block
        storage = Storage(nbytes, kind, self.allocs)
        self.total += nbytes
        self.by_kind[kind] += nbytes
        self._check()
        return storage

    def temporaries(self, sizes: Sequence[int]) -> None:
        """Storages of these bytes made one after another and freed together: only the moment
        all are alive is counted, the one the others never exceed."""
        made = sum(map(self.rounded, sizes))
        self.total += made
        self.by_kind["activations"] += made
        self._check()
        self.total -= made
        self.by_kind["activations"] -= made

    def keep(self, storage: Storage) -> Storage:
        """One more reference to `storage` (a view, a saved tensor, a second name)."""
        storage.refs += 1
        return storage

    def retag(self, storage: Storage, kind: str) -> None:
        """Count a live storage as `kind` over its whole life, as the trace counts a tensor by
        what it finally became (a gradient kept as a parameter's .grad)."""
        self.by_kind[storage.kind] -= storage.nbytes
        self.by_kind[kind] += storage.nbytes
        if storage.born < self.peak_at:  # alive at the peak already
            self.peak_parts[storage.kind] -= storage.nbytes
            self.peak_parts[kind] += storage.nbytes
        storage.kind = kind

    def drop(self, *storages: Storage | None) -> None:
        """Release one reference to each storage; the last one frees it."""
        for storage in storages:
            if storage is None:
                continue
            storage.refs -= 1
            if storage.refs == 0:
                self.total -= storage.nbytes
                self.by_kind[storage.kind] -= storage.nbytes

    def node(
        self,
        saved: Sequence[Storage],
        edges: Sequence[Edge],
        backward: Backward,
        outputs: int = 1,
    ) -> Node:
        """A node made now (next sequence number), keeping a reference to each saved storage."""
        for storage in saved:
            storage.refs += 1
        self.seq += 1
        return Node(self.seq, saved, edges, backward, outputs)

    def accumulator(self, run: Callable[[Tape, list[Storage]], object]) -> Node:
        """An AccumulateGrad node that copies the gradient it gets: it runs as soon as it is
        ready, before any other node, as the engine runs AccumulateGrad."""
        return Node(ACCUMULATE_FIRST, [], [], lambda tape, grads: run(tape, grads) or [], 1)

    def backward(self, root: Node, grad: Storage) -> None:
        """Run the graph under `root` from the gradient `grad` of its output, as the engine does."""
        dependencies: dict[Node, int] = {}
        stack = [root]
        while stack:
            for edge in stack.pop().edges:
                if edge is not None:
                    target = edge[0]
                    if target not in dependencies:
                        dependencies[target] = 0
                        stack.append(target)
                    dependencies[target] += 1
        buffers: dict[Node, list[Storage | None]] = {root: [self.keep(grad)]}
        order = itertools.count()  # ties (AccumulateGrad nodes): first ready, first run
        ready = [(-root.seq, next(order), root)]
        # a run's middle block's backward starts with the first of its nodes to run and ends
        # with the first of an earlier block's (the engine runs one block's nodes together)
        bounds = sorted(
            ((seq, mark) for mark in self.marks or () for seq in mark.seqs), key=lambda b: -b[0]
        )
        while ready:
            node = heapq.heappop(ready)[2]
            while bounds and node.seq < bounds[0][0]:
                bounds.pop(0)[1].backward.append((self.allocs, self.total))
            incoming = buffers.pop(node)
            present = incoming if None not in incoming else [g for g in incoming if g is not None]
            outgoing = node.backward(self, present)
            self.drop(*incoming, *node.saved)
            for edge, out in zip(node.edges, outgoing):
                if out is None:
                    continue
                if edge is None:  # an input that needs no gradient
                    self.drop(out)
                    continue
                target, index = edge
                slots = buffers.get(target)
                if slots is None:
                    slots = buffers[target] = [None] * target.outputs
                old = slots[index]
                if old is None:
                    slots[index] = out
                else:  # a second gradient for the same tensor: summed out of place
                    slots[index] = self.alloc(old.nbytes)
                    self.drop(old, out)
                dependencies[target] -= 1
                if dependencies[target] == 0:
                    heapq.heappush(ready, (-target.seq, next(order), target))

    def _check(self) -> None:
        self.allocs += 1
        if self.timeline is not None:
            self.timeline.append(self.total)
        if self.total > self.peak:
            self.peak = self.total
            self.peak_parts = dict(self.by_kind)
            self.peak_at = self.allocs
