"""The tensors of a replayed step and their dtypes: the plumbing under every op of
scalecalc.families.opmemory, with autocast's casts.

A tensor is an `Act`: its storage, element count, bytes per element and the edge its gradient
takes. Without AMP every tensor is in the step's dtype. Under AMP (`low`, the low precision's
bytes) the weights and the input stay float32 and each op runs in the dtype autocast gives it:
the ops of CUDA's lower-precision list cast their inputs to `low` (a recorded copy whose backward
casts the gradient back), weights through autocast's cache (one low copy per weight, alive until
the region exits or the last node saving it has run); the ops of the float32 list cast to
float32; the rest keep or promote their inputs' dtypes, and the engine casts a gradient whose
dtype differs from its input's.
"""

from __future__ import annotations

from collections.abc import Callable

from scalecalc.repeats import COUNT
from scalecalc.tape import Backward, Edge, Storage, Tape

FLOAT32 = 4  # norm statistics stay float32 whatever the step's dtype


class Act:
    """One activation tensor: its storage, element count, bytes per element and the edge its
    gradient takes."""

    __slots__ = ("edge", "elements", "itemsize", "storage")

    def __init__(self, storage: Storage, elements: int, edge: Edge, itemsize: int) -> None:
        self.storage, self.elements, self.edge = storage, elements, edge
        self.itemsize = itemsize


class Weights:
    """The weights one op uses, as the op sees them: under AMP their cached low copies (with
    the cast's node, whose backward makes the float32 .grad), else the parameters themselves."""

    __slots__ = ("counts", "edges", "storages")

    def __init__(self, counts: list[int], storages: list[Storage], edges: list[Edge]) -> None:
        self.counts, self.storages, self.edges = counts, storages, edges


