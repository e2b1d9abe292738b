"""Notebook 10's checks: the exercise contract (tests/exercise_contract.py) with 10's mistakes."""

import torch

from exercise_contract import *  # noqa: F403 - the contract's tests, collected here for notebook 10
from exercise_contract import Unseen
from helpers.checks import check
from helpers.checks.core import PASSED

NOTEBOOK = "10"


# 10.1 seed_gradient: out = mean(3 (x + 2)^2) and x.grad

def integer_leaf(values):
    x = torch.tensor(values, requires_grad=True)
    out = (3 * (x + 2) ** 2).mean()
    out.backward()
    return out.item(), x.grad


def with_sum(values):
    x = torch.tensor(values, dtype=torch.float32, requires_grad=True)
    out = (3 * (x + 2) ** 2).sum()
    out.backward()
    return out.item(), x.grad


def out_as_tensor(values):
    x = torch.tensor(values, dtype=torch.float32, requires_grad=True)
    out = (3 * (x + 2) ** 2).mean()
    out.backward()
    return out, x.grad


def returns_x(values):
    x = torch.tensor(values, dtype=torch.float32, requires_grad=True)
    out = (3 * (x + 2) ** 2).mean()
    out.backward()
    return out.item(), x.detach()


def two_backward_passes(values):
    x = torch.tensor(values, dtype=torch.float32, requires_grad=True)
    for _ in range(2):
        out = (3 * (x + 2) ** 2).mean()
        out.backward()
    return out.item(), x.grad


def float64_leaf(values):
    x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    out = (3 * (x + 2) ** 2).mean()
    out.backward()
    return out.item(), x.grad


def not_the_leaf(values):
    x = torch.tensor(values, dtype=torch.float64, requires_grad=True).float()
    out = (3 * (x + 2) ** 2).mean()
    out.backward()
    return out.item(), x.grad


def swapped(values):
    out, grad = out_as_tensor(values)
    return grad, out.item()


# 10.2 descend: gradient descent on (w - 3)^2

def descent(start, lr, steps, *, zero=True, record=lambda w: w.item(), in_place_outside=False, sign=1.0, first=True,
            rebuilt=None):
    w = torch.tensor(float(start), requires_grad=True)
    path = [record(w)] if first else []
    for _ in range(steps):
        ((w - 3) ** 2).backward()
        if in_place_outside:
            w -= lr * w.grad
        elif rebuilt == "outside":
            w = w - lr * w.grad  # a new tensor, no longer the leaf: its .grad stays None
        elif rebuilt == "inside":
            with torch.no_grad():
                w = w - lr * w.grad  # a new tensor that does not require grad
        else:
            with torch.no_grad():
                w -= sign * lr * w.grad
        if zero and w.grad is not None:
            w.grad.zero_()
        path.append(record(w))
    return torch.stack(path) if isinstance(path[0], torch.Tensor) else torch.tensor(path)


MISTAKES = [
    ("10.1", integer_leaf, "only floating-point tensors can require gradients"),
    ("10.1", with_sum, "take the mean, not the sum"),
    ("10.1", out_as_tensor, ".item() converts a one-element tensor"),
    ("10.1", returns_x, "you returned x itself"),
    ("10.1", two_backward_passes, "gradients accumulate in .grad"),
    ("10.1", float64_leaf, "expected torch.float32"),
    ("10.1", not_the_leaf, "x.grad is None"),
    ("10.1", swapped, "the wrong way round"),
    ("10.1", lambda values: seed_gradient_reference(values)[1], "return a pair"),
    ("10.2", lambda s, lr, n: descent(s, lr, n, zero=False), "gradients accumulate"),
    ("10.2", lambda s, lr, n: descent(s, lr, n, record=lambda w: w), "every entry equals the last w"),
    ("10.2", lambda s, lr, n: descent(s, lr, n, record=lambda w: w.detach()), "every entry equals the last w"),
    ("10.2", lambda s, lr, n: descent(s, lr, n, in_place_outside=True), "update parameters inside `with torch.no_grad():`"),
    ("10.2", lambda s, lr, n: descent(s, lr, n, record=lambda w: float(w.numpy())), "call .detach() first"),
    ("10.2", lambda s, lr, n: descent(s, lr, n, sign=-1.0), "step against the gradient"),
    ("10.2", lambda s, lr, n: descent(s, lr, n, rebuilt="outside"), "a .grad was None there"),
    ("10.2", lambda s, lr, n: descent(s, lr, n, rebuilt="inside"), "the loss depends on no tensor that requires grad"),
    ("10.2", lambda s, lr, n: descent(s, lr, n, first=False), "it should have steps + 1"),
    ("10.3", lambda v, g: 3 * torch.tensor(v) ** 2, "the gradient of the plain sum of y"),
    ("10.3", lambda v, g: 3 * torch.tensor(v) ** 2 / len(v), "the gradient of the mean of y"),
    ("10.3", lambda v, g: weighted_without_weights(v), "grad can be implicitly created only for scalar outputs"),
]


def seed_gradient_reference(values):
    from helpers.checks.nb10 import seed_gradient
    return seed_gradient(values)


def weighted_without_weights(values):
    x = torch.tensor(values, requires_grad=True)
    (x ** 3).backward()
    return x.grad


def test_the_seeds_example_gives_27_and_4_5():
    from helpers.checks.nb10 import seed_gradient
    out, grad = seed_gradient([[1, 1], [1, 1]])
    assert out == 27.0 and torch.equal(grad, torch.full((2, 2), 4.5))


def test_torch_autograd_grad_passes_10_3():
    def with_autograd_grad(values, weights):
        x = torch.tensor(values, requires_grad=True)
        return torch.autograd.grad(x ** 3, x, torch.tensor(weights))[0]
    assert check("10.3", with_autograd_grad).status == PASSED


# The rules 10's statements set beyond the value asked for.
RULES = [
    ("10.1", "a float32 tensor that requires grad", integer_leaf, "only floating-point tensors can require gradients"),
    ("10.2", "the update inside torch.no_grad()", lambda s, lr, n: descent(s, lr, n, in_place_outside=True), "inside `with torch.no_grad():`"),
    ("10.2", ".grad reset after each update", lambda s, lr, n: descent(s, lr, n, zero=False), "gradients accumulate"),
    ("10.2", "each recorded value a copy", lambda s, lr, n: descent(s, lr, n, record=lambda w: w), "every entry equals the last w"),
    ("10.2", "the gradient from backward(), not a formula", Unseen("a formula gives the same path: the method leaves no trace in the result"), ""),
    ("10.3", "by calling backward() on the vector y", Unseen("torch.autograd.grad or a formula gives the same gradient: the method leaves no trace"), ""),
]
