"""Exercises of notebook 03 (dtypes and operations)."""

from __future__ import annotations

import functools
import random

import torch

from helpers.checks import judges
from helpers.checks.core import Exercise, describe, shown, with_article
from helpers.checks.hints import mistake
from helpers.checks.judges import BROADCAST_TRAP, on_cpu, tensor_mismatch

# The same shape and (nearly) the same values, whatever the dtypes.
close = functools.partial(judges.close, rtol=1e-5, atol=1e-6)


def python_number_hint(got) -> str | None:
    if type(got) in (int, float):
        return mistake("03/returned-python-number-return-tensor",
                       f"you returned the Python number {shown(got)}; return a tensor (a 0-dim float32 tensor), as "
                       "torch's reductions do.")
    return None


# 03.1 mean_as_float(t): the mean of an integer tensor, as float32 ---------------------------

def mean_as_float(t: torch.Tensor) -> torch.Tensor:
    return t.float().mean()


def judge_mean(got, case, expected):
    (t,) = case
    miss = python_number_hint(got) or on_cpu(got, expected)
    if miss:
        return miss
    if got.numel() == 1 and got.shape != expected.shape:
        return mistake("03.1/shape-expected-mean-over-all",
                       f"the shape is {shown(tuple(got.shape))}, expected (): a mean over all elements is a 0-dim tensor "
                       "(no keepdim, no dim).")
    if got.shape == expected.shape and not got.dtype.is_floating_point:
        return (mistake("03.1/result-where-mean-dividing-integers",
                        f"the result is {got.dtype}: {shown(got.item())} where the mean is {shown(expected.item(), '.4f')}. Dividing integers with "
                        f"// (or a "
                        "rounding mode) drops the fraction and keeps the integer dtype; convert to float before you average."))
    if got.shape == expected.shape and got.dtype == expected.dtype and not close(got, expected):
        if close(got, expected.trunc()):
            return (mistake("03.1/fraction-gone-converting-integer-long",
                            "the fraction is gone: converting to an integer (.long(), .int() or int()) truncates, cutting the fraction off. Convert "
                            "the integers to float before you average, and keep the result float."))
        if close(got, expected.round()):
            return mistake("03.1/rounded-mean-whole-number-mean", "you rounded the mean to a whole number; the mean keeps its fraction.")
    if got.dtype == torch.float64:
        return (mistake("03.1/dtype-torch-float64-expected-torch",
                        "the dtype is torch.float64, expected torch.float32: .double() (and NumPy, whose default float is float64) gives float64; "
                        "float32 is what was asked."))
    return tensor_mismatch(got, expected)


def mean_public():
    return [(torch.tensor([1, 2, 4]),), (torch.tensor([[3, -4], [10, 2]]),), (torch.tensor([7, 7, 7, 8]),)]


def mean_hidden(rng: random.Random):
    """Integer vectors whose mean is not a whole number, so a floored or truncated mean shows."""
    cases = []
    while len(cases) < 4:
        values = [rng.randint(-50, 50) for _ in range(rng.randint(3, 12))]
        if sum(values) % len(values):
            cases.append((torch.tensor(values),))
    return cases


# 03.2 bin_index(values, width): which bin [k*width, (k+1)*width) each value falls in -----------

def bin_index(values: torch.Tensor, width: int) -> torch.Tensor:
    return torch.div(values, width, rounding_mode="floor")


def judge_bin_index(got, case, expected):
    values, width = case
    miss = on_cpu(got, expected)
    if miss:
        return miss
    if got.shape == expected.shape:
        exact = values / width
        if got.dtype.is_floating_point and close(got, exact):
            return mistake("03.2/these-exact-quotients-fractions-always",
                           "these are exact quotients with fractions: / always divides exactly and returns floats. A bin index is a whole number, "
                           "rounded down.")
        if close(got, exact.trunc()) and not close(got, expected):
            where = int((exact.trunc() != expected).nonzero()[0, 0])
            value = int(values.flatten()[where])
            return (mistake("03.2/landed-bin-but-lies-bin",
                            f"{shown(value)} landed in bin {shown(int(exact.trunc().flatten()[where]))}, but it lies in bin "
                            f"{shown(int(expected.flatten()[where]))}: "
                            "rounding toward zero (rounding_mode='trunc', or converting a float to an integer with .long() or .int()) is wrong for "
                            "negative values. Bins round down, toward minus infinity."))
        if close(got, exact.round()) and not close(got, expected):
            return (mistake("03.2/rounded-each-quotient-nearest-whole",
                            "you rounded each quotient to the nearest whole number; a value belongs to the bin it has reached, so the index rounds "
                            "down, toward minus infinity."))
        if close(got, expected + 1):
            return mistake("03.2/every-bin-index-too-large",
                           "every bin index is one too large: bins count from 0, so values from 0 up to (not including) width are in bin 0.")
        if close(got, values.remainder(width)):
            return mistake("03.2/remainder-values-position-inside-bin",
                           "that is the remainder, a value's position inside its bin; the exercise asks for the bin itself.")
    return tensor_mismatch(got, expected)


