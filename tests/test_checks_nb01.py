"""Notebook 01's checks: the reference passes, each recognised mistake gets its hint, junk gets a message."""

import random

import numpy as np
import pytest
import torch

from helpers.checks import EXERCISES, check
from helpers.checks.core import FAILED, NOT_ATTEMPTED, PASSED

NB01 = sorted(i for i in EXERCISES if i.startswith("01."))


@pytest.mark.parametrize("exercise_id", NB01)
def test_reference_solution_passes(exercise_id):
    torch.manual_seed(0)
    exercise = EXERCISES[exercise_id]
    assert check(exercise_id, exercise.reference).status == PASSED


@pytest.mark.parametrize("exercise_id", NB01)
def test_reference_solution_passes_hidden_cases(exercise_id):
    from helpers.checks.core import evaluate

    exercise = EXERCISES[exercise_id]
    for seed in range(5):
        torch.manual_seed(seed)
        cases = exercise.hidden_cases(random.Random(seed))
        assert evaluate(exercise, exercise.reference, cases).status == PASSED, seed


MISTAKES = [
    ("01.1", lambda t: t.shape, "the rank is how many sizes it lists"),
    ("01.1", lambda t: t.size(), "len(t.shape), or t.dim()"),
    ("01.1", lambda t: t.numel(), "the number of elements (t.numel())"),
    ("01.1", lambda t: torch.tensor(t.dim()), ".item() converts"),
    ("01.1", lambda t: float(t.dim()), "expected a Python int"),
    ("01.2", lambda rows: torch.tensor(rows), "torch.tensor infers int64 from Python ints"),
    ("01.2", lambda rows: torch.tensor(np.array(rows, dtype=float)), "numpy arrays are float64 by default"),
    ("01.2", lambda rows: rows, "wrap it with torch.tensor"),
    ("01.2", lambda rows: np.array(rows, dtype=np.float32), "you returned a numpy array"),
    ("01.2", lambda rows: torch.tensor(rows, dtype=torch.float32).flatten(), "the shape is (4,), expected (2, 2)"),
    ("01.3", lambda n: torch.randint(1, 6, (n,)), "randint(1, 7"),
    ("01.3", lambda n: torch.randint(0, 6, (n,)), "low bound is included"),
    ("01.3", lambda n: torch.randint(1, 8, (n,)), "a die stops at 6"),
    ("01.3", lambda n: 1 + (6 * torch.rand(n)), "use torch.randint"),
    ("01.3", lambda n: torch.randint(1, 7, (n,), dtype=torch.int32), "torch.randint's default, int64"),
    ("01.3", lambda n: torch.randint(1, 7, (n, 1)), "(N, 1) with (N,)"),
    ("01.3", lambda n: torch.ones(n, dtype=torch.int64), "every face should appear"),
    ("01.4", lambda low, high, n: low + high * torch.rand(n), "not by high"),
    ("01.4", lambda low, high, n: (high - low) * torch.rand(n), "did not shift by low"),
    ("01.4", lambda low, high, n: torch.rand(n), "that is torch.rand alone"),
    ("01.4", lambda low, high, n: low + (high - low) * torch.rand(n, dtype=torch.float64), "expected torch.float32"),
    ("01.4", lambda low, high, n: torch.randint(int(low), int(high), (n,)), "torch.rand gives float32"),
    ("01.4", lambda low, high, n: torch.full((n,), (low + high) / 2), "should spread over all of"),
    ("01.5", lambda mean, std, n: mean + std**2 * torch.randn(n), "not the variance"),
    ("01.5", lambda mean, std, n: mean + std * torch.rand(n), "torch.rand is uniform on [0, 1)"),
    ("01.5", lambda mean, std, n: std * torch.randn(n), "add the mean"),
    ("01.5", lambda mean, std, n: mean + torch.randn(n), "scale torch.randn by std"),
    ("01.5", lambda mean, std, n: mean + std * torch.randn(n, 1), "(N, 1) with (N,)"),
]


@pytest.mark.parametrize("exercise_id, attempt, hint", MISTAKES, ids=[f"{m[0]}:{m[2][:30]}" for m in MISTAKES])
def test_recognised_mistake_gets_its_hint(exercise_id, attempt, hint):
    torch.manual_seed(0)
    result = check(exercise_id, attempt)
    assert result.status == FAILED
    assert hint in result.message, result.message


def raises_type_error(*args):
    raise TypeError("unsupported operand")


def forgot_return(*args):
    torch.zeros(1)


JUNK = [None, 3, "rank_of", [1, 2], np.array([1.0]), torch.tensor([1.0], requires_grad=True), raises_type_error,
        forgot_return, lambda *args: "text", lambda *args: torch.zeros(2, device="meta"),
        lambda *args: torch.tensor([1.0], requires_grad=True), lambda *args: object()]


@pytest.mark.parametrize("exercise_id", NB01)
@pytest.mark.parametrize("junk", JUNK, ids=lambda j: getattr(j, "__name__", type(j).__name__))
def test_junk_input_gets_a_message_not_a_traceback(exercise_id, junk):
    result = check(exercise_id, junk)
    assert result.status == FAILED
    assert result.message and "the check itself failed" not in result.message, result.message
    assert "Traceback" not in repr(result)


@pytest.mark.parametrize("exercise_id", NB01)
def test_student_release_placeholder_is_not_attempted(exercise_id):
    def placeholder(*args):
        """What the student release leaves."""
        ...

    assert check(exercise_id, placeholder).status == NOT_ATTEMPTED
    assert check(exercise_id).status == NOT_ATTEMPTED
