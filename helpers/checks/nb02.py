"""Exercises of notebook 02 (tensor methods, indexing and views)."""

from __future__ import annotations

import random

import torch

from helpers.checks.core import Exercise, shown
from helpers.checks.hints import mistake
from helpers.checks.judges import number_mismatch, on_cpu, tensor_mismatch


def same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Exactly equal: the same shape, dtype and values."""
    return a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b)


def distinct_matrix(rng: random.Random, rows: int, cols: int, low: int = -99, high: int = 100) -> torch.Tensor:
    """A rows x cols int64 matrix of distinct whole numbers, so every position holds its own value."""
    return torch.tensor(rng.sample(range(low, high), rows * cols)).view(rows, cols)


# 02.1 element_at(t, row, col): the element in the row-th row and col-th column, counted from 1 ---

def element_at(t: torch.Tensor, row: int, col: int) -> int:
    return t[row - 1, col - 1].item()


def judge_element(got, case, expected):
    t, row, col = case
    value = got
    if type(got) is torch.Tensor and got.device.type == "cpu" and got.numel() == 1:
        value = got.item()
    if type(value) is int and value != expected:
        rows, cols = t.shape
        wrong = [  # (index used, the mistake behind it); the first that explains the answer wins
            ((row, col), mistake("02.1/indices-from-one",
                                 f"you returned "
                                 f"{shown(f'{value}, which is t[{row}, {col}]: the {ordinal(row + 1)} row, {ordinal(col + 1)} column')}."
                                 " Indices count from 0, so the n-th row has index n - 1 (and the same for columns).")),
            ((col - 1, row - 1), mistake("02.1/row-and-column-swapped",
                                         f"you returned {shown(f'{value}, the element in the {ordinal(col)} row, {ordinal(row)} column')}:"
                                         " the first index picks the row, the second the column.")),
            ((row - 1, col), mistake("02.1/column-index-from-one",
                                     f"you returned {shown(f'{value}, which is t[{row - 1}, {col}]')}: the row is right, but the column index"
                                     " is one too far. Indices count from 0 for columns too.")),
            ((row, col - 1), mistake("02.1/row-index-from-one",
                                     f"you returned {shown(f'{value}, which is t[{row}, {col - 1}]')}: the column is right, but the row index"
                                     " is one too far. Indices count from 0 for rows too.")),
        ]
        for (r, c), hint in wrong:
            if 0 <= r < rows and 0 <= c < cols and value == t[r, c].item():
                return hint
    return number_mismatch(got, expected)


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 3 -> '3rd', 4 -> '4th', 11 -> '11th'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def element_public():
    t = torch.arange(10, 30).view(4, 5)
    return [(t, 2, 3), (t, 4, 5), (t, 1, 1)]


def element_hidden(rng: random.Random):
    """Matrices of distinct values; row != col, both within either size, so a 0-based or a swapped index picks another value (or fails)."""
    cases = []
    for _ in range(4):
        rows, cols = rng.randint(3, 7), rng.randint(3, 7)
        row, col = rng.sample(range(2, min(rows, cols) + 1), 2)
        cases.append((distinct_matrix(rng, rows, cols), row, col))
    return cases


# 02.2 zero_negatives(t): a new tensor with every negative element set to 0 -----------------

def zero_negatives(t: torch.Tensor) -> torch.Tensor:
    out = t.clone()
    out[out < 0] = 0
    return out


def judge_zero_negatives(got, case, expected):
    (t,) = case
    if got is None:
        return (mistake("02.2/function-returned-none-assigning-through",
                        "your function returned None: assigning through a mask changes a tensor in place and gives nothing back. Return the tensor "
                        "you changed (a copy, so that t itself stays as it was)."))
    miss = on_cpu(got, expected)
    if miss:
        return miss
    if got.dim() == 1 and got.shape != expected.shape and got.numel() < t.numel():
        return (mistake("02.2/returned-elements-row-indexing-mask",
                        f"you returned {shown(got.numel())} of the {shown(t.numel())} elements, in one row: "
                        "indexing with a mask picks the matching elements out. Keep t's shape: assign 0 to the masked positions instead."))
    if same(got, t.abs()):
        return mistake("02.2/flipped-sign-negative-elements-they", "you flipped the sign of the negative elements; they should become 0.")
    if same(got, torch.where(t > 0, torch.zeros_like(t), t)):
        return mistake("02.2/set-positive-elements-0-kept",
                       "you set the positive elements to 0 and kept the negative ones: the mask must be true where t is negative.")
    if same(got, t):
        return mistake("02.2/nothing-changed-negative-elements-still", "nothing changed: the negative elements are still there.")
    return tensor_mismatch(got, expected)


def zero_negatives_public():
    return [(torch.tensor([[1.5, -2.0, 0.0], [-0.5, 3.0, -4.0]]),), (torch.tensor([-1.0, 2.0, -3.0, 4.0]),)]


def zero_negatives_hidden(rng: random.Random):
    """Matrices with several negative and several positive elements."""
    cases = []
    for _ in range(3):
        rows, cols = rng.randint(2, 6), rng.randint(3, 6)
        values = [round(rng.uniform(0.5, 9.5), 2) * sign for sign in [-1, 1] * 2]
        values += [round(rng.uniform(-9.5, 9.5), 2) for _ in range(rows * cols - 4)]
        rng.shuffle(values)
        cases.append((torch.tensor(values).view(rows, cols),))
    return cases


# 02.3 row_argmax(scores): for each row, the column index of its largest value ---------------

def row_argmax(scores: torch.Tensor) -> torch.Tensor:
    return scores.argmax(dim=1)


def judge_row_argmax(got, case, expected):
    (scores,) = case
    pair = isinstance(got, tuple) and len(got) == 2 and all(type(part) is torch.Tensor for part in got)
    if pair or "return_types" in type_name(got):
        return mistake("02.3/max-dim-gives-two-tensors",
                       "max(dim=...) gives two tensors, the largest values and their indices; the exercise asks only for the indices (the "
                       "positions).")
    miss = on_cpu(got, expected)
    if miss or same(got, expected):
        return miss
    rows, cols = scores.shape
    if got.dim() == 0:
        return (mistake("02.3/returned-number-without-dim-argmax",
                        "you returned one number: without dim, argmax looks at the whole tensor as one flat list. Say which dimension to reduce, so "
                        "you get one answer per row."))
    if same(got, scores.argmax(dim=0)):
        return (mistake("02.3/returned-indices-per-column-dim",
                        f"you returned {shown(cols)} indices, one per column: dim=0 reduces over the rows (down each "
                        "column). One answer per row means reducing across the columns, dim=1."))
    if got.shape == (rows, 1):
        return mistake("02.3/shape-expected-keepdim-true-keeps",
                       f"the shape is {shown((rows, 1))}, expected {shown((rows,))}: keepdim=True keeps the reduced "
                       "dimension as a size-1 column; leave it out here.")
    if got.is_floating_point() and same(got, scores.max(dim=1).values):
        return mistake("02.3/those-largest-scores-themselves-exercise",
                       "those are the largest scores themselves; the exercise asks where they are: their column indices.")
    if same(got, expected + 1):
        return mistake("02.3/every-index-too-large-indices", "every index is one too large: indices count from 0, so the first column is column 0.")
    if same(got, scores.argmin(dim=1)):
        return mistake("02.3/those-positions-smallest-scores-largest", "those are the positions of the smallest scores, not the largest.")
    return tensor_mismatch(got, expected)


def type_name(value) -> str:
    """The type of a result (or of what the grader saw: `Opaque` carries the original type's name)."""
    name = getattr(type(value), "__module__", "") + "." + type(value).__name__
    if type(value).__name__ == "Opaque":
        name += " " + str(getattr(value, "type_name", ""))
    return name


def argmax_public():
    scores = torch.tensor([[0.1, 2.5, 0.3, -1.0], [0.2, 3.9, 0.9, 4.0], [-0.5, -2.0, -0.6, -3.0]])
    return [(scores,), (torch.tensor([[1.0, 3.0], [5.0, 2.0], [0.0, -1.0], [7.0, 8.0], [2.0, 1.5]]),)]


def argmax_hidden(rng: random.Random):
    """Non-square score tables without ties, so a per-column or flat argmax has another shape."""
    cases = []
    for _ in range(3):
        rows, cols = rng.sample(range(3, 9), 2)
        cases.append((distinct_matrix(rng, rows, cols, -500, 500).to(torch.float32) / 100,))
    return cases


# 02.4 flatten_transposed(t): the transpose of t, read row by row, as a 1-D tensor ------------

def flatten_transposed(t: torch.Tensor) -> torch.Tensor:
    return t.t().reshape(-1)


def judge_flatten_transposed(got, case, expected):
    (t,) = case
    miss = on_cpu(got, expected)
    if miss:
        return miss
    if got.shape == t.t().shape:
        return (mistake("02.4/returned-tensor-shape-transpose-itself",
                        f"you returned a tensor of shape {shown(tuple(got.shape))}, the transpose itself; it still has to become one row of "
                        f"{shown(t.numel())} "
                        "numbers (1-D)."))
    if same(got, t.flatten()):
        return (mistake("02.4/these-ts-rows-after-another",
                        "these are t's rows one after another, in the order they sit in memory; view or reshape keep that order even when you ask "
                        "for the shape (columns, rows). Transpose first, so the columns are read one after another."))
    return tensor_mismatch(got, expected)


def flatten_transposed_public():
    return [(torch.arange(1, 7).view(2, 3),), (torch.tensor([[0.5, -1.0], [2.0, 3.5], [4.0, -6.0], [1.0, 0.0]]),)]


def flatten_transposed_hidden(rng: random.Random):
    """Non-square matrices of distinct values with at least 2 rows and 2 columns, so the order shows."""
    cases = []
    for _ in range(3):
        rows, cols = rng.sample(range(2, 7), 2)
        cases.append((distinct_matrix(rng, rows, cols),))
    return cases


EXERCISES = [
    Exercise("02.1", "element_at", 1, element_at, element_public, element_hidden, judge_element,
             "t[row - 1, col - 1]: the n-th row has index n - 1, because indices count from 0; .item() makes it a Python number."),
    Exercise("02.2", "zero_negatives", 2, zero_negatives, zero_negatives_public, zero_negatives_hidden, judge_zero_negatives,
             "a boolean mask marks the negative elements and assigning 0 through it sets them all at once; on a copy, t stays as it was"
             " (t.clamp(min=0) does the same in one call)."),
    Exercise("02.3", "row_argmax", 2, row_argmax, argmax_public, argmax_hidden, judge_row_argmax,
             "argmax(dim=1) reduces across the columns, so you get one index per row; dim=0 would give one per column."),
    Exercise("02.4", "flatten_transposed", 2, flatten_transposed, flatten_transposed_public, flatten_transposed_hidden, judge_flatten_transposed,
             "t.t() is a view with swapped strides, not contiguous, so .view(-1) refuses it; .reshape(-1) copies when it must (as does"
             " .contiguous().view(-1))."),
]