def bin_public():
    return [(torch.tensor([0, 3, 4, 9, 10, -1, -7, -8]), 4), (torch.tensor([25, -25, 99, -1]), 10)]


def bin_hidden(rng: random.Random):
    """Values of both signs, several negative non-multiples of width, so truncation shows in every case."""
    cases = []
    for _ in range(3):
        width = rng.randint(3, 9)
        negatives = [-(rng.randint(0, 20) * width + rng.randint(1, width - 1)) for _ in range(3)]
        values = negatives + [rng.randint(-60, 60) for _ in range(rng.randint(4, 12))]
        rng.shuffle(values)
        cases.append((torch.tensor(values), width))
    return cases


# 03.3 before_and_after(a, b): a's values before and after an in-place add_ -----------------

def before_and_after(a: torch.Tensor, b: torch.Tensor) -> tuple:
    before = a.clone()
    a.add_(b)
    return before, a


def judge_before_and_after(got, case, expected):
    if type(got) not in (tuple, list) or len(got) != 2:
        return mistake("03.3/not-a-pair", f"you returned {describe(got)}; return a pair of two tensors: (a before, a after).")
    hints = [on_cpu(part, want) for part, want in zip(got, expected, strict=True)]
    if any(hints):
        return next(h for h in hints if h)
    before, after = got
    want_before, want_after = expected
    if close(before, want_after) and close(after, want_after):
        return (mistake("03.3/both-tensors-hold-b-before",
                        "both tensors hold a + b: your 'before' is another name for the same tensor as a, not a copy, so add_ changed it too. Keep "
                        "a copy (clone) of a before you add."))
    if close(before, want_before) and close(after, want_before):
        return (mistake("03.3/did-change-add-b-without",
                        "a did not change: a.add(b) (without the underscore) returns a new tensor and leaves a as it was. Only the methods ending "
                        "in _ change the tensor they are called on."))
    return tensor_mismatch(before, want_before) or tensor_mismatch(after, want_after)


def before_after_public():
    return [(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([10.0, 10.0, 10.0])),
            (torch.ones(2, 3), torch.tensor([[0.5, -1.0, 2.0], [1.0, 1.0, 1.0]]))]


def before_after_hidden(rng: random.Random):
    """Float tensors and a b with no zero, so before and after differ everywhere."""
    cases = []
    for _ in range(3):
        shape = (rng.randint(2, 4), rng.randint(2, 5))
        a = torch.tensor([round(rng.uniform(-5, 5), 2) for _ in range(shape[0] * shape[1])]).view(shape)
        b = torch.tensor([round(rng.choice([-1, 1]) * rng.uniform(0.5, 5), 2) for _ in range(shape[0] * shape[1])]).view(shape)
        cases.append((a, b))
    return cases


# 03.4 mse(pred, y): mean squared error of a column of predictions against a vector of targets ---

def mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return ((pred.squeeze(1) - y) ** 2).mean()


def judge_mse(got, case, expected):
    pred, y = case
    miss = python_number_hint(got) or on_cpu(got, expected)
    if miss:
        return miss
    trap = pred - y  # what the (N, 1) - (N,) subtraction silently gives: an (N, N) table
    n = len(y)
    if got.shape == (n, n):
        return (mistake("03.4/result-has-shape-pred-y", f"your result has shape {shown((n, n))}: pred - y compared every prediction with every target."
                                                        " Make both (N,) before subtracting, then average." + BROADCAST_TRAP))
    if got.shape == expected.shape and got.dtype == expected.dtype:
        if close(got, (trap**2).mean()):
            return (mistake("03.4/value-mean-over-table-over", f"the value is the mean over {shown(with_article(f'({n}, {n})'))} table, not over {shown(n)} "
                                                               "errors: "
                                                               f"pred has shape {shown(tuple(pred.shape))}"
                                                               f" and y {shown(tuple(y.shape))}, so pred - y compared every prediction with every target. Make "
                                                               "both (N,) first." + BROADCAST_TRAP))
        errors = pred.squeeze(1) - y
        if close(got, (errors**2).sum()):
            return mistake("03.4/sum-squared-errors-mean-divides", "that is the sum of the squared errors; the mean divides it by the number of examples.")
        if close(got, errors.abs().mean()):
            return mistake("03.4/mean-absolute-error-square-each", "that is the mean absolute error; square each error instead of taking its size.")
        if close(got, errors.mean() ** 2):
            return mistake("03.4/squared-mean-error-square-each", "you squared the mean error; square each error first, then average the squares.")
    if got.shape != expected.shape and got.numel() == n:
        return mistake("03.4/shape-expected-these-look-like",
                       f"the shape is {shown(tuple(got.shape))}, expected (): these look like the {shown(n)} squared "
                       "errors themselves; average them into one number.")
    return tensor_mismatch(got, expected)


