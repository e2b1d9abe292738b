"""Notebook 01's checks: the exercise contract (tests/exercise_contract.py) with 01's mistakes."""

import numpy as np
import torch

from exercise_contract import *  # noqa: F403 - the contract's tests, collected here for notebook 01
from exercise_contract import Unseen
from helpers.checks import check
from helpers.checks.core import PASSED

NOTEBOOK = "01"

MISTAKES = [
    ("01.3", lambda n: (torch.rand(n) * 5 + 1).round().long(), "the faces 1 and 6 come up far less often"),
    ("01.1", lambda t: t.shape, "not the sizes themselves but how many of them"),
    ("01.1", lambda t: t.size(), "not the sizes themselves but how many of them"),
    ("01.1", lambda t: t.numel(), "the number of elements; the rank counts dimensions"),
    ("01.1", lambda t: len(t), "the size of the first dimension (what len(t) gives)"),
    ("01.1", lambda t: torch.tensor(t.dim()), ".item() converts"),
    ("01.1", lambda t: float(t.dim()), "expected a Python int"),
    ("01.2", lambda rows: torch.tensor(rows), "torch.tensor infers int64 from Python ints"),
    ("01.2", lambda rows: torch.tensor(np.array(rows, dtype=float)), "numpy arrays are float64 by default"),
    ("01.2", lambda rows: rows, "wrap it with torch.tensor"),
    ("01.2", lambda rows: np.array(rows, dtype=np.float32), "you returned a numpy array"),
    ("01.2", lambda rows: torch.tensor(rows, dtype=torch.float32).flatten(), "the shape is (4,), expected (2, 2)"),
    ("01.3", lambda n: torch.randint(1, 6, (n,)), "high must be one past the largest face"),
    ("01.3", lambda n: torch.randint(0, 6, (n,)), "low bound is included, so low must be the smallest face"),
    ("01.3", lambda n: torch.randint(1, 8, (n,)), "a die stops at 6"),
    ("01.3", lambda n: 1 + (6 * torch.rand(n)), "use torch.randint"),
    ("01.3", lambda n: torch.randint(1, 7, (n,), dtype=torch.int32), "torch.randint's default, int64"),
    ("01.3", lambda n: torch.randint(1, 7, (n, 1)), "a column of shape (N, 1) is not a vector of shape (N,)"),
    ("01.3", lambda n: torch.ones(n, dtype=torch.int64), "every face should appear"),
    ("01.4", lambda low, high, n: low + high * torch.rand(n), "you stretched [0, 1) by high"),
    ("01.4", lambda low, high, n: high * torch.rand(n), "you stretched [0, 1) by high"),
    ("01.4", lambda low, high, n: (high - low) * torch.rand(n), "does not start at low"),
    ("01.4", lambda low, high, n: torch.rand(n), "that is torch.rand as it comes"),
    ("01.4", lambda low, high, n: low + (high - low) * torch.rand(n, dtype=torch.float64), "expected torch.float32"),
    ("01.4", lambda low, high, n: torch.randint(int(low), int(high), (n,)), "torch.rand gives float32"),
    ("01.4", lambda low, high, n: torch.full((n,), (low + high) / 2), "should spread over all of"),
    ("01.5", lambda mean, std, n: mean + std**2 * torch.randn(n), "not the variance"),
    ("01.5", lambda mean, std, n: mean + std * torch.rand(n), "torch.rand is uniform on [0, 1)"),
    ("01.5", lambda mean, std, n: std * torch.randn(n), "add the mean"),
    ("01.5", lambda mean, std, n: mean + torch.randn(n), "scale torch.randn by std"),
    ("01.5", lambda mean, std, n: mean + std * torch.randn(n, 1), "a column of shape (N, 1)"),
]


def test_the_size_one_hint_does_not_lean_on_broadcasting_which_01_has_not_taught():
    message = check("01.3", lambda n: torch.randint(1, 7, (n, 1))).message
    assert "broadcast" not in message


def test_torch_normal_passes_with_praise_that_fits_it():
    result = check("01.5", lambda mean, std, n: torch.normal(mean, std, (n,)))
    assert result.status == PASSED and "torch.normal" in result.message


# The rules 01's statements set beyond the value asked for. Types, dtypes and shapes are the value
# (MISTAKES covers them); 01.3's "use torch.randint" shows in the values drawn from the seeded generator.
RULES = [
    ("01.3", "use torch.randint", Unseen("the check tests the faces' distribution, so any fair die passes: (6 * torch.rand(n)).long() + 1 does"), ""),
]


def test_a_fair_die_without_randint_passes_so_the_method_is_unseen():
    """Why RULES marks 01.3's "use torch.randint" Unseen: the check tests the faces' distribution."""
    assert check("01.3", lambda n: (6 * torch.rand(n)).long() + 1).status == PASSED
