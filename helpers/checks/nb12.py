"""Exercises of notebook 12 (linear regression the PyTorch way, on real data)."""

from __future__ import annotations

import functools
import math
import random

import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

from helpers.checks import judges
from helpers.checks.core import Exercise, shown, torch_generator, with_article
from helpers.checks.hints import Hint, mistake, mistake_of
from helpers.checks.judges import (
    BROADCAST_TRAP,
    device_mismatch,
    dtype_mismatch,
    known_number,
    not_a_float,
    not_a_tensor,
    not_a_tuple,
    shape_mismatch,
    tensor_like,
    values_mismatch,
)
from helpers.checks.rules import all_finite

# Results of float32 training and data pipelines: agreement to about four digits (nb13 judges with it too).
close = functools.partial(judges.close, atol=1e-4, rtol=1e-4)


# 12.1 batch_gradients(x, y, w, b, batch_size): the gradient of each mini-batch's loss -------------

def batch_gradients(x: torch.Tensor, y: torch.Tensor, w: float, b: float, batch_size: int) -> torch.Tensor:
    linear = nn.Linear(1, 1)
    nn.init.constant_(linear.weight, w)
    nn.init.constant_(linear.bias, b)
    grads = []
    for x_batch, y_batch in DataLoader(TensorDataset(x, y), batch_size=batch_size):
        linear.zero_grad()
        F.mse_loss(linear(x_batch), y_batch).backward()
        grads.append(torch.cat([linear.weight.grad.flatten(), linear.bias.grad]))
    return torch.stack(grads)


def judge_batch_gradients(got, case, expected):
    x, y, w, b, batch_size = case
    n = x.shape[0]
    miss = not_a_tensor(got) or device_mismatch(got, expected)
    if miss:
        return miss
    if got.dim() == 2 and got.shape[1] == 2 and got.shape[0] == expected.shape[0] - 1 and n % batch_size:
        return (mistake("12.1/returned-rows-batches-last-batch",
                        f"you returned {shown(got.shape[0])} rows for {shown(expected.shape[0])} batches: the last batch holds the "
                        f"{shown(n % batch_size)} rows "
                        "left over, and a DataLoader keeps it (unless it is told to drop it)."))
    miss = shape_mismatch(got, expected) or dtype_mismatch(got, expected)
    if miss:
        return miss
    have, want = got.detach().to(torch.float64), expected.to(torch.float64)
    if not all_finite(have):
        return mistake("12.1/gradients-hold-inf-nan-compute", "your gradients hold inf or nan: compute them at the given (w, b) without updating anything.")
    if close(have, want):
        return None
    if close(have, want.cumsum(0)):
        return (mistake("12.1/row-k-sum-gradients-batches",
                        "row k is the sum of the gradients of batches 0 to k: .grad accumulates across backward() calls, so each batch must start "
                        "from zeroed gradients (zero_grad before its backward())."))
    sizes = torch.tensor([min(batch_size, n - start) for start in range(0, n, batch_size)], dtype=torch.float64)
    if close(have, want * sizes[:, None]):
        return (mistake("12.1/each-row-batchs-size-times",
                        "each row is its batch's size times too large: the loss must be the batch's mean squared error, not its sum."))
    if close(have[:-1], want[:-1]) and close(have[-1:], want[-1:] * sizes[-1] / batch_size):
        return (mistake("12.1/all-rows-right-except-last",
                        f"all rows are right except the last: that batch holds only {shown(int(sizes[-1]))} rows, so divide "
                        "by the batch's "
                        f"own size (take a mean), not by batch_size = {shown(batch_size)}."))
    scale = float((have * want).sum() / (want * want).sum())
    if close(have, want * scale):
        if abs(scale - 0.5) < 1e-3:
            return mistake("12.1/every-gradient-exactly-half-right",
                           "every gradient is exactly half the right one: the derivative of a square, (pred - y)², brings a factor 2.")
        return mistake("12.1/every-gradient-times-right-compute",
                       f"every gradient is {shown(scale, '.4g')} times the right one: compute each batch's mean "
                       "squared error and let backward() differentiate it.")
    if close((have * sizes[:, None]).sum(0), (want * sizes[:, None]).sum(0)):
        return (mistake("12.1/batches-average-out-right-full",
                        "your batches average out to the right full-data gradient, but each row differs: the batches hold other rows than the "
                        "data's own order. Do not shuffle here: batch k is rows k·batch_size onwards."))
    if close(have[:1], want[:1]):
        return (mistake("12.1/first-batchs-gradient-right-later",
                        "the first batch's gradient is right and later ones are not: every row must be the gradient at the same (w, b) (nothing is "
                        "updated between batches), each from zeroed gradients."))
    return values_mismatch(got, expected, atol=1e-4, rtol=1e-4)