def mse_public():
    return [(torch.tensor([[1.0], [2.0], [4.0]]), torch.tensor([1.5, 2.0, 3.0])),
            (torch.tensor([[0.5], [-1.0], [2.0], [3.0]]), torch.tensor([1.0, -1.0, 0.0, 3.5]))]


def mse_hidden(rng: random.Random):
    """Columns of predictions against vectors of targets, 5 to 40 examples."""
    cases = []
    for _ in range(3):
        n = rng.randint(5, 40)
        pred = torch.tensor([[round(rng.uniform(-5, 5), 3)] for _ in range(n)])
        y = torch.tensor([round(rng.uniform(-5, 5), 3) for _ in range(n)])
        cases.append((pred, y))
    return cases


# 03.5 center_rows(x): subtract each row's mean from that row --------------------------------

def center_rows(x: torch.Tensor) -> torch.Tensor:
    return x - x.mean(dim=1, keepdim=True)


def judge_center_rows(got, case, expected):
    (x,) = case
    miss = on_cpu(got, expected)
    if miss:
        return miss
    if got.shape == expected.shape:
        if x.shape[0] == x.shape[1] and close(got, x - x.mean(dim=1)):
            return (mistake("03.5/row-mean-was-subtracted-column",
                            "row i's mean was subtracted from column i: x.mean(dim=1) has shape (N,), and broadcasting lines it up with the last "
                            "dimension, the columns. Keep the reduced dimension (keepdim=True) so the means stay a column (N, 1)."))
        if close(got, x - x.mean(dim=0)):
            return mistake("03.5/each-column-now-has-mean",
                           "each column now has mean 0, not each row: dim=0 averages down the columns. A row's mean averages across it.")
        if close(got, x - x.mean()):
            return mistake("03.5/subtracted-mean-whole-tensor-each", "you subtracted one mean, of the whole tensor; each row needs its own mean.")
    return tensor_mismatch(got, expected, atol=1e-5)


def center_public():
    return [(torch.tensor([[1.0, 2.0, 6.0], [0.0, -3.0, 3.0], [10.0, 20.0, 60.0]]),),
            (torch.tensor([[1.0, 3.0], [2.0, 2.0], [-4.0, 0.0], [5.0, 9.0]]),)]


def center_hidden(rng: random.Random):
    """Square and non-square matrices whose rows have different means."""
    cases = []
    for shape in [(n := rng.randint(3, 6), n), (rng.randint(2, 5), rng.randint(6, 8)), (m := rng.randint(3, 6), m)]:
        rows = [[round(rng.uniform(-5, 5) + 3 * i, 2) for _ in range(shape[1])] for i in range(shape[0])]
        cases.append((torch.tensor(rows),))
    return cases


EXERCISES = [
    Exercise("03.1", "mean_as_float", 1, mean_as_float, mean_public, mean_hidden, judge_mean,
             "convert to a float dtype first, because mean needs floats, then average; float32 is what .float() gives."),
    Exercise("03.2", "bin_index", 2, bin_index, bin_public, bin_hidden, judge_bin_index,
             "floor division (values // width, or torch.div(..., rounding_mode='floor')) rounds toward minus infinity, so -1 lands in bin -1, and the"
             " result stays int64."),
    Exercise("03.3", "before_and_after", 2, before_and_after, before_after_public, before_after_hidden, judge_before_and_after,
             "a.clone() keeps the old values in memory of their own, and a.add_(b) then changes a itself.", in_place=0),
    Exercise("03.4", "mse", 2, mse, mse_public, mse_hidden, judge_mse,
             "with pred made (N,) first (squeeze(1), view(-1) or pred[:, 0]) the subtraction pairs each prediction with its own target."),
    Exercise("03.5", "center_rows", 2, center_rows, center_public, center_hidden, judge_center_rows,
             "x.mean(dim=1, keepdim=True) is an (N, 1) column, which broadcasts across each row."),
]
