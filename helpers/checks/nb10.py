"""Exercises of notebook 10 (autograd in PyTorch)."""

from __future__ import annotations

import functools
import math
import random

import torch

from helpers.checks.core import Exercise, shown
from helpers.checks.hints import Hint, mistake, mistake_of
from helpers.checks.judges import close, float_mismatch, multiple_of, not_a_float, not_a_tensor, not_a_tuple, tensor_like, tensor_mismatch

# 10.1 seed_gradient(values): the seed's example, out = mean(3 (x + 2)^2), and x.grad ----------

def seed_gradient(values: list) -> tuple:
    x = torch.tensor(values, dtype=torch.float32, requires_grad=True)
    result = (3 * (x + 2) ** 2).mean()
    result.backward()
    return result.item(), x.grad


def judge_seed_gradient(got, case, expected):
    (values,) = case
    want_out, want_grad = expected
    shape = "a pair: (out as a Python float, x.grad)"
    if isinstance(got, torch.Tensor) and got.shape == want_grad.shape:
        return mistake("10.1/one-tensor-not-a-pair", f"you returned one tensor; return {shape}.")
    miss = not_a_tuple(got, 2, shape)
    if miss:
        return miss
    out, grad = got
    if isinstance(out, torch.Tensor) and out.shape == want_grad.shape and type(grad) is float:
        return mistake("10.1/pair-wrong-way-round-return", f"the pair is the wrong way round; return {shape}.")
    miss = not_a_float(out, "out")
    if miss:
        return miss
    if grad is None:
        return (mistake("10.1/x-grad-none-backward-fills",
                        "x.grad is None: backward() fills .grad only on the leaf you made with requires_grad=True — check that backward() ran and "
                        "that you read .grad of that tensor, not of a result computed from it."))
    miss = not_a_tensor(grad) or tensor_like(grad, want_grad)
    if miss:
        return Hint(f"x.grad: {miss}", mistake_of(miss))
    x = torch.tensor(values, dtype=torch.float64)
    n = x.numel()
    if close(grad, x, rtol=1e-5, atol=1e-8):
        return mistake("10.1/returned-x-itself-return-gradient", "you returned x itself; return its gradient, x.grad, which backward() filled in.")
    k = multiple_of(grad, want_grad)
    if (k is not None and abs(k - n) < 1e-3) or math.isclose(out, n * want_out, rel_tol=1e-4):
        return (mistake("10.1/result-times-expected-number-elements",
                        f"your result is {shown(n)} times the expected one, the number of elements: out is the "
                        "mean of the z_i, "
                        f"so each x_i enters it with weight 1/{shown(n)}; take the mean, not the sum."))
    if k is not None and abs(k - round(k)) < 1e-3 and round(k) >= 2:
        return mistake("10.1/gradient-exactly-times-expected-gradients",
                       f"your gradient is exactly {round(k)} times the expected one: gradients accumulate in "
                       ".grad, one backward() call per forward pass.")
    return float_mismatch(out, want_out, "out") or tensor_mismatch(grad, want_grad, atol=1e-4, rtol=1e-4)


def seed_gradient_public():
    return [([[1, 1], [1, 1]],), ([0.5, -1.0, 2.0],), ([[-3, 0, 4]],)]


def seed_gradient_hidden(rng: random.Random):
    """Whole numbers only (int64 if left alone), 3 to 12 of them, nested or flat, never all at -2."""
    cases = []
    for _ in range(4):
        rows, cols = rng.choice([(1, rng.randint(3, 6)), (2, rng.randint(2, 4)), (3, 3)])
        table = [[rng.choice([v for v in range(-6, 7) if v != -2]) for _ in range(cols)] for _ in range(rows)]
        cases.append((table if rows > 1 else table[0],))
    return cases


# 10.2 descend(start, lr, steps): gradient descent on f(w) = (w - 3)^2 with autograd ---------

def descend(start: float, lr: float, steps: int) -> torch.Tensor:
    weight = torch.tensor(float(start), requires_grad=True)
    visited = [weight.item()]
    for _ in range(steps):
        f = (weight - 3) ** 2
        f.backward()
        with torch.no_grad():  # the update must not be recorded
            weight -= lr * weight.grad
        weight.grad.zero_()
        visited.append(weight.item())
    return torch.tensor(visited)


def descent_without_zeroing(start: float, lr: float, steps: int, sign: float = 1.0, zero: bool = False) -> torch.Tensor:
    """The path a mistaken loop takes (gradients summed over steps unless `zero`, or `sign` = -1 for ascent)."""
    w, grad, path = float(start), 0.0, [float(start)]
    for _ in range(steps):
        grad = (grad if not zero else 0.0) + 2 * (w - 3)
        w -= sign * lr * grad
        path.append(w)
    return torch.tensor(path, dtype=torch.float64)