class CastOps:
    """A step's tensors in the weights' dtype (`itemsize`), or under AMP in `low` where
    autocast runs an op low; `train` records autograd nodes."""

    __slots__ = ("cache", "channels_last", "itemsize", "low", "scaler", "tape", "train")

    def __init__(
        self,
        tape: Tape,
        itemsize: int,
        train: bool,
        low: int = 0,
        scaler: bool = False,
        channels_last: bool = False,
    ) -> None:  # fmt: skip
        self.tape, self.itemsize, self.train, self.low = tape, itemsize, train, low
        self.scaler = scaler  # float16's gradient scaler scales the loss and unscales grads
        # the model and its input in channels-last memory format
        self.channels_last = channels_last
        self.cache: list[Storage] = []  # autocast's weight-cast cache

    def new(self, elements: int, itemsize: int) -> Storage:
        """A storage of `elements` of `itemsize` bytes."""
        return self.tape.alloc(elements * itemsize)

    def by_batch(self, n: int, choice: Callable[[int], bool]) -> bool:
        """What an op chooses at batch `n`, `choice(b)` being its choice at batch b (torch's
        choices depend on the batch only through whether it is 1). A symbolic batch
        (scalecalc.repeats.symbolic) chooses as batch 2, and notes on the tape where batch 1
        would choose otherwise."""
        if n < COUNT:
            return choice(n)
        chosen = choice(2)
        if choice(1) != chosen:
            self.tape.one_differs = True
        return chosen

    def grads(self, *elements: int) -> None:
        """Parameter gradients made by a backward, kept as the parameters' .grad."""
        for count in elements:
            if count:
                self.tape.alloc(count * self.itemsize, "grads")

    def drop(self, *acts: Act) -> None:
        """Release one reference to each act's storage."""
        drop = self.tape.drop
        for act in acts:
            drop(act.storage)

    def keep(self, act: Act) -> Act:
        """A second reference to the same tensor."""
        self.tape.keep(act.storage)
        return act

    def view(self, act: Act, elements: int | None = None) -> Act:
        """A view of `act` (same storage, one more reference); gradients pass through."""
        self.tape.keep(act.storage)
        count = act.elements if elements is None else elements
        return Act(act.storage, count, act.edge, act.itemsize)

    def image(self, elements: int) -> Act:
        """The input batch, in the weights' dtype: no gradient. Channels-last converts the
        loader's batch, which is then dropped."""
        batch = self.new(elements, self.itemsize)
        if self.channels_last:
            loaded, batch = batch, self.new(elements, self.itemsize)
            self.tape.drop(loaded)
        return Act(batch, elements, None, self.itemsize)

    def out(
        self, elements: int, itemsize: int, saved: list[Storage], edges: list[Edge],
        backward: Backward,
    ) -> Act:  # fmt: skip
        """An op's new output of `elements`; in training, its node."""
        storage = self.new(elements, itemsize)
        if not self.train:
            return Act(storage, elements, None, itemsize)
        edge = (self.tape.node(saved, edges, backward), 0)
        return Act(storage, elements, edge, itemsize)

    # --- autocast ---

    def cast(self, x: Act, itemsize: int) -> Act:
        """x in `itemsize` (one reference): x itself, or a copy whose backward casts the
        gradient back."""
        if x.itemsize == itemsize:
            return self.keep(x)

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [self.new(x.elements, x.itemsize)]

        if x.edge is None:
            return Act(self.new(x.elements, itemsize), x.elements, None, itemsize)
        return self.out(x.elements, itemsize, [], [x.edge], backward)

    def lowered(self, x: Act) -> Act:
        """x as an op of autocast's lower-precision list takes it (one reference)."""
        return self.cast(x, self.low) if self.low else self.keep(x)

    def weights(self, *counts: int, relaid: bool = False) -> Weights:
        """The weights (element counts, 0 for none) an op of the lower-precision list uses.
        Under AMP each is cast to `low` once and cached; in training the cast's backward makes
        the float32 gradient (`relaid`: in the low gradient's channels-last layout, which
        AccumulateGrad then copies into the weight's own)."""
        counts = [count for count in counts if count]
        if not self.low:
            return Weights(counts, [], [])
        storages, edges = [], []
        for count in counts:
            copy = self.tape.alloc(count * self.low, "cast_weights")
            self.cache.append(copy)
            storages.append(copy)
            if self.train:
                accumulate = self._accumulate(count, relaid)
                edges.append((self.tape.node([], [accumulate], self._to_float(count)), 0))
        return Weights(counts, storages, edges)

    def _to_float(self, count: int) -> Backward:
        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [self.new(count, self.itemsize)]

        return backward

    def _accumulate(self, count: int, relaid: bool) -> Edge:
        """AccumulateGrad of a weight: keeps the float32 gradient it gets as the .grad (counted
        so from its birth), or copies it when its layout is not the weight's."""

        def run(tape: Tape, grads: list[Storage]) -> None:
            if relaid:
                self.grads(count)
            else:
                tape.retag(tape.keep(grads[0]), "grads")

        return (self.tape.accumulator(run), 0)

    def weight_grads(self, weights: Weights, relaid: bool = False) -> list[Storage | None]:
        """The gradients a backward makes for `weights`: under AMP low ones for the casts'
        nodes; else the .grads themselves (`relaid`: the first weight's in the input's layout,
        for AccumulateGrad to copy)."""
        if self.low:
            return [self.new(count, self.low) for count in weights.counts]
        if relaid:
            first = self.new(weights.counts[0], self.itemsize)
            self.grads(*weights.counts[1:])
            return [first]
        self.grads(*weights.counts)
        return []

    def weight_edges(self, weights: Weights, relaid: bool = False) -> list[Edge]:
        """Where the gradients of `weight_grads` go."""
        if self.low:
            return weights.edges
        if relaid and self.train:
            return [self._accumulate(weights.counts[0], True)]
        return []

    def end_region(self) -> None:
        """Autocast's region exits: its cache lets go of the weight copies (those no node saved
        are freed, which a cut run's middle notes for the copies it stands for)."""
        for mark in self.tape.marks or ():
            mark.release(self.tape, [copy for copy in self.cache if copy.refs == 1])
        self.tape.drop(*self.cache)
        self.cache.clear()

    def as_input(self, grad: Storage, elements: int, itemsize: int, x: Act) -> Storage:
        """A gradient (`itemsize` bytes per element) in x's dtype, as the engine casts it."""
        if itemsize == x.itemsize or x.edge is None:
            return grad
        made = self.new(elements, x.itemsize)
        self.tape.drop(grad)
        return made
