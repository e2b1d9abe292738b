"""Exercises of notebook 01 (tensors: ranks and creation)."""

from __future__ import annotations

import math
import random

import torch

from helpers.checks.core import Exercise, shown
from helpers.checks.hints import mistake
from helpers.checks.judges import number_mismatch, tensor_like, tensor_mismatch

# 01.1 rank_of(t): the number of dimensions --------------------------------------------------

def rank_of(t: torch.Tensor) -> int:
    return t.dim()


def judge_rank(got, case, expected):
    (t,) = case
    if isinstance(got, tuple) and tuple(got) == tuple(t.shape):
        return mistake("01.1/returned-shape-rank-sizes-themselves",
                       f"you returned the shape {shown(tuple(got))}; the rank is not the sizes themselves but how "
                       "many of them there are.")
    if type(got) is int and got != expected and t.dim() > 0 and got == t.shape[0]:
        return mistake("01.1/returned-size-first-dimension-what",
                       f"you returned {shown(got)}, the size of the first dimension (what len(t) gives); the rank "
                       "counts the dimensions.")
    if type(got) is int and got == t.numel() and got != expected:
        return mistake("01.1/returned-number-elements-rank-counts",
                       f"you returned {shown(got)}, the number of elements; the rank counts dimensions, not "
                       "numbers.")
    return number_mismatch(got, expected)


def rank_public():
    return [(torch.zeros(2, 3),), (torch.tensor([1, 2, 3]),), (torch.tensor(3.5),), (torch.zeros(2, 3, 4),)]


def rank_hidden(rng: random.Random):
    """Tensors of 5 different ranks whose first size and element count both differ from the rank."""
    cases = []
    for rank in rng.sample(range(0, 6), 5):
        sizes = [rng.choice([n for n in (2, 3, 4, 5) if n != rank]) for _ in range(rank)]
        cases.append((torch.zeros(sizes),))
    return cases


# 01.2 from_nested(rows): a float32 tensor from nested Python lists --------------------------

def from_nested(rows: list) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float32)


def judge_from_nested(got, case, expected):
    return tensor_mismatch(got, expected)


def from_nested_public():
    return [([[1, 2], [3, 4]],), ([0.5, -1.0, 2.0],), ([[[1], [2]], [[3], [4]]],)]


def from_nested_hidden(rng: random.Random):
    """Nested lists of whole numbers, 2 or 3 deep, so neither int64 nor a flattened shape can pass."""
    def nested(shape):
        if not shape:
            return rng.randint(-9, 9)
        return [nested(shape[1:]) for _ in range(shape[0])]
    return [(nested([rng.randint(2, 4) for _ in range(rng.randint(2, 3))]),) for _ in range(5)]


# 01.3 dice_rolls(n): n throws of a fair six-sided die, with randint ----------------------

def dice_rolls(n: int) -> torch.Tensor:
    return torch.randint(1, 7, (n,))


def judge_dice(got, case, expected):
    (n,) = case
    miss = tensor_like(got, expected)
    if miss:
        return miss
    if got.dtype.is_floating_point:
        return mistake("01.3/rolls-die-shows-whole-numbers", f"the rolls are {got.dtype}; a die shows whole numbers: use torch.randint, which returns int64.")
    if got.dtype != torch.int64:
        return mistake("01.3/dtype-torch-randints-default-int64", f"the dtype is {got.dtype}; torch.randint's default, int64, is what we want.")
    low, high = int(got.min()), int(got.max())
    if low < 1:
        return mistake("01.3/low-bound-included", f"a roll of {shown(low)} came up: randint's low bound is included, so low must be the smallest face.")
    if high > 6:
        return mistake("01.3/high-bound-included",
                       f"a roll of {shown(high)} came up: a die stops at 6 (randint's high bound is excluded: it is one past the "
                       "largest value).")
    if n >= 300 and high == 5:
        return mistake("01.3/no-six", f"no 6 came up in {shown(n)} rolls: randint's high bound is excluded, so high must be one past the largest face.")
    if n >= 300 and len(torch.unique(got)) < 6:
        return mistake("01.3/only-faces-came-up-rolls",
                       f"only the faces {shown(torch.unique(got).tolist())} came up in {shown(n)} rolls; every face should "
                       "appear.")
    end_share = float(((got == 1) | (got == 6)).double().mean())
    if n >= 1000 and end_share < 1 / 3 - 5 * math.sqrt(2 / 9 / n):  # five standard deviations below a fair die's 1/3
        return (mistake("01.3/faces-1-6-come-up",
                        "the faces 1 and 6 come up far less often than the others: rounding a continuous number to the nearest whole one gives the "
                        "end faces half as wide an interval. Every face needs the same chance: torch.randint gives that."))
    return None


