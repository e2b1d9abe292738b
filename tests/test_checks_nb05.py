"""Notebook 05's checks: the exercise contract (tests/exercise_contract.py) with 05's mistakes."""

import torch

from exercise_contract import *  # noqa: F403 - the contract's tests, collected here for notebook 05
from helpers.checks import check
from helpers.checks.core import FAILED, PASSED

NOTEBOOK = "05"


def x5_in(dtype, x, h):
    """The central difference of x^5 computed in `dtype`, returned as float64 (float32's rounding kept)."""
    t = torch.tensor(x, dtype=dtype)
    return (((t + h) ** 5 - (t - h) ** 5) / (2 * h)).double()


def gradient_in(dtype, w, h, nudge_all=False, forward=False):
    """Numeric gradient of (10 - sum i·w_i)², with the given mistakes."""
    w = torch.tensor(w, dtype=dtype)
    weights = torch.arange(1, len(w) + 1, dtype=dtype)

    def f(v):
        return (10 - (weights * v).sum()) ** 2

    grad = torch.zeros_like(w)
    for i in range(len(w)):
        step = torch.ones_like(w) * h if nudge_all else torch.zeros_like(w)
        step[i] = h
        grad[i] = (f(w + step) - f(w)) / h if forward else (f(w + step) - f(w - step)) / (2 * h)
    return grad


def path(w0, lr, steps, update):
    ws = [w0]
    for k in range(steps):
        ws.append(update(ws[-1], k))
    return ws


MISTAKES = [
    # 05.1 cross-entropy: the seed's Y_true * log(Y_pred), and the minus, sum or mean left out or misplaced
    ("05.1", lambda y, p: y * torch.log(p), "adds the terms up over the classes"),
    ("05.1", lambda y, p: y * torch.log(p), "needs a minus in front"),
    ("05.1", lambda y, p: (y * torch.log(p)).sum(dim=1).mean(), "without the minus"),
    ("05.1", lambda y, p: -(y * torch.log(p)).sum(dim=1), "one loss per example"),
    ("05.1", lambda y, p: -(y * torch.log(p)).sum(), "Average them"),
    ("05.1", lambda y, p: -(y * torch.log(p)).mean(), "averaged over the classes too"),
    ("05.1", lambda y, p: -(y * torch.log(p)).sum(dim=0), "you added up over the examples"),
    ("05.1", lambda y, p: -(y * torch.log10(p)).sum(dim=1).mean(), "natural log"),
    ("05.1", lambda y, p: -torch.log(p).sum(dim=1).mean(), "only the true class should count"),
    ("05.1", lambda y, p: -(y.double() * torch.log(p.double())).sum(dim=1).mean(), "expected torch.float32"),
    # 05.2 central difference of x^5: float32 with a tiny h, sign, the 2, precedence, forward, exact
    ("05.2", lambda x, h: x5_in(torch.float32, x, h).float(), "your result is float32"),
    ("05.2", lambda x, h: x5_in(torch.float32, x, h), "look computed in float32"),
    ("05.2", lambda x, h: -x5_in(torch.float64, x, h), "wrong sign"),
    ("05.2", lambda x, h: 2 * x5_in(torch.float64, x, h), "divide the difference by 2h"),
    ("05.2", lambda x, h: x5_in(torch.float64, x, h) * h * h, "parentheses"),
    ("05.2", lambda x, h: ((torch.tensor(x, dtype=torch.float64) + h) ** 5 - torch.tensor(x, dtype=torch.float64) ** 5) / h,
     "forward difference"),
    ("05.2", lambda x, h: 5 * torch.tensor(x, dtype=torch.float64) ** 4, "exact derivative"),
    ("05.2", lambda x, h: x5_in(torch.float64, x, h).tolist(), "wrap it with torch.tensor"),
    # 05.3 numeric gradient: all inputs nudged at once, float32, sign, forward difference
    ("05.3", lambda w, h: gradient_in(torch.float64, w, h, nudge_all=True), "nudged all the inputs at once"),
    ("05.3", lambda w, h: gradient_in(torch.float32, w, h), "your result is float32"),
    ("05.3", lambda w, h: gradient_in(torch.float32, w, h).double(), "look computed in float32"),
    ("05.3", lambda w, h: -gradient_in(torch.float64, w, h), "wrong sign"),
    ("05.3", lambda w, h: 2 * gradient_in(torch.float64, w, h), "divide the difference by 2h"),
    ("05.3", lambda w, h: gradient_in(torch.float64, w, h, forward=True), "forward difference"),
    ("05.3", lambda w, h: gradient_in(torch.float64, w, h).sum(), "the shape is ()"),
    # 05.4 gradient descent: the step's sign flipped, a stale gradient, no learning rate, the path cut short
    ("05.4", lambda w0, lr, n: path(w0, lr, n, lambda w, k: w + lr * 2 * (w - 3)), "moves away from the minimum"),
    ("05.4", lambda w0, lr, n: path(w0, lr, n, lambda w, k: w - lr * 2 * (w0 - 3)), "the gradient at the starting point"),
    ("05.4", lambda w0, lr, n: path(w0, lr, n, lambda w, k: w - 2 * (w - 3)), "leave out the learning rate"),
    ("05.4", lambda w0, lr, n: path(w0, lr, n, lambda w, k: w - lr * (w - 3)), "not w - 3"),
    ("05.4", lambda w0, lr, n: path(w0, lr, n, lambda w, k: w - lr * 2 * (w - 3))[1:], "skips the start"),
    ("05.4", lambda w0, lr, n: path(w0, lr, n, lambda w, k: w - lr * 2 * (w - 3))[-1], "return the whole path"),
    ("05.4", lambda w0, lr, n: torch.tensor(path(w0, lr, n, lambda w, k: w - lr * 2 * (w - 3))), ".tolist()"),
    ("05.4", lambda w0, lr, n: [torch.tensor(v) for v in path(w0, lr, n, lambda w, k: w - lr * 2 * (w - 3))], ".item()"),
]


def test_float32_with_the_seeds_tiny_step_is_off_by_percent_and_the_hint_says_so():
    result = check("05.2", lambda x, h: x5_in(torch.float32, x, h))
    assert result.status == FAILED and "e-02 (relative)" in result.message, result.message


def test_a_float32_computation_is_visibly_worse_than_float64_on_the_public_cases():
    x, h = [0.5, 1.0, 2.0, 3.0], 1e-6
    exact = 5 * torch.tensor(x, dtype=torch.float64) ** 4
    error = lambda dtype: float(((x5_in(dtype, x, h) - exact).abs() / exact).max())  # noqa: E731
    assert error(torch.float64) < 1e-9 < 1e-3 < error(torch.float32)


def test_a_descent_path_from_float32_tensors_passes():
    def with_tensors(w0, lr, steps):
        w = torch.tensor(w0)
        ws = [w.item()]
        for _ in range(steps):
            w = w - lr * 2 * (w - 3)
            ws.append(w.item())
        return ws

    assert check("05.4", with_tensors).status == PASSED


def test_central_difference_from_python_floats_passes():
    def with_floats(x, h):
        return torch.tensor([((v + h) ** 5 - (v - h) ** 5) / (2 * h) for v in x], dtype=torch.float64)

    assert check("05.2", with_floats).status == PASSED



# 05's statements set no rule beyond the value asked for (dtypes and shapes are the value: MISTAKES).
RULES = []
