"""Notebook 11's checks: the exercise contract (tests/exercise_contract.py) with 11's mistakes."""

import torch

from exercise_contract import *  # noqa: F403 - the contract's tests, collected here for notebook 11
from helpers.checks import check
from helpers.checks.core import PASSED

NOTEBOOK = "11"


# 11.2 train: a loop with switches for each mistake

def loop(x, y, lr, steps, *, zero=True, log_after=False, total=False, as_tensors=False, as_list=False,
         extra_loss=False, in_place_outside=False, bias_grad=True, bias_used=True):
    w = torch.zeros((), requires_grad=True)
    b = torch.zeros((), requires_grad=bias_grad)
    losses = []
    for _ in range(steps):
        squares = (x * w + (b if bias_used else 0) - y) ** 2
        loss = squares.sum() if total else squares.mean()
        if not log_after:
            losses.append(loss.item())
        loss.backward()
        if in_place_outside:
            w -= lr * w.grad
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        if zero:
            w.grad.zero_()
            if b.grad is not None:
                b.grad.zero_()
        if log_after:
            with torch.no_grad():
                losses.append(((x * w + b - y) ** 2).mean().item())
    if extra_loss:
        with torch.no_grad():
            losses.append(((x * w + b - y) ** 2).mean().item())
    if as_tensors:
        return w.detach(), b.detach(), torch.tensor(losses)
    return w.item(), b.item(), losses if as_list else torch.tensor(losses)


def eigen(x):
    """The two eigenvalues of the loss's Hessian in (w, b), smallest first (the release ships no function for them)."""
    x = x.double().flatten()
    hessian = 2 * torch.tensor([[float((x * x).mean()), float(x.mean())], [float(x.mean()), 1.0]], dtype=torch.float64)
    return torch.linalg.eigvalsh(hessian).tolist()


MISTAKES = [
    ("11.1", lambda pred, y: ((pred - y) ** 2).mean(), "Line the shapes up first"),
    ("11.1", lambda pred, y: ((pred - y) ** 2).mean(), "broadcasting to (N, N), silently"),
    ("11.1", lambda pred, y: ((pred - y.float()) ** 2).mean(), "Line the shapes up first"),
    ("11.1", lambda pred, y: ((pred.flatten() - y) ** 2).mean(), "your loss is float64"),
    ("11.1", lambda pred, y: ((pred.flatten() - y.float()) ** 2).sum(), "times too large, the number of points"),
    ("11.1", lambda pred, y: ((pred.flatten() - y.float()) ** 2).mean().item(), "you returned a Python number"),
    ("11.2", lambda x, y, lr, n: loop(x, y, lr, n, zero=False), "gradients accumulate"),
    ("11.2", lambda x, y, lr, n: loop(x, y, lr, n, log_after=True), "you logged each loss after its update"),
    ("11.2", lambda x, y, lr, n: loop(x, y, lr, n, total=True), "a sum instead of a mean makes the gradient N"),
    ("11.2", lambda x, y, lr, n: loop(x, y, lr, n, total=True), "lr is below its largest stable learning rate"),
    ("11.2", lambda x, y, lr, n: loop(x, y, lr, n, as_tensors=True), ".item() converts a one-element tensor"),
    ("11.2", lambda x, y, lr, n: loop(x, y, lr, n, as_list=True), "losses is a Python list"),
    ("11.2", lambda x, y, lr, n: loop(x, y, lr, n, extra_loss=True), "log one per step"),
    ("11.2", lambda x, y, lr, n: loop(x, y, lr, n, in_place_outside=True), "update parameters inside `with torch.no_grad():`"),
    ("11.2", lambda x, y, lr, n: loop(x, y, lr, n, bias_grad=False), "a .grad was None there"),
    ("11.2", lambda x, y, lr, n: loop(x, y, lr, n, bias_used=False), "a .grad was None there"),
    ("11.3", lambda x: 2 / eigen(x)[0], "that is 2 / λ_min"),
    ("11.3", lambda x: 1 / eigen(x)[1], "that is half the limit"),
    ("11.3", lambda x: 4 / eigen(x)[1], "carries a factor 2"),
    ("11.3", lambda x: eigen(x)[1], "the largest eigenvalue itself"),
    ("11.3", lambda x: 1 / float((x * x).mean()), "only the w-w entry"),
    ("11.3", lambda x: torch.tensor(2 / eigen(x)[1]), ".item() converts"),
]


def test_setup_a_of_the_notebook_ends_within_0_004_of_the_line():
    from helpers.checks.nb11 import train
    torch.manual_seed(0)
    x = torch.randn(500)
    w, b, losses = train(x, 3 * x + 0.8, 0.1, 30)
    assert abs(w - 3) < 0.01 and abs(b - 0.8) < 0.01 and losses.shape == (30,)


def test_a_diverging_loop_is_told_the_learning_rate_is_stable_for_the_mean():
    from helpers.checks.nb11 import judge_train, train
    x = torch.rand(50, generator=torch.Generator().manual_seed(0))
    y = 3 * x + 0.8
    lr = 0.5 * 2 / eigen(x)[1]
    hint = judge_train(loop(x, y, lr, 60, total=True), (x, y, lr, 60), train(x, y, lr, 60))
    assert "a sum instead of a mean" in hint and "lr is below its largest stable learning rate" in hint


def test_torch_autograd_hessian_passes_11_3():
    def with_autograd(x):
        def loss(params):
            return ((x * params[0] + params[1]) ** 2).mean()
        hessian = torch.autograd.functional.hessian(loss, torch.zeros(2, dtype=torch.float64))
        return 2 / torch.linalg.eigvalsh(hessian).max().item()
    assert check("11.3", lambda x: with_autograd(x.double())).status == PASSED


def loss_of_detached(pred, y):
    return ((pred.detach().reshape(-1) - y.float()) ** 2).mean()


def loss_rebuilt_from_a_number(pred, y):
    return torch.tensor(((pred.reshape(-1) - y.float()) ** 2).mean().item())


# The rules 11's statements set beyond the value asked for: 11.1's loss lets backward() run into pred
# (Exercise.gradient_to).
RULES = [
    ("11.1", "backward() can run through it", loss_of_detached, "would not reach `pred`"),
    ("11.1", "backward() can run through it", loss_rebuilt_from_a_number, "would not reach `pred`"),
    ("11.2", "starting from w = b = 0, each loss before its update", lambda x, y, lr, n: loop(x, y, lr, n, log_after=True), "shifted by one step"),
    ("11.2", "the update inside torch.no_grad()", lambda x, y, lr, n: loop(x, y, lr, n, in_place_outside=True), "inside `with torch.no_grad():`"),
]