def batch_gradients_public():
    x = torch.linspace(-2, 2, 10).reshape(-1, 1)
    g = torch.Generator().manual_seed(12)
    x2 = torch.randn(50, 1, generator=g)
    y2 = -2 * x2 + 1 + 0.3 * torch.randn(50, 1, generator=g)
    return [(x, 3 * x + 0.8, 0.5, -1.0, 4), (x2, y2, 0.0, 0.0, 16)]


def batch_gradients_hidden(rng: random.Random):
    """3 data sets of 40 to 90 rows in 4 or more batches, the last one smaller; (w, b) away from the fit."""
    cases = []
    for _ in range(3):
        g = torch_generator(rng)
        batch_size = rng.randint(6, 15)
        n = batch_size * rng.randint(4, 6) + rng.randint(1, batch_size - 1)
        x = rng.uniform(0.5, 2) * torch.randn(n, 1, generator=g) + rng.uniform(-1, 1)
        y = rng.choice([-1, 1]) * rng.uniform(1, 4) * x + rng.uniform(-3, 3) + 0.5 * torch.randn(n, 1, generator=g)
        cases.append((x, y, round(rng.uniform(-2, 2), 2), round(rng.uniform(-2, 2), 2), batch_size))
    return cases


# 12.2 r_squared(y, pred): the coefficient of determination, as a Python float ---------------------

def r_squared(y: torch.Tensor, pred: torch.Tensor) -> float:
    y, pred = y.reshape(-1), pred.reshape(-1)
    ss_res = ((y - pred) ** 2).sum()
    ss_tot = ((y - y.mean()) ** 2).sum()
    return (1 - ss_res / ss_tot).item()


def r_squared_mistakes(y: torch.Tensor, pred: torch.Tensor, expected: float) -> list[tuple[float, str]]:
    """The values the known wrong formulas give on this case, each with its hint, in float64."""
    ys, ps = tuple(y.shape), tuple(pred.shape)
    y, pred = y.detach().to(torch.float64).flatten(), pred.detach().to(torch.float64).flatten()
    n = y.numel()
    spread = float(n * y.var(unbiased=False))  # the targets' squared differences from their mean, summed
    unexplained = (1 - expected) * spread
    every_pair = float(n * (y**2).sum() - 2 * y.sum() * pred.sum() + n * (pred**2).sum())  # (N, N) residuals, squared and summed
    pairs = (mistake("12.2/y-shape-pred-shape-y",
                     f"with y of shape {shown(ys)} and pred of shape {shown(ps)}, y - pred broadcasts to {shown(with_article(f'({n}, {n})'))} "
                     f"matrix: every target is compared with every prediction. Flatten both to shape ({shown(n)},) first.{BROADCAST_TRAP}"))
    mistakes = [
        (1 - expected, mistake("12.2/returned-ss-res-ss-tot",
                               "you returned SS_res / SS_tot, the share of the targets' variation that the predictions leave unexplained; R² is one "
                               "minus that share.")),
        (1 - unexplained / float((y**2).sum()), mistake("12.2/ss-tot-must-measure-how",
                                                        "SS_tot must measure how the targets spread around their mean: square the differences "
                                                        "between y and y's mean, not y itself.")),
        (1 - unexplained / float(n * pred.var(unbiased=False)), mistake("12.2/ss-tot-spread-targets-y",
                                                                        "SS_tot is the spread of the targets y around their mean, not the spread of "
                                                                        "the predictions.")),
        (1 - (unexplained / n) / float(y.var()), mistake("12.2/divided-mean-squared-residuals-n",
                                                         "you divided a mean of squared residuals (÷ N) by torch's var, which divides by N - 1: use "
                                                         "sums for both, or the same divisor for both.")),
        (float(torch.corrcoef(torch.stack([y, pred]))[0, 1] ** 2), mistake("12.2/returned-squared-correlation-y-pred",
                                                                           "you returned the squared correlation of y and pred; it equals R² only "
                                                                           "for a least-squares fit with an intercept. For other predictions R² = 1 "
                                                                           "− SS_res / SS_tot measures how far they fall from y.")),
    ]
    if ys != ps and len(ys) + len(ps) == 3:
        mistakes[:0] = [(1 - every_pair / spread, pairs), (1 - every_pair / (n * spread), pairs)]
    return mistakes


