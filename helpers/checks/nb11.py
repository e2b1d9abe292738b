"""Exercises of notebook 11 (linear regression from scratch)."""

from __future__ import annotations

import math
import random

import torch

from helpers.checks.core import Exercise, shown, with_article
from helpers.checks.hints import Hint, mistake, mistake_of
from helpers.checks.judges import BROADCAST_TRAP, float_mismatch, multiple_of, not_a_float, not_a_tensor, not_a_tuple, tensor_like, tensor_mismatch


def column_and_vector(rng: random.Random, n: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Predictions as an (n, 1) float32 column that requires grad, as a model's output does, and targets
    as an (n,) vector of `dtype`, near each other."""
    targets = [round(rng.uniform(-3, 3), 3) for _ in range(n)]
    predictions = [[round(t + rng.gauss(0, 0.7), 3)] for t in targets]
    return torch.tensor(predictions, dtype=torch.float32, requires_grad=True), torch.tensor(targets, dtype=dtype)


# 11.1 mse_loss(pred, y): mean squared error of an (N, 1) column against an (N,) float64 vector --

def mse_loss(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    residual = pred.reshape(-1) - y.reshape(-1).to(pred.dtype)
    return (residual**2).mean()


def judge_mse_loss(got, case, expected):
    pred, y = case
    if type(got) in (int, float):
        return (mistake("11.1/returned-python-number-return-loss",
                        "you returned a Python number; return the loss as a 0-dim tensor, so that backward() can run through it (.item() is for "
                        "printing and logging)."))
    miss = tensor_like(got, expected)
    if miss:
        return miss
    value = got.detach().double()
    broadcast = ((pred.double() - y.double()) ** 2).mean()
    if torch.isclose(value, broadcast, rtol=1e-4):
        return (mistake("11.1/pred-has-shape-y-their", f"pred has shape {shown(tuple(pred.shape))} and y {shown(tuple(y.shape))}: their difference is "
                                                       f"{shown(with_article(f'{pred.shape[0]} × {y.shape[0]}'))} table of every prediction against every "
                                                       "target, and its mean is not the loss. "
                                                       "Line the shapes up first (flatten the column, or give y the column's shape)." + BROADCAST_TRAP))
    k = multiple_of(got, expected)
    n = y.numel()
    if k is not None and abs(k - n) < 1e-2 * n:
        return mistake("11.1/loss-times-too-large-number",
                       f"your loss is {shown(n)} times too large, the number of points: the mean squared error averages "
                       "the squares; a sum adds them.")
    if got.dtype == torch.float64 and expected.dtype == torch.float32:
        return (mistake("11.1/loss-float64-y-arrived-float64",
                        "your loss is float64: y arrived as float64 (NumPy's default, as data read from a file usually is), and float32 meeting "
                        "float64 is computed in float64. Convert y to the predictions' dtype, float32, first."))
    return tensor_mismatch(got, expected, atol=1e-6, rtol=1e-4)


def mse_loss_public():
    rng = random.Random(11)
    return [(torch.tensor([[2.5], [0.0], [2.1], [7.8], [-1.0]], requires_grad=True), torch.tensor([3.0, -0.5, 2.0, 7.0, -1.5], dtype=torch.float64)),
            column_and_vector(rng, 8, torch.float32)]


def mse_loss_hidden(rng: random.Random):
    """(N, 1) float32 predictions requiring grad against (N,) float64 targets, N from 20 to 120."""
    return [column_and_vector(rng, rng.randint(20, 120), torch.float64) for _ in range(3)]


# 11.2 train(x, y, lr, steps): full-batch gradient descent from w = b = 0 ----------------------

def train(x: torch.Tensor, y: torch.Tensor, lr: float, steps: int) -> tuple:
    w = torch.zeros((), requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    history = []
    for _ in range(steps):
        loss = ((x * w + b - y) ** 2).mean()
        history.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return w.item(), b.item(), torch.tensor(history)


def training_without_zeroing(x: torch.Tensor, y: torch.Tensor, lr: float, steps: int) -> tuple[float, float]:
    """Where the loop ends when .grad is never reset: each update uses the sum of all gradients so far."""
    x, y = x.double(), y.double()
    w = b = grad_w = grad_b = 0.0
    for _ in range(steps):
        residual = x * w + b - y
        grad_w += float(2 * (residual * x).mean())
        grad_b += float(2 * residual.mean())
        w, b = w - lr * grad_w, b - lr * grad_b
    return w, b


def judge_train(got, case, expected):
    x, y, lr, steps = case
    want_w, want_b, want_losses = expected
    miss = not_a_tuple(got, 3, "a triple: (w, b, losses), w and b as Python floats and the losses as a tensor")
    if miss:
        return miss
    w, b, losses = got
    if isinstance(losses, list):
        return mistake("11.2/losses-python-list-return-tensor",
                       "losses is a Python list; return it as a tensor (torch.tensor turns a list of floats into one).")
    miss = not_a_tensor(losses)
    if miss:
        return Hint(f"losses: {miss}", mistake_of(miss))
    for name, value in (("w", w), ("b", b)):
        miss = not_a_float(value, name)
        if miss:
            return miss
    if losses.dim() == 1 and losses.numel() == steps + 1:
        return mistake("11.2/logged-losses-steps-log-per",
                       f"you logged {shown(steps + 1)} losses for {shown(steps)} steps: log one per step, computed before "
                       "that step's update.")
    miss = tensor_like(losses, want_losses)
    if miss:
        return Hint(f"losses: {miss}", mistake_of(miss))
    have = losses.detach().double()
    finite = bool(torch.isfinite(have).all()) and math.isfinite(w) and math.isfinite(b)
    converges = bool(torch.isfinite(want_losses).all()) and float(want_losses[-1]) < float(want_losses[0])
    if converges and (not finite or float(have.max()) > 1e3 * float(have[0])):
        return mistake("11.2/diverged-loss-is-sum",
                       "your training diverged: the loss grows instead of shrinking, while the mean squared error converges at "
                       f"lr = {shown(lr, 'g')} on this data (lr is below its largest stable learning rate, 2 / λ_max of the loss's Hessian). "
                       "So your steps are larger than lr times the gradient of the mean squared error: "
                       f"a sum instead of a mean makes the gradient N = {shown(x.numel())} times larger.")
    if steps >= 3 and torch.allclose(have[:-1], want_losses[1:].double(), rtol=1e-3, atol=1e-6):
        return (mistake("11.2/losses-shifted-step-logged-each",
                        "your losses are shifted by one step: you logged each loss after its update. Log the loss computed before the update, at "
                        "the parameters that produced it, so losses[0] is the loss at the start."))
    no_zero = training_without_zeroing(x, y, lr, steps)
    if math.isclose(w, no_zero[0], rel_tol=1e-3, abs_tol=1e-4) and math.isclose(b, no_zero[1], rel_tol=1e-3, abs_tol=1e-4):
        return (mistake("11.2/gradients-accumulate-without-reset-each",
                        "gradients accumulate: without a reset, each update uses the sum of every gradient so far, so w and b overshoot and "
                        "oscillate. Set both .grad to zero after each update."))
    return (float_mismatch(w, want_w, "w", rtol=1e-3, atol=1e-5) or float_mismatch(b, want_b, "b", rtol=1e-3, atol=1e-5)
            or tensor_mismatch(losses, want_losses, atol=1e-6, rtol=1e-3))


def line_data(rng: random.Random) -> tuple[torch.Tensor, torch.Tensor]:
    """N from 30 to 120 points of a line y = a x + c with a little noise, x spread around a mean away from 0."""
    n, centre, spread = rng.randint(30, 120), rng.uniform(-1, 1), rng.uniform(0.5, 2)
    slope, intercept = rng.choice([-1, 1]) * rng.uniform(1, 3), rng.uniform(-2, 2)
    xs = [round(rng.gauss(centre, spread), 3) for _ in range(n)]
    ys = [round(slope * v + intercept + rng.gauss(0, 0.1), 3) for v in xs]
    return torch.tensor(xs), torch.tensor(ys)


def train_public():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(100, generator=generator)
    x_unit = torch.rand(50, generator=generator)
    return [(x, 3 * x + 0.8, 0.1, 30), (x_unit, 3 * x_unit + 0.8, 0.5, 40)]


def train_hidden(rng: random.Random):
    """Noisy lines, 20 to 50 steps, lr from 0.25 to 0.5 of the largest stable one."""
    cases = []
    for _ in range(3):
        x, y = line_data(rng)
        largest = largest_stable_lr(x)  # the reference of 11.3, which the release strips with this generator
        cases.append((x, y, round(rng.uniform(0.25, 0.5) * largest, 4), rng.randint(20, 50)))
    return cases


# 11.3 largest_stable_lr(x): 2 / the largest eigenvalue of the loss's Hessian ---------------

def largest_stable_lr(x: torch.Tensor) -> float:
    x = x.double().flatten()
    hessian = 2 * torch.stack([torch.stack([(x * x).mean(), x.mean()]), torch.stack([x.mean(), torch.ones((), dtype=x.dtype)])])
    return 2 / torch.linalg.eigvalsh(hessian).max().item()


def judge_largest_stable_lr(got, case, expected):
    (x,) = case
    if not_a_float(got, "your result") or not math.isfinite(got):
        return float_mismatch(got, expected, "your result")
    square = float((x.double() ** 2).mean())
    large = 2 / expected  # the Hessian's eigenvalues, from the expected answer and its trace 2 (E[x^2] + 1)
    small = 2 * (square + 1) - large
    near = lambda value: math.isclose(got, value, rel_tol=1e-3)  # noqa: E731
    if near(expected):
        return None
    if near(2 / small):
        return (mistake("11.3/2-min-smallest-eigenvalue-sets",
                        "that is 2 / λ_min: the smallest eigenvalue sets how slowly the flattest direction converges, but stability is lost first "
                        "along the steepest direction, the largest eigenvalue."))
    if near(1 / large):
        return mistake("11.3/half-limit-gradient-descent-stable",
                       "that is half the limit: gradient descent is stable while |1 - lr λ| < 1, that is for lr up to 2 / λ.")
    if near(2 / (large / 2)):
        return mistake("11.3/twice-limit-hessian-mean-squares",
                       "that is twice the limit: the Hessian of a mean of squares carries a factor 2 (the derivative of r^2 is 2r).")
    if near(large) or near(large / 2):
        return mistake("11.3/returned-largest-eigenvalue-itself-learning",
                       "you returned the largest eigenvalue itself; the learning rate limit is 2 divided by it.")
    if near(1 / square) or near(2 / square):
        return (mistake("11.3/used-only-w-w-entry",
                        "you used only the w-w entry of the Hessian; w and b move together (the off-diagonal entry 2 E[x] couples them): take the "
                        "largest eigenvalue of the 2 × 2 matrix."))
    return float_mismatch(got, expected, "your result")


def largest_stable_lr_public():
    generator = torch.Generator().manual_seed(0)
    return [(torch.randn(500, generator=generator),), (torch.rand(50, generator=generator),),
            (torch.tensor([1.0, 2.0, 3.0, 4.0]),)]


def largest_stable_lr_hidden(rng: random.Random):
    """Means at least 0.5 away from 0 (so the off-diagonal entry matters), spreads from 0.3 to 2."""
    cases = []
    for _ in range(3):
        centre = rng.choice([-1, 1]) * rng.uniform(0.5, 2)
        spread = rng.uniform(0.3, 2)
        cases.append((torch.tensor([round(rng.gauss(centre, spread), 3) for _ in range(rng.randint(30, 200))]),))
    return cases


EXERCISES = [
    Exercise("11.1", "mse_loss", 2, mse_loss, mse_loss_public, mse_loss_hidden, judge_mse_loss,
             "shapes lined up and one dtype: the mean of the squared residuals, a float32 tensor you can call backward() on.",
             gradient_to=(0,)),
    Exercise("11.2", "train", 3, train, train_public, train_hidden, judge_train,
             "the loss logged before each update, updates under torch.no_grad(), gradients reset every step: "
             "full-batch gradient descent."),
    Exercise("11.3", "largest_stable_lr", 2, largest_stable_lr, largest_stable_lr_public, largest_stable_lr_hidden,
             judge_largest_stable_lr,
             "2 / λ_max: above it the steepest direction's error grows by |1 - lr λ_max| > 1 each step."),
]