def dice_public():
    return [(1200,), (3,)]


def dice_hidden(rng: random.Random):
    """Enough rolls that a missing face, an impossible one or unequal chances show in every case."""
    return [(rng.randint(1500, 3000),), (rng.randint(1000, 1500),)]


# 01.4 uniform(low, high, n): n samples from [low, high), with rand --------------------------

def uniform(low: float, high: float, n: int) -> torch.Tensor:
    return low + (high - low) * torch.rand(n)


def judge_uniform(got, case, expected):
    low, high, n = case
    miss = tensor_like(got, expected)
    if miss:
        return miss
    if not got.dtype.is_floating_point:
        return mistake("01.4/samples-torch-rand-gives-float32",
                       f"the samples are {got.dtype}; torch.rand gives float32 numbers in [0, 1) — scale and shift "
                       "those.")
    if got.dtype != torch.float32:
        return mistake("01.4/dtype-expected-torch-float32-torch", f"the dtype is {got.dtype}, expected torch.float32 (torch.rand's default).")
    width = high - low
    wrong_intervals = [  # what each mistake fills, first match wins
        ((0.0, 1.0), mistake("01.4/samples-fill-0-1-torch",
                             "the samples fill [0, 1): that is torch.rand as it comes — stretch it to the interval's width, then move it to start "
                             "at low.")),
        ((0.0, width), mistake("01.4/samples-fill-0-width-right",
                               f"the samples fill [0, {shown(width, 'g')}): the width is right, but the interval does not start at low = "
                               f"{shown(low, 'g')} yet.")),
        ((0.0, high), mistake("01.4/samples-fill-0-stretched-0",
                              f"the samples fill [0, {shown(high, 'g')}): you stretched [0, 1) by high; stretch it by the "
                              "interval's width instead, then move it to low.")),
        ((low, low + high), mistake("01.4/samples-fill-stretched-0-1",
                                    f"the samples fill [{shown(low, 'g')}, {shown(low + high, 'g')}): you stretched [0, 1) "
                                    "by high; stretch it by the interval's width instead.")),
    ]
    if fills(got, low, high):
        return None
    for (start, end), hint in wrong_intervals:
        if fills(got, start, end):
            return hint
    smallest, largest = float(got.min()), float(got.max())
    slack = 1e-5 * max(1.0, abs(low), abs(high))
    if smallest < low - slack or largest >= high + slack:
        return (mistake("01.4/samples-span-outside-stretch-0",
                        f"the samples span [{shown(smallest, '.3f')}, {shown(largest, '.3f')}], outside [{shown(low, 'g')}, {shown(high, 'g')}):"
                        " stretch [0, 1) to the width of the interval, then move it to start at low."))
    if n >= 1000:
        return (mistake("01.4/samples-only-span-they-should",
                        f"the samples only span [{shown(smallest, '.3f')}, {shown(largest, '.3f')}]; they should spread over all of "
                        f"[{shown(low, 'g')}, {shown(high, 'g')})."))
    return None


def fills(samples: torch.Tensor, start: float, end: float) -> bool:
    """True when the samples lie in [start, end) and, with 1000 or more, come within 2% of both ends.

    1000 uniform samples miss the outer 2% at one end with probability 0.98**1000, about 2e-9.
    """
    width = end - start
    if width <= 0:
        return False
    smallest, largest = float(samples.min()), float(samples.max())
    slack = 1e-5 * max(1.0, abs(start), abs(end))  # float32 rounding at the ends
    inside = smallest >= start - slack and largest < end + slack
    if samples.numel() < 1000:
        return inside
    return inside and smallest - start < 0.02 * width and end - largest < 0.02 * width