def judge_r_squared(got, case, expected):
    y, pred = case
    if isinstance(got, torch.Tensor) and got.numel() > 1:
        return (mistake("12.2/returned-tensor-shape-r-number",
                        f"you returned a tensor of shape {shown(tuple(got.shape))}; R² is one number for the whole data "
                        "set. "
                        f"Are y and pred the same shape? {BROADCAST_TRAP.strip()}"))
    miss = not_a_float(got, "your result")
    if miss:
        return miss
    if not math.isfinite(got):
        return mistake("12.2/returned-r-finite-whenever-targets", f"you returned {shown(got)}: R² is finite whenever the targets are not all equal.")
    if abs(got - expected) <= 2e-5:
        return None
    return (known_number(got, expected, r_squared_mistakes(y, pred, expected), atol=2e-5)
            or mistake("12.2/returned-expected-r-1-ss",
                       f"you returned {shown(got, '.6g')}, expected {shown(expected, '.6g')}. R² = 1 − SS_res / SS_tot: SS_res "
                       "sums the squared residuals y − pred, SS_tot the squared differences between y and its mean."))


def r_squared_public():
    y = torch.tensor([1.0, 2.0, 4.0, 5.0, 8.0])
    pred = torch.tensor([[1.5], [2.5], [3.0], [5.5], [7.0]])
    g = torch.Generator().manual_seed(12)
    y2 = 20 + 5 * torch.randn(40, 1, generator=g)
    pred2 = 0.8 * y2 + 5 + 2 * torch.randn(40, 1, generator=g)
    y3 = 3 * torch.randn(30, generator=g) - 10
    pred3 = 1.2 * y3 + 1 + torch.randn(30, generator=g)
    return [(y, pred), (y2, pred2), (y3, pred3)]


def r_squared_hidden(rng: random.Random):
    """4 cases of 25 to 60 values, targets far from 0, predictions not a least-squares fit, R² in [0.55, 0.93],
    and y and pred of different shapes, (N,) against (N, 1), so that every known mistake gives another number."""
    cases = []
    while len(cases) < 4:
        g = torch_generator(rng)
        n = rng.randint(25, 60)
        y = rng.uniform(10, 50) * rng.choice([-1, 1]) + rng.uniform(2, 8) * torch.randn(n, generator=g)
        pred = rng.choice([0.75, 0.85, 1.15, 1.25]) * y + rng.uniform(-3, 3) + rng.uniform(0.5, 3) * torch.randn(n, generator=g)
        pred = pred - (pred.mean() - y.mean()) * rng.uniform(0.5, 1.5)
        y, pred = (y, pred[:, None]) if rng.random() < 0.5 else (y[:, None], pred)
        expected = r_squared(y, pred)
        values = [expected] + [value for value, _ in r_squared_mistakes(y, pred, expected)]
        if 0.55 <= expected <= 0.93 and min(abs(a - b) for i, a in enumerate(values) for b in values[i + 1:]) > 1e-3:
            cases.append((y, pred))
    return cases


# 12.3 standardize(train, test): each column scaled with the training data's mean and std ---------

