"""Notebook 02's checks: the exercise contract (tests/exercise_contract.py) with 02's mistakes."""

import torch

from exercise_contract import *  # noqa: F403 - the contract's tests, collected here for notebook 02
from helpers.checks import check
from helpers.checks.core import PASSED

NOTEBOOK = "02"


def zero_in_place_without_return(t):
    t[t < 0] = 0


MISTAKES = [
    ("02.1", lambda t, row, col: t[row, col].item(), "Indices count from 0"),
    ("02.1", lambda t, row, col: t[col - 1, row - 1].item(), "the first index picks the row"),
    ("02.1", lambda t, row, col: t[row - 1, col].item(), "the column index is one too far"),
    ("02.1", lambda t, row, col: t[row, col - 1].item(), "the row index is one too far"),
    ("02.1", lambda t, row, col: t[row - 1, col - 1], ".item() converts"),
    ("02.1", lambda t, row, col: float(t[row - 1, col - 1]), "expected a Python int"),
    ("02.1", lambda t, row, col: t[row - 1].item(), ".item() gives the one number of a one-element tensor"),
    ("02.3", lambda scores: scores.argmax(), "without dim, argmax looks at the whole tensor"),
    ("02.3", lambda scores: scores.argmax(dim=0), "dim=0 reduces over the rows"),
    ("02.3", lambda scores: scores.argmax(dim=1, keepdim=True), "keepdim=True keeps the reduced dimension"),
    ("02.3", lambda scores: scores.max(dim=1).values, "the largest scores themselves"),
    ("02.3", lambda scores: scores.max(dim=1), "the exercise asks only for the indices"),
    ("02.3", lambda scores: scores.argmax(dim=1) + 1, "indices count from 0"),
    ("02.3", lambda scores: scores.argmin(dim=1), "smallest scores"),
    ("02.2", lambda t: t[t > 0], "indexing with a mask picks the matching elements out"),
    ("02.2", lambda t: t[t >= 0], "indexing with a mask picks the matching elements out"),
    ("02.2", lambda t: t.abs(), "you flipped the sign"),
    ("02.2", lambda t: t.masked_fill(t > 0, 0), "the mask must be true where t is negative"),
    ("02.2", zero_in_place_without_return, "assigning through a mask changes a tensor in place"),
    ("02.2", lambda t: t, "nothing changed"),
    ("02.4", lambda t: t.t().view(-1), "view() needs contiguous memory"),
    ("02.4", lambda t: t.view(-1), "these are t's rows one after another"),
    ("02.4", lambda t: t.reshape(t.shape[1], t.shape[0]).reshape(-1), "these are t's rows one after another"),
    ("02.4", lambda t: t.flatten(), "Transpose first"),
    ("02.4", lambda t: t.t(), "the transpose itself"),
]


def test_every_idiomatic_answer_passes():
    answers = [
        ("02.1", lambda t, row, col: int(t[row - 1][col - 1])),
        ("02.3", lambda scores: scores.max(dim=1).indices),
        ("02.2", lambda t: t.clamp(min=0)),
        ("02.2", lambda t: torch.where(t < 0, torch.zeros_like(t), t)),
        ("02.2", lambda t: t * (t >= 0)),
        ("02.4", lambda t: t.T.contiguous().view(-1)),
        ("02.4", lambda t: t.t().flatten()),
    ]
    for exercise_id, answer in answers:
        result = check(exercise_id, answer)
        assert result.status == PASSED, result


def test_the_hints_of_02_do_not_lean_on_broadcasting_which_03_teaches():
    for exercise_id, attempt, _ in MISTAKES:
        assert "broadcast" not in check(exercise_id, attempt).message


def zero_negatives_of_t_itself(t):
    """Right values, but t is changed: the masked assignment is made on t, and a copy returned."""
    t[t < 0] = 0
    return t.clone()


def clamp_in_place(t):
    return t.clamp_(min=0)


# The rules 02's statements set beyond the value asked for.
RULES = [
    ("02.2", "t itself must not change", zero_negatives_of_t_itself, "changed its input `t`"),
    ("02.2", "t itself must not change", clamp_in_place, "changed its input `t`"),
]
