"""Notebook 03's checks: the exercise contract (tests/exercise_contract.py) with 03's mistakes."""

import numpy as np
import torch

from exercise_contract import *  # noqa: F403 - the contract's tests, collected here for notebook 03
from helpers.checks import check
from helpers.checks.core import PASSED

NOTEBOOK = "03"


def before_is_an_alias(a, b):
    before = a
    a.add_(b)
    return before, a


def add_without_underscore(a, b):
    before = a.clone()
    a.add(b)
    return before, a


MISTAKES = [
    ("03.1", lambda t: (t.sum() / t.numel()).long().float(), "the fraction is gone"),
    ("03.2", lambda values, width: torch.round(values / width).long(), "you rounded each quotient to the nearest"),
    ("03.1", lambda t: t.sum() // t.numel(), "Dividing integers with // (or a rounding mode) drops the fraction"),
    ("03.1", lambda t: torch.div(t.sum(), t.numel(), rounding_mode="trunc"), "drops the fraction"),
    ("03.1", lambda t: t.double().mean(), "expected torch.float32"),
    ("03.1", lambda t: torch.tensor(np.mean(t.numpy())), "NumPy, whose default float is float64"),
    ("03.1", lambda t: t.float().mean().item(), "return a tensor"),
    ("03.1", lambda t: t.float().mean().reshape(1), "a mean over all elements is a 0-dim tensor"),
    ("03.1", lambda t: t.mean(), "could not infer output dtype"),
    ("03.2", lambda values, width: values / width, "/ always divides exactly and returns floats"),
    ("03.2", lambda values, width: torch.div(values, width, rounding_mode="trunc"), "Bins round down, toward minus infinity"),
    ("03.2", lambda values, width: (values / width).long(), "rounding toward zero"),
    ("03.2", lambda values, width: (values / width).int(), "rounding toward zero"),
    ("03.2", lambda values, width: values // width + 1, "bins count from 0"),
    ("03.2", lambda values, width: values % width, "that is the remainder"),
    ("03.2", lambda values, width: (values / width).floor(), "expected torch.int64"),
    ("03.3", before_is_an_alias, "another name for the same tensor as a"),
    ("03.3", lambda a, b: (a, a.add_(b)), "another name for the same tensor as a"),
    ("03.3", add_without_underscore, "a.add(b) (without the underscore) returns a new tensor"),
    ("03.3", lambda a, b: a + b, "return a pair of two tensors"),
    ("03.4", lambda pred, y: ((pred - y) ** 2).mean(), "pred - y compared every prediction with every target"),
    ("03.4", lambda pred, y: (pred - y) ** 2, "silently"),
    ("03.4", lambda pred, y: ((pred.squeeze(1) - y) ** 2).sum(), "the sum of the squared errors"),
    ("03.4", lambda pred, y: (pred.squeeze(1) - y).abs().mean(), "the mean absolute error"),
    ("03.4", lambda pred, y: (pred.squeeze(1) - y).mean() ** 2, "you squared the mean error"),
    ("03.4", lambda pred, y: (pred.squeeze(1) - y) ** 2, "average them into one number"),
    ("03.4", lambda pred, y: ((pred.squeeze(1) - y) ** 2).mean().item(), "return a tensor"),
    ("03.5", lambda x: x - x.mean(dim=1), "keepdim=True"),
    ("03.5", lambda x: x - x.mean(dim=0), "dim=0 averages down the columns"),
    ("03.5", lambda x: x - x.mean(dim=0, keepdim=True), "dim=0 averages down the columns"),
    ("03.5", lambda x: x - x.mean(), "each row needs its own mean"),
]


def test_every_idiomatic_answer_passes():
    answers = [
        ("03.1", lambda t: t.to(torch.float32).mean()),
        ("03.1", lambda t: t.sum() / t.numel()),
        ("03.1", lambda t: t.mean(dtype=torch.float32)),
        ("03.2", lambda values, width: values // width),
        ("03.3", lambda a, b: (a.clone(), a.add_(b))),
        ("03.4", lambda pred, y: ((pred.view(-1) - y) ** 2).mean()),
        ("03.4", lambda pred, y: ((pred - y.unsqueeze(1)) ** 2).mean()),
        ("03.4", lambda pred, y: torch.nn.functional.mse_loss(pred[:, 0], y)),
        ("03.5", lambda x: (x.t() - x.mean(dim=1)).t()),
    ]
    for exercise_id, answer in answers:
        result = check(exercise_id, answer)
        assert result.status == PASSED, result


def test_the_non_square_broadcast_error_gets_a_hint_too():
    message = check("03.5", lambda x: x - x.mean(dim=1)).message
    assert "keepdim=True" in message  # the square public case comes first
    message = check("03.5", lambda x: x - x.mean(dim=1) if x.shape[0] != x.shape[1] else x - x.mean(dim=1, keepdim=True)).message
    assert "the shapes do not broadcast" in message


def add_through_data(a, b):
    before = a.clone()
    a.data = a + b
    return before, a


def add_in_place_return_a_copy(a, b):
    before = a.clone()
    a.add_(b)
    return before, a.clone()


def add_in_place_and_change_b(a, b):
    before = a.clone()
    a.add_(b)
    b.zero_()
    return before, a


# The rules 03's statements set beyond the value asked for: 03.3 changes a in place (Exercise.in_place)
# and returns a itself; b is left as it was.
RULES = [
    ("03.3", "adds b to a in place, with add_", lambda a, b: (a.clone(), a + b), "still holds its old values"),
    ("03.3", "adds b to a in place, with add_", lambda a, b: (a.clone(), a.add(b)), "still holds its old values"),
    ("03.3", "adds b to a in place, in a's own memory", add_through_data, "points at new memory"),
    ("03.3", "returns a after the addition", add_in_place_return_a_copy, "return `a` itself"),
    ("03.3", "b is not changed", add_in_place_and_change_b, "changed its input `b`"),
]
