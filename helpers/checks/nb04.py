"""Exercises of notebook 04 (devices and CUDA).

The grader runs every case on the CPU and brings results back to the CPU, so a device mistake
cannot show in a graded result. Each device exercise therefore has a public case on the `meta`
device (shapes and dtypes, no data), which the notebook's check runs, and hidden cases whose
dtypes expose the same mistake: a tensor created with the defaults (float32, on the CPU) instead
of following its input, or a `.to(...)` whose result was thrown away.
"""

from __future__ import annotations

import random

import numpy as np
import torch

from helpers.checks.core import Exercise, describe, shown, with_article
from helpers.checks.hints import Hint, mistake, mistake_of
from helpers.checks.judges import BROADCAST_TRAP, not_a_tensor, shape_mismatch, values_mismatch
from helpers.checks.rules import RuleBroken


def where(t: torch.Tensor) -> str:
    return f"{str(t.dtype).removeprefix('torch.')} on {t.device.type}"


# 04.1 ones_column(x): a column of ones that follows x's dtype and device ---------------------

def ones_column(x: torch.Tensor) -> torch.Tensor:
    return x.new_ones(x.shape[0], 1)


def judge_ones_column(got, case, expected):
    (x,) = case
    miss = not_a_tensor(got)
    if miss:
        return miss
    if got.dtype != x.dtype or got.device.type != x.device.type:
        defaults = " (float32 on the CPU: the defaults a new tensor gets)" if got.dtype == torch.float32 and got.device.type == "cpu" else ""
        return RuleBroken(mistake("04.1/column-not-following-x",
                                  f"your column is {where(got)}{defaults}, but x is {where(x)}. Make the new tensor"
                                  " follow x: a tensor method such as x.new_ones, or the dtype= and device= arguments, taken from x."))
    n = x.shape[0]
    if got.shape == (n,):
        return mistake("04.1/shape-vector-column-has-shape", f"the shape is ({shown(n)},), a vector; a column has shape ({shown(n)}, 1)." + BROADCAST_TRAP)
    if got.shape == (1, n) and n != 1:
        return mistake("04.1/shape-1-row-column-has", f"the shape is (1, {shown(n)}), a row; a column has shape ({shown(n)}, 1): one row per row of x.")
    if got.shape == x.shape and x.shape[1] != 1:
        return mistake("04.1/shape-xs-own-shape-column",
                       f"the shape is {shown(tuple(got.shape))}, x's own shape: a column has one number per row of x, shape ({shown(n)}, 1).")
    miss = shape_mismatch(got, expected)
    if miss or got.device.type == "meta":  # a meta tensor has a shape and a dtype, but no values to compare
        return miss
    miss = values_mismatch(got, expected)  # ones are the statement: wrong values cost the meta case too, which cannot show them
    return RuleBroken(miss) if miss else None


def ones_public():
    return [(torch.zeros(4, 3, dtype=torch.float64, device="meta"),),
            (torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),),
            (torch.tensor([[0.5, -1.0, 2.0, 3.0], [1.5, 2.5, -0.5, 4.0]], dtype=torch.float64),)]


def ones_hidden(rng: random.Random):
    """Matrices in dtypes other than float32, more rows than columns or fewer, never one column; one on
    the meta device, so an answer that ignores x's device is graded as the statement says."""
    cases = []
    for dtype in rng.sample([torch.float64, torch.float16, torch.bfloat16], 3):
        rows, cols = rng.sample(range(2, 8), 2)
        values = [round(rng.uniform(-5, 5), 2) for _ in range(rows * cols)]
        cases.append((torch.tensor(values, dtype=dtype).view(rows, cols),))
    rows, cols = rng.sample(range(2, 8), 2)
    cases.append((torch.zeros(rows, cols, dtype=rng.choice([torch.float64, torch.float16]), device="meta"),))
    return cases


# 04.2 prepare(batch, device, dtype): every tensor of a dict moved and converted ------------

def prepare(batch: dict, device: str, dtype: torch.dtype) -> dict:
    return {name: t.to(device, dtype) for name, t in batch.items()}


def judge_prepare(got, case, expected):
    batch, device, dtype = case
    if type(got) is not dict:
        kind = f"a Python {type(got).__name__}" if isinstance(got, (list, tuple)) else describe(got)
        return mistake("04.2/not-a-dict",
                       f"you returned {kind}; return a dict with the same names as batch, each with its tensor "
                       "converted.")
    if sorted(map(str, got)) != sorted(batch):
        return mistake("04.2/names-expected-keep-batchs-names",
                       f"the names are {shown(sorted(map(str, got)))}, expected {shown(sorted(batch))}: keep batch's "
                       "names.")
    for name, came in batch.items():
        have, want = got[name], expected[name]
        miss = not_a_tensor(have)
        if miss:
            return Hint(f"{shown(repr(name))}: {miss}", mistake_of(miss))
        if have.dtype == came.dtype != want.dtype:
            if have.device.type == came.device.type != want.device.type:
                return (mistake("04.2/still-came-returns-converted-copy",
                                f"{shown(repr(name))} is still {where(came)}, as it came in: .to(...) returns a "
                                "converted copy and leaves the tensor you call it on as it was, so keep what it returns."))
            return (mistake("04.2/still-has-old-dtype-give",
                            f"{shown(repr(name))} still has its old dtype, {str(came.dtype).removeprefix('torch.')}: give "
                            ".to(...) the dtype as well as the device, and keep what it returns (a converted copy; the original stays as it was)."))
        if have.device.type != want.device.type:
            return (mistake("04.2/device-not-changed",
                            f"{shown(repr(name))} is on {have.device.type}, expected {want.device.type}: one call to "
                            ".to(...) can change the device and the dtype together."))
        if have.dtype != want.dtype:
            return mistake("04.2/dtype-not-the-given-one",
                           f"{shown(repr(name))} is {where(have)}, expected {where(want)}: convert to the dtype you "
                           "were given.")
        miss = shape_mismatch(have, want) or (None if want.device.type == "meta" else values_mismatch(have, want))
        if miss:
            return Hint(f"{shown(repr(name))}: {miss}", mistake_of(miss))
    return None