def judge_descend(got, case, expected):
    start, lr, steps = case
    if not_a_tensor(got) is None and got.dim() == 1 and got.numel() == steps:
        return (mistake("10.2/path-has-entries-should-have",
                        f"your path has {shown(steps)} entries; it should have steps + 1 = {shown(steps + 1)}: "
                        "the starting point, then w after each update."))
    miss = tensor_like(got, expected)
    if miss:
        return miss
    have = got.detach().double()
    if steps >= 2 and bool((have == have[-1]).all()) and not bool((expected == expected[-1]).all()):
        return (mistake("10.2/every-entry-equals-last-w",
                        "every entry equals the last w: you stored the tensor w itself (or a detach() of it, which shares its memory), so each "
                        "in-place update changed them all; record the value at that moment, as a number."))
    near = functools.partial(close, have, rtol=1e-4, atol=1e-4)  # float32 steps against a float64 path
    if near(descent_without_zeroing(start, lr, steps)):
        return (mistake("10.2/gradients-accumulate-after-k-backward",
                        "gradients accumulate: after k backward() calls w.grad holds the sum of all k gradients unless you reset it to zero after "
                        "each update."))
    if near(descent_without_zeroing(start, lr, steps, sign=-1.0, zero=True)):
        return mistake("10.2/w-moves-away-minimum-3", "w moves away from the minimum at 3: step against the gradient, subtracting lr times it.")
    return tensor_mismatch(got, expected, atol=1e-4, rtol=1e-4)


def descend_public():
    return [(0.0, 0.1, 20), (10.0, 0.3, 15)]


def descend_hidden(rng: random.Random):
    """Starts at least 3 away from the minimum, 8 to 25 steps, stable learning rates 0.05-0.35."""
    return [(round(rng.choice([rng.uniform(-6, 0), rng.uniform(6, 12)]), 2), round(rng.uniform(0.05, 0.35), 3),
             rng.randint(8, 25)) for _ in range(4)]


# 10.3 weighted_gradient(values, weights): backward(gradient=...) for a vector result ---------

def weighted_gradient(values: list, weights: list) -> torch.Tensor:
    x = torch.tensor(values, dtype=torch.float32, requires_grad=True)
    cubes = x ** 3
    cubes.backward(gradient=torch.tensor(weights, dtype=torch.float32))
    return x.grad


def judge_weighted_gradient(got, case, expected):
    values, weights = case
    miss = tensor_like(got, expected)
    if miss:
        return miss
    x = torch.tensor(values, dtype=torch.float64)
    plain = 3 * x**2
    if close(got, plain, rtol=1e-4, atol=1e-5):
        return (mistake("10.3/gradient-plain-sum-y-every",
                        "that is the gradient of the plain sum of y: every y_i weighted by 1. Weight each y_i by weights[i]: backward() of a vector "
                        "result takes those weights as its gradient argument."))
    if close(got, plain / x.numel(), rtol=1e-4, atol=1e-5):
        return mistake("10.3/gradient-mean-y-each-y", "that is the gradient of the mean of y; each y_i should be weighted by weights[i], not by 1/n.")
    return tensor_mismatch(got, expected, atol=1e-5, rtol=1e-4)


def weighted_gradient_public():
    return [([1.0, 2.0, 3.0], [1.0, 0.5, -1.0]), ([0.5, -2.0], [2.0, 0.0])]


def weighted_gradient_hidden(rng: random.Random):
    """4 to 8 values away from 0; weights away from 1 and 1/n, so neither sum nor mean can pass."""
    cases = []
    for _ in range(3):
        n = rng.randint(4, 8)
        values = [round(rng.choice([-1, 1]) * rng.uniform(0.5, 3), 2) for _ in range(n)]
        weights = [round(rng.choice([rng.uniform(-2, -0.5), rng.uniform(1.5, 3)]), 2) for _ in range(n)]
        cases.append((values, weights))
    return cases


EXERCISES = [
    Exercise("10.1", "seed_gradient", 2, seed_gradient, seed_gradient_public, seed_gradient_hidden, judge_seed_gradient,
             "a float32 leaf with requires_grad=True, one forward pass, one backward(): x.grad is 1.5 (x_i + 2) "
             "for four numbers, 6 (x_i + 2) / n in general."),
    Exercise("10.2", "descend", 2, descend, descend_public, descend_hidden, judge_descend,
             "backward(), an update inside torch.no_grad(), .grad reset to zero, and a plain number recorded per step: "
             "the training loop in miniature."),
    Exercise("10.3", "weighted_gradient", 1, weighted_gradient, weighted_gradient_public, weighted_gradient_hidden,
             judge_weighted_gradient,
             "y.backward(gradient=v) computes the gradient of sum(v_i * y_i): 3 x_i^2 v_i here."),
]