def uniform_public():
    return [(2.0, 5.0, 2000), (-1.0, 1.0, 2000)]


def uniform_hidden(rng: random.Random):
    """Intervals away from 0 (|low| >= 1, width 1.5 to 8), so a missing shift or a stretch by high shows."""
    cases = []
    for _ in range(3):
        low = round(rng.choice([-1, 1]) * rng.uniform(1, 10), 2)
        cases.append((low, round(low + rng.uniform(1.5, 8), 2), rng.randint(1000, 4000)))
    return cases


# 01.5 normal(mean, std, n): n samples from a normal distribution, with randn ---------------

def normal(mean: float, std: float, n: int) -> torch.Tensor:
    return mean + std * torch.randn(n)


def judge_normal(got, case, expected):
    mean, std, n = case
    miss = tensor_like(got, expected)
    if miss:
        return miss
    if got.dtype != torch.float32:
        return mistake("01.5/dtype-expected-torch-float32-torch", f"the dtype is {got.dtype}, expected torch.float32 (torch.randn's default).")
    sample_mean, sample_std = float(got.mean()), float(got.std())
    if abs(sample_std - std**2) < 0.05 * std**2 and abs(std**2 - std) > 0.1 * std:
        return mistake("01.5/spread-about-std-multiply-randn",
                       f"the spread is {shown(sample_std, '.3f')}, about std² = {shown(std**2, 'g')}: multiply randn "
                       "by the standard deviation, not the variance.")
    if sample_std < 0.5 * std and float(got.min()) >= mean:
        return mistake("01.5/all-samples-lie-above-mean",
                       "all samples lie above the mean: torch.rand is uniform on [0, 1); the normal distribution is torch.randn.")
    if abs(sample_mean - mean) > 6 * std / n**0.5:
        return mistake("01.5/samples-average-expected-about-add",
                       f"the samples average {shown(sample_mean, '.3f')}, expected about {shown(mean, 'g')}: add "
                       "the mean after scaling.")
    if abs(sample_std - std) > 0.1 * std:
        return mistake("01.5/samples-standard-deviation-expected-about",
                       f"the samples' standard deviation is {shown(sample_std, '.3f')}, expected about {shown(std, 'g')}: scale torch.randn by std.")
    return None


def normal_public():
    return [(0.0, 1.0, 20000), (5.0, 3.0, 20000)]


def normal_hidden(rng: random.Random):
    """Means away from 0 and spreads from 1.5 to 4, so a missing shift, scale or square shows."""
    return [(round(rng.choice([-1, 1]) * rng.uniform(1, 5), 2), round(rng.uniform(1.5, 4), 2), rng.randint(10000, 30000)) for _ in range(2)]


EXERCISES = [
    Exercise("01.1", "rank_of", 1, rank_of, rank_public, rank_hidden, judge_rank,
             "the rank is the number of dimensions: 0 for a scalar, 1 for a vector, 2 for a matrix."),
    Exercise("01.2", "from_nested", 1, from_nested, from_nested_public, from_nested_hidden, judge_from_nested,
             "dtype=torch.float32 overrides the int64 that torch.tensor infers from Python ints."),
    Exercise("01.3", "dice_rolls", 2, dice_rolls, dice_public, dice_hidden, judge_dice,
             "randint includes low and excludes high, so the faces 1 to 6 take high = 7."),
    Exercise("01.4", "uniform", 2, uniform, uniform_public, uniform_hidden, judge_uniform,
             "stretching torch.rand's [0, 1) by the width and then shifting it by low lands every sample in [low, high)."),
    Exercise("01.5", "normal", 2, normal, normal_public, normal_hidden, judge_normal,
             "the samples have the mean and spread you were asked for: a standard normal (torch.randn) scaled by std and shifted"
             " by mean is exactly that distribution, and torch.normal(mean, std, (n,)) draws it in one call."),
]
