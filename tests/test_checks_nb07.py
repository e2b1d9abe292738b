"""Notebook 07's checks: the exercise contract (tests/exercise_contract.py) with 07's mistakes."""

import math

import torch

from exercise_contract import *  # noqa: F403 - the contract's tests, collected here for notebook 07
from exercise_contract import Unseen
from helpers.checks import check
from helpers.checks.core import PASSED


def sig(z):
    return 1 / (1 + math.exp(-z))


def neuron(local):
    """sigmoid_neuron_grads with `local(w, x, b)` standing in for the sigmoid's local gradient."""
    return lambda w, x, b: [local(w, x, b) * x, local(w, x, b) * w, local(w, x, b)]


NOTEBOOK = "07"

MISTAKES = [
    ("07.1", lambda a, b, c: [3.0, 3.0 + c, 3.0 + b], "the chain rule multiplies them"),
    ("07.2", lambda x, y: [y + 2.0 * x, x], "dropping the minus of the subtraction"),
    ("07.3", lambda w, x, b: [sig(w * x + b) * (1 - sig(w * x + b)) + x, sig(w * x + b) * (1 - sig(w * x + b)) + w,
                              sig(w * x + b) * (1 - sig(w * x + b))], "the chain rule multiplies them"),
    ("07.1", lambda a, b, c: [3.0, 3.0 * b, 3.0 * c], "the other factor"),
    ("07.1", lambda a, b, c: [1.0, c, b], "whose local gradient is dJ/du = 3"),
    ("07.1", lambda a, b, c: [3.0, c, b], "whose local gradient is dJ/du = 3"),
    ("07.1", lambda a, b, c: [3.0, 3.0, 3.0], "its local gradient, the other factor"),
    ("07.1", lambda a, b, c: [-3.0, -3.0 * c, -3.0 * b], "the sign is flipped"),
    ("07.1", lambda a, b, c: (3.0, 3.0 * c), "you returned 2 values"),
    ("07.1", lambda a, b, c: torch.tensor([3.0, 3.0 * c, 3.0 * b]), "you returned a tensor"),
    ("07.1", lambda a, b, c: [torch.tensor(3.0), 3.0 * c, 3.0 * b], "dJ/da is a tensor"),
    ("07.2", lambda x, y: [y - x, x], "add that path's product too"),
    ("07.2", lambda x, y: [-x, x], "x is also a direct input of the product"),
    ("07.2", lambda x, y: [y, x], "a minus sign is missing on that edge"),
    ("07.2", lambda x, y: [y - 2 * x, -x], "dg/dy has the wrong sign"),
    ("07.2", lambda x, y: [2 * x - y, -x], "the sign is flipped"),
    ("07.3", neuron(lambda w, x, b: sig(w * x + b)), "not s itself but s(1 − s)"),
    ("07.3", neuron(lambda w, x, b: sig(sig(w * x + b)) * (1 - sig(sig(w * x + b)))), "evaluated at the node's output s"),
    ("07.3", neuron(lambda w, x, b: sig(x) * (1 - sig(x))), "σ' was evaluated at x"),
    ("07.3", neuron(lambda w, x, b: (w * x + b) * (1 - (w * x + b))), "needs its output s = σ(z)"),
    ("07.3", neuron(lambda w, x, b: 1.0), "multiply by its local gradient"),
    ("07.3", neuron(lambda w, x, b: -sig(w * x + b) * (1 - sig(w * x + b))), "the signs are flipped"),
    ("07.3", lambda w, x, b: [sig(w * x + b) * (1 - sig(w * x + b)) * w, sig(w * x + b) * (1 - sig(w * x + b)) * x,
                              sig(w * x + b) * (1 - sig(w * x + b))], "dL/dw and dL/dx are swapped"),
]


def test_autograd_in_float64_passes_every_exercise():
    """What the notebook says: autograd agrees with the hand derivations."""
    def by_autograd(build):
        def answer(*numbers):
            leaves = [torch.tensor(float(n), dtype=torch.float64, requires_grad=True) for n in numbers]
            build(*leaves).backward()
            return [leaf.grad.item() for leaf in leaves]
        return answer

    assert check("07.1", by_autograd(lambda a, b, c: 3 * (a + b * c))).status == PASSED
    assert check("07.2", by_autograd(lambda x, y: x * (y - x))).status == PASSED
    assert check("07.3", by_autograd(lambda w, x, b: torch.sigmoid(w * x + b))).status == PASSED


def test_float32_arithmetic_is_close_enough_to_pass():
    def in_float32(w, x, b):
        w, x, b = (torch.tensor(v, requires_grad=True) for v in (w, x, b))
        torch.sigmoid(w * x + b).backward()
        return [w.grad.item(), x.grad.item(), b.grad.item()]

    assert check("07.3", in_float32).status == PASSED


# The rules 07's statements set beyond the value asked for.
RULES = [
    ("07.1", "plain arithmetic, no autograd", Unseen("autograd gives the same Python floats: the method leaves no trace in the result"), ""),
]