def prepare_public():
    return [({"x": torch.tensor([[1, 2], [3, 4], [5, 6]]), "y": torch.tensor([0.5, 1.5, 2.5], dtype=torch.float64)}, "meta", torch.float32),
            ({"x": torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64), "y": torch.tensor([1, 0])}, "cpu", torch.float32),
            ({"x": torch.tensor([[0.25, -1.5]]), "y": torch.tensor([3])}, "cpu", torch.float64)]


def prepare_hidden(rng: random.Random):
    """Batches of float32 features and int64 labels on the CPU, converted to a dtype neither of them has."""
    cases = []
    for dtype in rng.sample([torch.float64, torch.float16, torch.bfloat16], 3):
        n, d = rng.randint(2, 8), rng.randint(1, 4)
        x = torch.tensor([round(rng.uniform(-3, 3), 2) for _ in range(n * d)]).view(n, d)
        y = torch.tensor([rng.randint(0, 4) for _ in range(n)])
        cases.append(({"x": x, "y": y}, "cpu", dtype))
    return cases


# 04.3 percentiles(t, qs): NumPy's percentiles of a tensor that may require grad ---------------

def percentiles(t: torch.Tensor, qs: list) -> list:
    return np.percentile(t.detach().cpu().numpy(), qs).tolist()


def judge_percentiles(got, case, expected):
    t, qs = case
    if type(got) is torch.Tensor:
        return mistake("04.3/returned-tensor-exercise-asks-python",
                       "you returned a tensor; the exercise asks for a Python list of floats (.tolist() makes one).")
    if type(got).__module__ == "numpy" and getattr(got, "ndim", 0) > 0:
        return mistake("04.3/returned-numpy-array-exercise-asks",
                       "you returned a NumPy array; the exercise asks for a Python list of floats (.tolist() makes one).")
    if type(got) is not list:
        return mistake("04.3/not-a-list", f"you returned {describe(got)}; return a Python list of floats, one per percentile.")
    if len(got) != len(qs):
        return mistake("04.3/returned-values-percentiles", f"you returned {shown(len(got))} values for {shown(len(qs))} percentiles.")
    odd = next((value for value in got if type(value) is not float), None)
    if odd is not None:
        return (mistake("04.3/list-holds-python-float-call",
                        f"the list holds {with_article(type(odd).__module__)}.{type(odd).__name__}, not a Python float: "
                        "call .tolist() on the NumPy array (rather than list(...)), which converts each number."))
    have = torch.tensor(got, dtype=torch.float64)
    want = torch.tensor(expected, dtype=torch.float64)
    if torch.allclose(have, want, rtol=1e-5, atol=1e-6):
        return None
    data = t.detach().to(torch.float64)
    as_fractions = torch.quantile(data, torch.tensor(qs, dtype=torch.float64) / 10_000)
    if torch.allclose(have, as_fractions, rtol=1e-5, atol=1e-6):
        return mistake("04.3/np-percentile-takes-percents-0",
                       "np.percentile takes percents, from 0 to 100 (it is torch.quantile that takes fractions from 0 to 1): pass qs as they are.")
    return mistake("04.3/values-differ-have-expected",
                   f"the values differ: you have {shown([round(v, 4) for v in got])}, expected {shown([round(v, 4) for v in expected])}.")


def percentiles_public():
    scores = torch.tensor([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0], requires_grad=True)
    return [(scores, [25, 50, 75]), (torch.linspace(-2.0, 8.0, 21).requires_grad_(), [10, 90])]


def percentiles_hidden(rng: random.Random):
    """Tensors that require grad, with spread-out values and percentiles away from 0 and 100."""
    cases = []
    for _ in range(3):
        values = [round(rng.uniform(-10, 10), 3) for _ in range(rng.randint(10, 50))]
        qs = sorted(rng.sample([10, 20, 25, 30, 50, 60, 75, 80, 90], 3))
        cases.append((torch.tensor(values, requires_grad=True), qs))
    return cases


EXERCISES = [
    Exercise("04.1", "ones_column", 1, ones_column, ones_public, ones_hidden, judge_ones_column,
             "x.new_ones(n, 1) (or torch.ones(n, 1, dtype=x.dtype, device=x.device)) follows x wherever it lives, so the column can join x on any device."),
    Exercise("04.2", "prepare", 2, prepare, prepare_public, prepare_hidden, judge_prepare,
             "t.to(device, dtype) changes both in one call and returns the converted tensor, which you kept."),
    Exercise("04.3", "percentiles", 2, percentiles, percentiles_public, percentiles_hidden, judge_percentiles,
             "t.detach().cpu().numpy() works for every tensor: off the autograd graph, then into the CPU's memory, then shared with NumPy."),
]
