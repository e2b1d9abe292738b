"""Notebook 09's checks: the exercise contract (tests/exercise_contract.py) with 09's mistakes.

The wrong answers come from a small engine written here with each mistake built in, the way a
learner's `Value` would produce them, so the judges are tested against real slips, not formulas.
"""

import math

from exercise_contract import *  # noqa: F403 - the contract's tests, collected here for notebook 09
from helpers.checks import check
from helpers.checks.core import PASSED

NOTEBOOK = "09"


class V:
    """A minimal engine value; `slip` picks one mistake in the backward of *, ** or tanh."""

    slip = None

    def __init__(self, data, prev=()):
        self.data, self.grad, self._prev, self._backward = float(data), 0.0, tuple(prev), lambda: None

    def __add__(self, other):
        other = other if isinstance(other, V) else V(other)
        out = V(self.data + other.data, (self, other))

        def backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, V) else V(other)
        out = V(self.data * other.data, (self, other))

        def backward():
            if V.slip == "overwrite":
                self.grad = other.data * out.grad
                other.grad = self.data * out.grad
            elif V.slip == "own factor":
                self.grad += self.data * out.grad
                other.grad += other.data * out.grad
            elif V.slip == "no chain":
                self.grad += other.data
                other.grad += self.data
            elif V.slip != "nothing":
                self.grad += other.data * out.grad
                other.grad += self.data * out.grad
        out._backward = backward
        return out

    def __pow__(self, n):
        out = V(self.data ** n, (self,))

        def backward():
            local = {"exponent": n * self.data ** n, "no n": self.data ** (n - 1), "sign": -n * self.data ** (n - 1),
                     "nothing": 0.0}.get(V.slip, n * self.data ** (n - 1))
            self.grad += local * (1.0 if V.slip == "no chain" else out.grad)
        out._backward = backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = V(t, (self,))

        def backward():
            local = {"t": t, "1-t": 1 - t, "at x": 1 - self.data ** 2, "sigmoid's": t * (1 - t), "sign": -(1 - t ** 2),
                     "nothing": 0.0}.get(V.slip, 1 - t ** 2)
            if V.slip == "overwrite":
                self.grad = local * out.grad
            else:
                self.grad += local * (1.0 if V.slip == "no chain" else out.grad)
        out._backward = backward
        return out


def with_slip(slip, exercise):
    def attempt(*case):
        V.slip = slip
        try:
            return exercise(*case)
        finally:
            V.slip = None
    return attempt


def expression(a, b, c):
    """The notebook's grads_of_expression, on V."""
    a, b, c = V(a), V(b), V(c)
    e = a * b
    d = e + c
    L = d * a
    L.grad = 1.0
    for v in (L, d, e):
        v._backward()
    return [a.grad, b.grad, c.grad]


def expression_forward_order(a, b, c):
    """grads_of_expression with the backward rules run from the inputs forward."""
    a, b, c = V(a), V(b), V(c)
    e = a * b
    d = e + c
    L = d * a
    L.grad = 1.0
    for v in (e, d, L):
        v._backward()
    return [a.grad, b.grad, c.grad]


def tanh_without_the_earlier_gradient(x, upstream):
    v = V(x)
    t = v.tanh()
    t.grad = upstream
    t._backward()
    return [t.data, v.grad]


def powers(a, b):
    """The notebook's power_grads, on V."""
    a, b = V(a), V(b)
    cube = a ** 3
    cube.grad = 1.0
    cube._backward()
    inverse = b ** -1
    square = inverse ** 2
    square.grad = 1.0
    square._backward()
    inverse._backward()
    return [a.grad, b.grad]


def tanh_backward(x, upstream):
    """The notebook's backward_of_tanh, on V."""
    v = V(x)
    v.grad = 1.0
    t = v.tanh()
    t.grad = upstream
    t._backward()
    return [t.data, v.grad]


def order_by(visit_children_first=True, remember=True, recurse=True, reverse=False):
    """A topological sort of the spec's expression, with one mistake switched on."""
    def attempt(spec):
        inputs = {label: list(operands) for label, op, operands in spec}
        order, seen = [], set()

        def visit(label, depth=0):
            if remember and label in seen:
                return
            seen.add(label)
            if not visit_children_first:
                order.append(label)
            for child in inputs[label]:
                if recurse or depth == 0:
                    visit(child, depth + 1)
                elif child not in order:
                    order.append(child)
            if visit_children_first:
                order.append(label)

        visit(spec[-1][0])
        return order[::-1] if reverse else order
    return attempt


