"""The bytes each ATen op of the built models allocates, forward and backward, on a Tape.

One method per op the blocks of scalecalc/nn/blocks.py dispatch, written from what autograd
saves and what each backward formula allocates, in the order torch runs them. A tensor is an
`Act`: its storage, its elements and where its gradient goes. Each method that returns a new
Act hands the caller one reference, which the caller drops when Python would drop the value.
"""

from __future__ import annotations

from scalecalc.tape import Edge, Storage, Tape

FLOAT32 = 4  # norm statistics stay float32 whatever the step's dtype
INDEX = 8  # max pooling's int64 indices


class Act:
    """One activation tensor: its storage, element count and the edge its gradient takes."""

    __slots__ = ("edge", "elements", "storage")

    def __init__(self, storage: Storage, elements: int, edge: Edge) -> None:
        self.storage, self.elements, self.edge = storage, elements, edge


class Ops:
    """The ops of one step in one dtype; `train` records autograd nodes."""

    __slots__ = ("itemsize", "tape", "train")

    def __init__(self, tape: Tape, itemsize: int, train: bool) -> None:
        self.tape, self.itemsize, self.train = tape, itemsize, train

    # --- plumbing ---

    def new(self, elements: int) -> Storage:
        """A storage of `elements` in the step's dtype."""
        return self.tape.alloc(elements * self.itemsize)

    def grads(self, *elements: int) -> None:
        """Parameter gradients made by a backward, kept as the parameters' .grad."""
        for count in elements:
            if count:
                self.tape.alloc(count * self.itemsize, "grads")

    def drop(self, *acts: Act) -> None:
        """Release one reference to each act's storage."""
        self.tape.drop(*(act.storage for act in acts))

    def keep(self, act: Act) -> Act:
        """A second reference to the same tensor."""
        self.tape.keep(act.storage)
        return act

    def view(self, act: Act, elements: int | None = None) -> Act:
        """A view of `act` (same storage, one more reference); gradients pass through."""
        self.tape.keep(act.storage)
        return Act(act.storage, act.elements if elements is None else elements, act.edge)

    def image(self, elements: int) -> Act:
        """The input batch: no gradient."""
        return Act(self.new(elements), elements, None)

    def _out(self, elements: int, saved: list[Storage], edges: list[Edge], backward) -> Act:
        storage = self.new(elements)
        if not self.train:
            return Act(storage, elements, None)
        return Act(storage, elements, (self.tape.node(saved, edges, backward), 0))

    # --- ops ---

    def conv(self, x: Act, out: int, weight: int, bias: int = 0, relaid: bool = False) -> Act:
        """convolution: saves its input; backward makes the input's, weight's, bias's gradients.
        `relaid`: the input is channels-last in memory, so the weight's gradient is too, and
        AccumulateGrad copies it into the weight's own layout (the first gradient then freed)."""
        grad_input = x.edge is not None
        edges: list[Edge] = [x.edge]
        if relaid and self.train:
            edges.append((self.tape.accumulator(lambda tape, grads: self.grads(weight)), 0))

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            made = self.new(x.elements) if grad_input else None
            if relaid:
                first = self.new(weight)
                self.grads(bias)
                return [made, first]
            self.grads(weight, bias)
            return [made]

        return self._out(out, [x.storage], edges, backward)

    def batch_norm(self, x: Act, channels: int) -> Act:
        """batch norm: training saves input, mean and inverse std (float32 per channel)."""
        return self._norm(x, channels, channels)

    def layer_norm(self, x: Act, channels: int) -> Act:
        """layer norm over the last `channels`: training saves input, mean and inverse std
        (float32 per row)."""
        return self._norm(x, channels, x.elements // channels)

    def _norm(self, x: Act, channels: int, statistics: int) -> Act:
        """A norm with a weight and bias of `channels` and two float32 statistics of
        `statistics` elements saved with its input; backward makes the input's, weight's and
        bias's gradients."""
        if not self.train:
            return Act(self.new(x.elements), x.elements, None)
        y = self.new(x.elements)
        stats = [self.tape.alloc(statistics * FLOAT32) for _ in range(2)]

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            made = self.new(x.elements)
            self.grads(channels, channels)
            return [made]

        node = self.tape.node([x.storage, *stats], [x.edge], backward)
        self.tape.drop(*stats)
        return Act(y, x.elements, (node, 0))

    def _pointwise_grad(self, x: Act, saved: Storage) -> Edge:
        """The node of an elementwise op whose backward makes one tensor of x's size."""

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [self.new(x.elements)]

        return (self.tape.node([saved], [x.edge], backward), 0)

    def relu_(self, x: Act) -> Act:
        """In-place ReLU: saves its result (the same storage)."""
        if self.train:
            x.edge = self._pointwise_grad(x, x.storage)
        return x

    def silu_(self, x: Act) -> Act:
        """In-place SiLU: training first clones the input, which backward needs."""
        if self.train:
            copy = self.new(x.elements)
            x.edge = self._pointwise_grad(x, copy)
            self.tape.drop(copy)
        return x

    def unary(self, x: Act, saves_result: bool) -> Act:
        """An elementwise op (SiLU, GELU: saves its input; sigmoid: its result)."""
        y = self.new(x.elements)
        if self.train:
            edge = self._pointwise_grad(x, y if saves_result else x.storage)
            return Act(y, x.elements, edge)
        return Act(y, x.elements, None)

    def add(self, a: Act, b: Act) -> Act:
        """a + b, same shapes: backward passes the gradient to both."""

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [tape.keep(grads[0]), tape.keep(grads[0])]

        return self._out(a.elements, [], [a.edge, b.edge], backward)

    def mul_broadcast(self, x: Act, gate: Act) -> Act:
        """x * gate, gate broadcast over x: saves both; backward makes grad * gate, then
        grad * x reduced to the gate's shape."""

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            for_x = self.new(x.elements)
            full = self.new(x.elements)
            for_gate = self.new(gate.elements)
            tape.drop(full)
            return [for_x, for_gate]

        return self._out(x.elements, [x.storage, gate.storage], [x.edge, gate.edge], backward)

    def max_pool(self, x: Act, out: int) -> Act:
        """max pooling: training also makes int64 indices, saved with the input."""
        if not self.train:
            return Act(self.new(out), out, None)
        y = self.new(out)
        indices = self.tape.alloc(out * INDEX)

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [self.new(x.elements)]

        node = self.tape.node([x.storage, indices], [x.edge], backward)
        self.tape.drop(indices)
        return Act(y, out, (node, 0))

    def mean(self, x: Act, out: int) -> Act:
        """Global average: backward expands and divides the gradient (one full tensor)."""

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [self.new(x.elements)]

        return self._out(out, [], [x.edge], backward)

    def linear(self, x: Act, rows: int, c_in: int, c_out: int) -> Act:
        """addmm with bias: saves the input; backward makes grad·W, gradᵀ·x and the bias sum."""

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            made = self.new(x.elements) if x.edge is not None else None
            self.grads(c_out * c_in, c_out)
            return [made]

        return self._out(rows * c_out, [x.storage], [x.edge], backward)

    def loss(self, logits: Act) -> None:
        """`.float().sum().backward()`: the float32 copy (if any), the sum, its gradient of
        ones, then the backward pass."""
        y = logits
        if self.itemsize != FLOAT32 and self.train:

            def to_low(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
                return [self.new(logits.elements)]

            y = Act(self.tape.alloc(logits.elements * FLOAT32), logits.elements, None)
            y.edge = (self.tape.node([], [logits.edge], to_low), 0)
            self.drop(logits)
        elif self.itemsize != FLOAT32:
            y = Act(self.tape.alloc(logits.elements * FLOAT32), logits.elements, None)
            self.drop(logits)
        total = self.tape.alloc(FLOAT32)

        def passed(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [tape.keep(grads[0])]

        root = self.tape.node([], [y.edge], passed)
        self.drop(y)
        ones = self.tape.alloc(FLOAT32)
        self.tape.backward(root, ones)
        self.tape.drop(ones, total)

    # --- the transformer ops ---

    def scale(self, x: Act) -> Act:
        """x times a Python number: nothing saved; backward multiplies the gradient."""

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [self.new(x.elements)]

        return self._out(x.elements, [], [x.edge], backward)

    def reshape(self, x: Act, copies: bool) -> Act:
        """reshape: a view, or a contiguous copy where the strides allow no view (its backward
        passes the gradient through)."""
        if not copies:
            return self.view(x)
        return Act(self.new(x.elements), x.elements, x.edge)

    def regrad(self, x: Act, copies: bool) -> Act:
        """A view whose backward reshapes the gradient back, copying it when `copies`."""
        if not (self.train and copies):
            return self.view(x)

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [self.new(x.elements)]

        node = self.tape.node([], [x.edge], backward)
        self.tape.keep(x.storage)
        return Act(x.storage, x.elements, (node, 0))

    def bmm(self, a: Act, b: Act, out: int) -> Act:
        """Batched product: saves both; backward makes mat2's gradient, then mat1's."""

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            for_b = self.new(b.elements)
            return [self.new(a.elements), for_b]

        return self._out(out, [a.storage, b.storage], [a.edge, b.edge], backward)

    def softmax(self, x: Act) -> Act:
        """softmax: saves its result."""
        return self.unary(x, saves_result=True)

    def unbind(self, x: Act, parts: int) -> list[Act]:
        """Views of x's parts along a dim; backward stacks their gradients (one new tensor)."""
        each = x.elements // parts
        if not self.train:
            return [self.view(x, each) for _ in range(parts)]

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [self.new(x.elements)]

        node = self.tape.node([], [x.edge], backward, parts)
        views = []
        for index in range(parts):
            self.tape.keep(x.storage)
            views.append(Act(x.storage, each, (node, index)))
        return views

    def cat_token(self, token: int, x: Act, out: int, n: int) -> Act:
        """torch.cat([class_token.expand(n, -1, -1), x], dim=1): backward slices the gradient
        (views); the token's expand sums it over the batch, or at batch 1 keeps the slice
        itself as the token's .grad (and so the whole gradient)."""
        if not self.train:
            return Act(self.new(out), out, None)

        def expand_backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            if n == 1:
                tape.retag(tape.keep(grads[0]), "grads")
            else:
                self.grads(token)
            return []

        expand = self.tape.node([], [], expand_backward)

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [tape.keep(grads[0]), tape.keep(grads[0])]

        return self._out(out, [], [(expand, 0), x.edge], backward)

    def add_param(self, x: Act, param: int) -> Act:
        """x + a parameter broadcast over the batch: the parameter's gradient is the batch sum
        (at batch 1 a copy, the gradient being shared)."""

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            self.grads(param)
            return [tape.keep(grads[0])]

        return self._out(x.elements, [], [x.edge], backward)

    def mul_param(self, x: Act, param: int) -> Act:
        """x * a parameter broadcast over x: saves x; backward makes grad * param, then
        grad * x summed to the parameter's shape."""

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            for_x = self.new(x.elements)
            full = self.new(x.elements)
            self.grads(param)
            tape.drop(full)
            return [for_x]

        return self._out(x.elements, [x.storage], [x.edge], backward)

    def select(self, x: Act, out: int) -> Act:
        """x[:, 0]: a view; backward writes the gradient into zeros of x's shape."""
        if not self.train:
            return self.view(x, out)

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [self.new(x.elements)]

        node = self.tape.node([], [x.edge], backward)
        self.tape.keep(x.storage)
        return Act(x.storage, out, (node, 0))