def standardize(train: torch.Tensor, test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean = train.mean(dim=0)
    std = train.std(dim=0)
    return (train - mean) / std, (test - mean) / std


def judge_standardize(got, case, expected):
    train, test = case
    miss = not_a_tuple(got, 2, "the pair (train_z, test_z)")
    if miss:
        return miss
    for name, have, want in zip(("train_z", "test_z"), got, expected, strict=True):
        miss = tensor_like(have, want) or dtype_mismatch(have, want)
        if miss:
            return Hint(f"{name}: {miss}", mistake_of(miss))
    have_train, have_test = (t.detach().to(torch.float64) for t in got)
    if not all_finite((have_train, have_test)):
        return mistake("12.3/result-holds-inf-nan-divide", "your result holds inf or nan: divide by each column's standard deviation (none of these is 0).")
    data = train.to(torch.float64)
    n = data.shape[0]
    if not close(have_train, expected[0]):
        means, stds = have_train.mean(0), have_train.std(0)
        if close(have_train.mean(1), 0.0, atol=1e-3):
            return (mistake("12.3/train-z-each-row-now",
                            "train_z: each row now has mean 0: you took the statistics along dim=1, across the features of one example. Each "
                            "feature (a column) gets its own mean and std, computed down the rows."))
        if close(torch.cat([have_train, have_test.to(torch.float64)]).mean(0), 0.0, atol=1e-3):
            return (mistake("12.3/computed-mean-std-over-training",
                            "you computed the mean and std over the training and test rows together: the test data must not shape the statistics. "
                            "Compute them on train only, then apply them to both."))
        if close(have_train.mean(), 0.0, atol=1e-3) and close(have_train.std(), 1.0, atol=1e-3):
            return (mistake("12.3/train-z-used-mean-std",
                            "train_z: you used one mean and one std for the whole table, mixing features measured in different units. Compute them "
                            "per column (along dim=0)."))
        if close(means, 0.0, atol=1e-3) and close(stds, math.sqrt(n / (n - 1)), atol=1e-4, rtol=1e-5):
            return (mistake("12.3/train-z-columns-std-sqrt",
                            "train_z: your columns' std is sqrt(N / (N - 1)), not 1: you divided by the population standard deviation (÷ N). Use "
                            "torch's default .std, which divides by N - 1."))
        if close(means, 0.0, atol=1e-3) and close(stds * data.std(0), 1.0, atol=1e-3):
            return mistake("12.3/train-z-divided-variance-divide", "train_z: you divided by the variance; divide by the standard deviation, its square root.")
        if close(stds, 1.0, atol=1e-3):
            return mistake("12.3/train-z-columns-have-std", "train_z: the columns have std 1 but not mean 0: subtract each column's training mean too.")
        return mistake("12.3/train-z-differs", f"train_z: {values_mismatch(got[0], expected[0], atol=1e-4, rtol=1e-4)}")
    if not close(have_test, expected[1]):
        if close(have_test.mean(0), 0.0, atol=1e-3) and close(have_test.std(0), 1.0, atol=1e-3):
            return (mistake("12.3/test-z-has-mean-0",
                            "test_z has mean 0 and std 1 in every column: you standardised the test data with its own statistics. Use the training "
                            "mean and std for the test data too, so both go through the same transformation."))
        return mistake("12.3/test-z-transform-training-mean",
                       f"test_z: {values_mismatch(got[1], expected[1], atol=1e-4, rtol=1e-4)} Transform it with the "
                       "training mean and std.")
    return None


def standardize_public():
    train = torch.tensor([[1.0, 100.0], [2.0, 300.0], [3.0, 200.0], [4.0, 400.0]])
    test = torch.tensor([[5.0, 0.0], [2.5, 250.0], [6.0, 600.0]])
    g = torch.Generator().manual_seed(12)
    train2 = torch.randn(30, 3, generator=g) * torch.tensor([2.0, 50.0, 0.1]) + torch.tensor([10.0, 1000.0, -1.0])
    test2 = torch.randn(12, 3, generator=g) * torch.tensor([3.0, 40.0, 0.2]) + torch.tensor([12.0, 900.0, -0.8])
    return [(train, test), (train2, test2)]


def standardize_hidden(rng: random.Random):
    """3 tables of 2 or 3 features on very different scales, 20 to 60 training rows, and test rows drawn
    from shifted, rescaled distributions, so own statistics, a wrong axis or a wrong std each show."""
    cases = []
    for _ in range(3):
        g = torch_generator(rng)
        features = rng.randint(2, 3)
        means = torch.tensor([rng.choice([1, -1]) * rng.uniform(1, 10) * 10 ** rng.randint(0, 3) for _ in range(features)])
        stds = torch.tensor([rng.uniform(1, 5) * 10 ** rng.randint(-1, 2) for _ in range(features)])
        shift = torch.tensor([rng.choice([1, -1]) * rng.uniform(0.5, 1.5) for _ in range(features)])
        scale = torch.tensor([rng.choice([0.6, 1.5]) for _ in range(features)])
        train = means + stds * torch.randn(rng.randint(20, 60), features, generator=g)
        test = means + shift * stds + scale * stds * torch.randn(rng.randint(10, 30), features, generator=g)
        cases.append((train, test))
    return cases


# 12.4 fit_sgd(x, y, lr, steps): nn.Linear trained by optim.SGD on float64 data ------------------

def fit_sgd(x: torch.Tensor, y: torch.Tensor, lr: float, steps: int) -> tuple[torch.Tensor, float]:
    features = x.float()
    targets = y.float().reshape(-1, 1)
    net = nn.Linear(features.shape[1], 1)
    nn.init.zeros_(net.weight)
    nn.init.zeros_(net.bias)
    sgd = optim.SGD(net.parameters(), lr=lr)
    for _ in range(steps):
        sgd.zero_grad()
        F.mse_loss(net(features), targets).backward()
        sgd.step()
    return net.weight.detach().reshape(-1), net.bias.item()


def mean_squared_error(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: float) -> float:
    return float(((x.to(torch.float64) @ w.to(torch.float64) + b - y.to(torch.float64).flatten()) ** 2).mean())


def judge_fit_sgd(got, case, expected):
    x, y, lr, steps = case
    want_w, want_b = expected
    miss = not_a_tuple(got, 2, "the pair (w, b)")
    if miss:
        return miss
    w, b = got
    miss = tensor_like(w, want_w)
    if miss:
        return Hint(f"w: {miss}", mistake_of(miss))
    if w.dtype == torch.float64:
        return (mistake("12.4/w-float64-data-arrive-float64",
                        "w is float64: the data arrive as float64 (numpy reads a CSV that way) and your model computed in float64 too. The course's "
                        "models are float32: convert the data to float32 and keep nn.Linear's float32 weights."))
    miss = dtype_mismatch(w, want_w)
    if miss:
        return Hint(f"w: {miss}", mistake_of(miss))
    miss = not_a_float(b, "b")
    if miss:
        return miss
    have = w.detach().to(torch.float64)
    if not all_finite((have, b)) or float(have.abs().max()) > 1e6 * (1 + float(want_w.abs().max())):
        return mistake("12.4/diverged-loss-is-sum",
                       "your weights are inf, nan or huge: the training diverged, while the mean squared error converges at "
                       f"lr = {shown(lr, 'g')} on this data (lr is below its largest stable learning rate, 2 / λ_max of the loss's Hessian). "
                       "Is your loss a sum instead of a mean? A sum multiplies "
                       f"the gradient, and so the step, by N = {shown(x.shape[0])}.")
    if close(have, want_w) and abs(b - want_b) <= 1e-4 * (1 + abs(want_b)):
        return None
    target_mean = float(y.to(torch.float64).mean())
    if float(have.norm()) < 0.1 * float(want_w.norm()) and abs(b - target_mean) < 0.1 * (1 + abs(target_mean)):
        return (mistake("12.4/fit-nearly-flat-w-0",
                        f"your fit is nearly flat (w ≈ 0, b ≈ {shown(target_mean, '.3g')}, the mean of y): the model's (N, 1) "
                        "predictions met y of shape (N,), so the loss compared every prediction with every target and is smallest for a constant. "
                        "Make the shapes match. nn.MSELoss and F.mse_loss warn about it (a UserWarning: \"Using a target size ... that is different "
                        "to the input size\") but still broadcast to (N, N); a loss written by hand broadcasts without a word."))
    yours, best = mean_squared_error(x, y, have, b), mean_squared_error(x, y, want_w, want_b)
    return (mistake("12.4/fit-w-b-has-mean",
                    f"your fit (w = {shown([round(v, 4) for v in have.tolist()])}, b = {shown(b, '.4f')}) has mean squared error "
                    f"{shown(yours, '.4g')} on the data, the expected one {shown(best, '.4g')}. If the gradients are not zeroed before each "
                    f"backward(), they accumulate "
                    "and the weights circle the minimum without settling; also start from w = 0, b = 0, with the lr and steps given."))


def fit_sgd_public():
    g = torch.Generator().manual_seed(12)
    x = 0.5 + 0.8 * torch.randn(30, 1, generator=g, dtype=torch.float64)
    y = 2.5 * x[:, 0] - 1 + 0.2 * torch.randn(30, generator=g, dtype=torch.float64)
    x2 = torch.randn(40, 2, generator=g, dtype=torch.float64) * torch.tensor([1.0, 0.7], dtype=torch.float64)
    y2 = x2 @ torch.tensor([1.5, -3.0], dtype=torch.float64) + 4 + 0.3 * torch.randn(40, generator=g, dtype=torch.float64)
    return [(x, y, 0.4, 60), (x2, y2, 0.3, 80)]


def fit_sgd_hidden(rng: random.Random):
    """3 float64 data sets of 20 to 60 rows, 1 or 2 features, clear slopes; lr about half the largest stable
    one and enough steps to converge, so a sum loss diverges, broadcasting flattens and unzeroed gradients wander."""
    cases = []
    while len(cases) < 3:
        g = torch_generator(rng)
        n, features = rng.randint(20, 60), rng.randint(1, 2)
        x = torch.randn(n, features, generator=g, dtype=torch.float64)
        x = x * torch.tensor([rng.uniform(0.5, 1.5) for _ in range(features)], dtype=torch.float64)
        x = x + torch.tensor([rng.uniform(-1, 1) for _ in range(features)], dtype=torch.float64)
        slopes = torch.tensor([rng.choice([1, -1]) * rng.uniform(1, 4) for _ in range(features)], dtype=torch.float64)
        y = x @ slopes + rng.uniform(-3, 3) + 0.3 * torch.randn(n, generator=g, dtype=torch.float64)
        design = torch.cat([x, torch.ones(n, 1, dtype=torch.float64)], dim=1)
        eigenvalues = torch.linalg.eigvalsh(2 * design.T @ design / n)
        lr = float(f"{rng.uniform(0.4, 0.6) * (2 / float(eigenvalues[-1])):.2g}")  # about half the largest stable one
        rate = float((1 - lr * eigenvalues).abs().max())
        steps = math.ceil(math.log(1e-7) / math.log(rate)) + 10
        if steps <= 150:
            cases.append((x, y, lr, steps))
    return cases


EXERCISES = [
    Exercise("12.1", "batch_gradients", 2, batch_gradients, batch_gradients_public, batch_gradients_hidden, judge_batch_gradients,
             "each batch's gradient comes from zeroed gradients at the same (w, b); weighted by batch size, they average to "
             "the full-data gradient, which is why mini-batch SGD heads downhill on average."),
    Exercise("12.2", "r_squared", 2, r_squared, r_squared_public, r_squared_hidden, judge_r_squared,
             "R² = 1 − SS_res / SS_tot, with both shapes flattened first, so no (N, 1) meets an (N,)."),
    Exercise("12.3", "standardize", 2, standardize, standardize_public, standardize_hidden, judge_standardize,
             "train.mean(dim=0) and train.std(dim=0) are the training statistics of each column, and the test data goes "
             "through the very same transformation."),
    Exercise("12.4", "fit_sgd", 3, fit_sgd, fit_sgd_public, fit_sgd_hidden, judge_fit_sgd,
             "float32 data, matching shapes, zeroed gradients and optim.SGD: the fit lands on the least-squares solution."),
]
