"""The bytes each ATen op of the built models allocates, forward and backward, on a Tape.

One method per op the blocks of scalecalc/nn/blocks.py dispatch, written from what autograd
saves and what each backward formula allocates, in the order torch runs them, in the dtypes
autocast gives them under AMP (scalecalc.families.castops). Each method that returns a new Act
hands the caller one reference, which the caller drops when Python would drop the value.
"""

from __future__ import annotations

from scalecalc.families.castops import FLOAT32, Act, CastOps
from scalecalc.tape import Edge, Storage, Tape

INDEX = 8  # max pooling's int64 indices


class Ops(CastOps):
    """The ops of one step (scalecalc.families.castops for the dtypes)."""

    __slots__ = ()

    def conv(self, x: Act, out: int, weight: int, bias: int = 0, relaid: bool = False) -> Act:
        """convolution: saves its input and weight; backward makes the input's, weight's, bias's
        gradients. `relaid`: the input is channels-last in memory, so the weight's gradient is
        too, and AccumulateGrad copies it into the weight's own layout."""
        grad_input = x.edge is not None
        low = self.lowered(x)
        weights = self.weights(weight, bias, relaid=relaid and self.train)
        relaid = relaid and self.train and not self.low

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            made = self.new(x.elements, low.itemsize) if grad_input else None
            return [made, *self.weight_grads(weights, relaid)]

        saved = [low.storage, *weights.storages[:1]]
        edges = [low.edge, *self.weight_edges(weights, relaid)]
        y = self.out(out, low.itemsize, saved, edges, backward)
        self.drop(low)
        return y

    def batch_norm(self, x: Act, channels: int) -> Act:
        """batch norm: training saves input, mean and inverse std (float32 per channel)."""
        return self._norm(x, channels, channels)

    def layer_norm(self, x: Act, channels: int) -> Act:
        """layer norm over the last `channels` (float32 under AMP): training saves input, mean
        and inverse std (float32 per row)."""
        full = self.cast(x, FLOAT32) if self.low else self.keep(x)
        y = self._norm(full, channels, x.elements // channels)
        self.drop(full)
        return y

    def _norm(self, x: Act, channels: int, statistics: int) -> Act:
        """A norm with a weight and bias of `channels` and two float32 statistics of
        `statistics` elements saved with its input; backward makes the input's, weight's and
        bias's gradients."""
        if not self.train:
            return Act(self.new(x.elements, x.itemsize), x.elements, None, x.itemsize)
        y = self.new(x.elements, x.itemsize)
        stats = [self.tape.alloc(statistics * FLOAT32) for _ in range(2)]

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            made = self.new(x.elements, x.itemsize)
            self.grads(channels, channels)
            return [made]

        node = self.tape.node([x.storage, *stats], [x.edge], backward)
        self.tape.drop(*stats)
        return Act(y, x.elements, (node, 0), x.itemsize)

    def _pointwise_grad(self, x: Act, saved: Storage) -> Edge:
        """The node of an elementwise op whose backward makes one tensor of x's size."""

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [self.new(x.elements, x.itemsize)]

        return (self.tape.node([saved], [x.edge], backward), 0)

    def relu_(self, x: Act) -> Act:
        """In-place ReLU: saves its result (the same storage)."""
        if self.train:
            x.edge = self._pointwise_grad(x, x.storage)
        return x

    def silu_(self, x: Act) -> Act:
        """In-place SiLU: training first clones the input, which backward needs."""
        if self.train:
            copy = self.new(x.elements, x.itemsize)
            x.edge = self._pointwise_grad(x, copy)
            self.tape.drop(copy)
        return x

    def unary(self, x: Act, saves_result: bool) -> Act:
        """An elementwise op (SiLU, GELU: saves its input; sigmoid: its result)."""
        y = self.new(x.elements, x.itemsize)
        if self.train:
            edge = self._pointwise_grad(x, y if saves_result else x.storage)
            return Act(y, x.elements, edge, x.itemsize)
        return Act(y, x.elements, None, x.itemsize)

    def add(self, a: Act, b: Act) -> Act:
        """a + b, same shapes, in the wider dtype: backward passes the gradient to both (cast
        to an input's dtype where it differs)."""
        itemsize = max(a.itemsize, b.itemsize)

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [
                self.as_input(tape.keep(grads[0]), a.elements, itemsize, a),
                self.as_input(tape.keep(grads[0]), a.elements, itemsize, b),
            ]

        return self.out(a.elements, itemsize, [], [a.edge, b.edge], backward)

    def mul_broadcast(self, x: Act, gate: Act) -> Act:
        """x * gate, gate broadcast over x: saves both; backward makes grad * gate, then
        grad * x reduced to the gate's shape."""

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            for_x = self.new(x.elements, x.itemsize)
            full = self.new(x.elements, x.itemsize)
            for_gate = self.new(gate.elements, x.itemsize)
            tape.drop(full)
            return [for_x, for_gate]

        saved, edges = [x.storage, gate.storage], [x.edge, gate.edge]
        return self.out(x.elements, x.itemsize, saved, edges, backward)

    def max_pool(self, x: Act, out: int) -> Act:
        """max pooling: training also makes int64 indices, saved with the input."""
        if not self.train:
            return Act(self.new(out, x.itemsize), out, None, x.itemsize)
        y = self.new(out, x.itemsize)
        indices = self.tape.alloc(out * INDEX)

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [self.new(x.elements, x.itemsize)]

        node = self.tape.node([x.storage, indices], [x.edge], backward)
        self.tape.drop(indices)
        return Act(y, out, (node, 0), x.itemsize)

    def mean(self, x: Act, out: int) -> Act:
        """Global average: backward expands and divides the gradient (one full tensor)."""

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [self.new(x.elements, x.itemsize)]

        return self.out(out, x.itemsize, [], [x.edge], backward)

    def linear(self, x: Act, rows: int, c_in: int, c_out: int) -> Act:
        """addmm with bias: saves the input and weight; backward makes grad·W, gradᵀ·x and the
        bias sum."""
        low = self.lowered(x)
        weights = self.weights(c_out * c_in, c_out)

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            made = self.new(x.elements, low.itemsize) if low.edge is not None else None
            return [made, *self.weight_grads(weights)]

        saved = [low.storage, *weights.storages[:1]]
        edges = [low.edge, *self.weight_edges(weights)]
        y = self.out(rows * c_out, low.itemsize, saved, edges, backward)
        self.drop(low)
        return y

    def loss(self, logits: Act) -> None:
        """`.float().sum()` (the float32 copy, if any, and the sum), autocast's region exit,
        [times the gradient scaler's scale], then the backward pass from a gradient of ones;
        with the scaler, unscaling the gradients."""
        y = self.cast(logits, FLOAT32)
        self.drop(logits)
        total = self.tape.alloc(FLOAT32)

        def passed(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [tape.keep(grads[0])]

        root = self.tape.node([], [y.edge], passed)
        self.drop(y)
        self.end_region()
        scaled = None
        if self.scaler:
            scaled = self.tape.alloc(FLOAT32)

            def times_scale(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
                return [tape.alloc(FLOAT32)]

            root = self.tape.node([], [(root, 0)], times_scale)
        ones = self.tape.alloc(FLOAT32)
        self.tape.backward(root, ones)
        self.tape.drop(ones, scaled, total)
        if scaled is not None:
            self._unscale()

    def _unscale(self) -> None:
        """GradScaler.unscale_: the inverse scale (`scale.double().reciprocal().float()`) and
        the found-inf flag; the gradients are divided in place."""
        wide = self.tape.alloc(8)
        inverse = self.tape.alloc(8)
        self.tape.drop(wide)
        single = self.tape.alloc(FLOAT32)
        self.tape.drop(inverse)
        found_inf = self.tape.alloc(FLOAT32)
        self.tape.drop(single, found_inf)

    # --- the transformer ops ---

    def scale(self, x: Act) -> Act:
        """x times a Python number: nothing saved; backward multiplies the gradient."""

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [self.new(x.elements, x.itemsize)]

        return self.out(x.elements, x.itemsize, [], [x.edge], backward)

    def reshape(self, x: Act, copies: bool) -> Act:
        """reshape: a view, or a contiguous copy where the strides allow no view (its backward
        passes the gradient through)."""
        if not copies:
            return self.view(x)
        return Act(self.new(x.elements, x.itemsize), x.elements, x.edge, x.itemsize)

    def regrad(self, x: Act, copies: bool) -> Act:
        """A view whose backward reshapes the gradient back, copying it when `copies`."""
        if not (self.train and copies):
            return self.view(x)

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [self.new(x.elements, x.itemsize)]

        node = self.tape.node([], [x.edge], backward)
        self.tape.keep(x.storage)
        return Act(x.storage, x.elements, (node, 0), x.itemsize)

    def bmm(self, a: Act, b: Act, out: int) -> Act:
        """Batched product: saves both; backward makes mat2's gradient, then mat1's."""

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            for_b = self.new(b.elements, b.itemsize)
            return [self.new(a.elements, a.itemsize), for_b]

        return self.out(out, a.itemsize, [a.storage, b.storage], [a.edge, b.edge], backward)

    def softmax(self, x: Act) -> Act:
        """softmax (of a float32 copy under AMP): saves its result. Inference dispatches it
        whole, its copy unseen."""
        if self.low and not self.train:
            return Act(self.new(x.elements, FLOAT32), x.elements, None, FLOAT32)
        full = self.cast(x, FLOAT32) if self.low else self.keep(x)
        y = self.unary(full, saves_result=True)
        self.drop(full)
        return y

    def unbind(self, x: Act, parts: int) -> list[Act]:
        """Views of x's parts along a dim; backward stacks their gradients (one new tensor)."""
        each = x.elements // parts
        if not self.train:
            return [self.view(x, each) for _ in range(parts)]

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [self.new(x.elements, x.itemsize)]

        node = self.tape.node([], [x.edge], backward, parts)
        views = []
        for index in range(parts):
            self.tape.keep(x.storage)
            views.append(Act(x.storage, each, (node, index), x.itemsize))
        return views

    def cat_token(self, token: int, x: Act, out: int, n: int) -> Act:
        """torch.cat([class_token.expand(n, -1, -1), x], dim=1), in the wider dtype: backward
        slices the gradient (views, x's cast to its dtype under AMP); the token's expand sums it
        over the batch, or at batch 1 keeps the slice itself as the token's .grad (and so the
        whole gradient)."""
        itemsize = max(self.itemsize, x.itemsize)
        if not self.train:
            return Act(self.new(out, itemsize), out, None, itemsize)

        def expand_backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            if self.by_batch(n, lambda batch: batch == 1):
                tape.retag(tape.keep(grads[0]), "grads")
            else:
                self.grads(token)
            return []

        expand = self.tape.node([], [], expand_backward)

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            for_x = self.as_input(tape.keep(grads[0]), x.elements, itemsize, x)
            return [tape.keep(grads[0]), for_x]

        return self.out(out, itemsize, [], [(expand, 0), x.edge], backward)

    def add_param(self, x: Act, param: int) -> Act:
        """x + a parameter broadcast over the batch, in the wider dtype: the engine casts x's
        gradient, then sums the parameter's over the batch (at batch 1 a copy, the gradient
        being shared)."""
        itemsize = max(self.itemsize, x.itemsize)

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            for_x = self.as_input(tape.keep(grads[0]), x.elements, itemsize, x)
            self.grads(param)
            return [for_x]

        return self.out(x.elements, itemsize, [], [x.edge], backward)

    def mul_param(self, x: Act, param: int) -> Act:
        """x * a parameter broadcast over x, in the wider dtype: saves x; backward makes
        grad * param and grad * x, then the engine casts x's gradient and sums the parameter's
        to its shape."""
        itemsize = max(self.itemsize, x.itemsize)

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            for_x = self.new(x.elements, itemsize)
            full = self.new(x.elements, itemsize)
            for_x = self.as_input(for_x, x.elements, itemsize, x)
            self.grads(param)
            tape.drop(full)
            return [for_x]

        return self.out(x.elements, itemsize, [x.storage], [x.edge], backward)

    def select(self, x: Act, out: int) -> Act:
        """x[:, 0]: a view; backward writes the gradient into zeros of x's shape."""
        if not self.train:
            return self.view(x, out)

        def backward(tape: Tape, grads: list[Storage]) -> list[Storage | None]:
            return [self.new(x.elements, x.itemsize)]

        node = self.tape.node([], [x.edge], backward)
        self.tape.keep(x.storage)
        return Act(x.storage, out, (node, 0), x.itemsize)