MISTAKES = [
    ("09.1", with_slip("overwrite", expression), "never assign"),
    ("09.1", with_slip("own factor", expression), "the *other* factor's data"),
    ("09.1", with_slip("no chain", expression), "multiplied by out.grad"),
    ("09.1", with_slip("nothing", expression), "every gradient is still 0"),
    ("09.1", expression_forward_order, "Run them from the output back"),
    ("09.1", lambda a, b, c: [-g for g in expression(a, b, c)], "the sign is flipped"),
    ("09.1", lambda a, b, c: tuple(expression(a, b, c))[:2], "you returned 2 values"),
    ("09.2", order_by(remember=False), "appears 2 times"),
    ("09.2", order_by(reverse=True), "that is the backward pass's order"),
    ("09.2", order_by(visit_children_first=False), "after visiting"),
    ("09.2", order_by(recurse=False), "recursively"),
    ("09.2", lambda spec: [], "the order is empty"),
    ("09.2", lambda spec: [row[0] for row in spec] + ["zz"], "is not a value of this expression"),
    ("09.2", lambda spec: [1, 2], "a list that holds more than labels"),
    ("09.3", with_slip("exponent", powers), "the exponent did not drop by one"),
    ("09.3", with_slip("no n", powers), "the factor n is missing"),
    ("09.3", with_slip("sign", powers), "the sign is flipped"),
    ("09.3", with_slip("no chain", powers), "the chain rule"),
    ("09.3", with_slip("nothing", powers), "every gradient is still 0"),
    ("09.4", with_slip("overwrite", tanh_backward), "A gradient must accumulate"),
    ("09.4", tanh_without_the_earlier_gradient, "it was never set"),
    ("09.4", with_slip("t", tanh_backward), "not t itself but 1 − t²"),
    ("09.4", with_slip("1-t", tanh_backward), "with t squared"),
    ("09.4", with_slip("at x", tanh_backward), "uses the node's input"),
    ("09.4", with_slip("sigmoid's", tanh_backward), "the sigmoid's local gradient"),
    ("09.4", with_slip("no chain", tanh_backward), "the chain rule"),
    ("09.4", with_slip("sign", tanh_backward), "the sign is flipped"),
    ("09.4", with_slip("nothing", tanh_backward), "adds nothing yet"),
    ("09.4", lambda x, upstream: [math.tanh(x) + 1, 0.5], "the forward value was changed"),
]


def test_a_correct_engine_passes_every_exercise():
    assert check("09.1", expression).status == PASSED
    assert check("09.2", order_by()).status == PASSED
    assert check("09.3", powers).status == PASSED
    assert check("09.4", tanh_backward).status == PASSED


def test_any_valid_topological_order_passes_not_only_the_references():
    """Kahn's algorithm (leaves first, breadth first) gives another valid order."""
    def kahn(spec):
        inputs = {label: list(operands) for label, op, operands in spec}
        reachable = set(order_by()(spec))
        done, order = set(), []
        while len(order) < len(reachable):
            ready = [label for label, _, _ in spec if label in reachable and label not in done
                     and all(child in done for child in inputs[label])]
            order.append(ready[0])
            done.add(ready[0])
        return order

    assert check("09.2", kahn).status == PASSED


def powers_inner_first(a, b):
    """power_grads with the inner power's backward rule run before the outer one has passed its gradient on."""
    a, b = V(a), V(b)
    cube = a ** 3
    cube.grad = 1.0
    cube._backward()
    inverse = b ** -1
    square = inverse ** 2
    square.grad = 1.0
    inverse._backward()
    square._backward()
    return [a.grad, b.grad]


# The rules 09's statements set beyond the value asked for.
RULES = [
    ("09.3", "the outer power's backward rule, then the inner one's", powers_inner_first, "d((b**-1)**2)/db"),
    ("09.1", "backward rules from the output back: L, then d, then e", expression_forward_order, "Run them from the output back"),
    ("09.1", "the check tests your * too", with_slip("own factor", expression), "the *other* factor's data"),
    ("09.4", "x's gradient already holds 1.0", tanh_without_the_earlier_gradient, "it was never set"),
]
