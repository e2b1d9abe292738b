"""The rules every exercise's check keeps (helpers.checks.rules); each exercise's own are in its RULES."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers.checks import rules
from helpers.checks.core import clone_case
from helpers.grading import kernel_side

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("answer", [torch.full((2, 2), math.nan), torch.tensor([1.0, math.inf]), math.nan, [1.0, -math.inf],
                                    (torch.ones(2), {"b": math.nan}), np.array([np.nan])])
def test_nan_or_infinity_is_refused_where_the_right_answer_is_finite(answer):
    assert "NaN or infinity" in rules.non_finite(answer, torch.ones(2))


def test_finite_answers_and_answers_where_the_right_one_is_not_finite_are_left_to_the_judge():
    assert rules.non_finite(torch.ones(3), torch.zeros(3)) is None
    assert rules.non_finite(torch.tensor([3, 4]), torch.tensor([3, 4])) is None  # integers hold no NaN
    assert rules.non_finite(torch.full((2,), math.inf), torch.tensor([1.0, math.inf])) is None
    assert rules.non_finite(torch.zeros(2, device="meta"), torch.zeros(2, device="meta")) is None


def test_same_content_compares_tensors_by_value_and_containers_item_by_item():
    assert rules.same_content({"w": [torch.ones(2)], "n": 3}, {"w": [torch.ones(2)], "n": 3})
    assert rules.same_content(torch.tensor([math.nan, 1.0]), torch.tensor([math.nan, 1.0]))
    assert not rules.same_content(torch.ones(2), torch.ones(2, dtype=torch.float64))
    assert not rules.same_content([1.0, 2.0], (1.0, 2.0))
    assert not rules.same_content({"w": [[1.0]]}, {"w": [[2.0]]})


def test_a_dict_changed_through_a_shallow_copy_is_seen_as_changed():
    params = {"W": torch.ones(2), "sizes": [[1.0, 2.0]]}
    before = clone_case((params,))
    shallow = dict(params)
    shallow["W"].mul_(2)  # the tensor is params' own
    assert not rules.same_content(before[0], params)
    params["W"].div_(2)
    shallow["sizes"][0][0] = 5.0  # so is the nested list
    assert not rules.same_content(before[0], params)


def test_clone_case_copies_deeply_and_keeps_requires_grad_on_a_leaf():
    pred = torch.ones(3, 1, requires_grad=True)
    case = ({"x": torch.zeros(2), "rows": [[1.0]]}, pred)
    copy = clone_case(case)
    copy[0]["x"].add_(1)
    copy[0]["rows"][0][0] = 9.0
    assert torch.equal(case[0]["x"], torch.zeros(2)) and case[0]["rows"] == [[1.0]]
    assert copy[1].requires_grad and copy[1].is_leaf and copy[1] is not pred


def add_in_place(a, b):
    return a.add_(b)


def swap_memory(a, b):
    a.data = a + b
    return (a.clone(), b)


def loss_of(pred, y):
    return ((pred - y) ** 2).mean()


def detached_loss(pred, y):
    return ((pred.detach() - y) ** 2).mean()


def residuals(pred, y):
    return pred - y


@pytest.mark.parametrize(("function", "facts"), [
    (add_in_place, {"returned": [0], "moved": [], "gradient_to": []}),
    (swap_memory, {"returned": [1], "moved": [0], "gradient_to": []}),
    (loss_of, {"returned": [], "moved": [], "gradient_to": [0]}),
    (detached_loss, {"returned": [], "moved": [], "gradient_to": []}),
    (residuals, {"returned": [], "moved": [], "gradient_to": [0]}),
    (lambda a, b: 3, {"returned": [], "moved": [], "gradient_to": []}),
])
def test_the_facts_of_a_call_are_the_same_in_the_notebook_and_in_the_students_kernel(function, facts):
    """kernel_side.observe repeats rules.observe (the kernel cannot import helpers): they must agree."""
    def case():
        return (torch.ones(3, requires_grad=function in (loss_of, detached_loss, residuals)), torch.tensor([1.0, 2.0, 3.0]))

    ours = case()
    storage = rules.storage_of(ours)
    assert rules.observe(ours, storage, function(*ours)) == facts
    theirs = case()
    storage = kernel_side.storage_of(theirs)
    assert kernel_side.observe(theirs, storage, function(*theirs)) == facts


def test_numbers_passed_back_are_not_taken_for_the_argument_itself():
    """Python shares small ints: returning the argument `n` says nothing about changing it."""
    arguments = (5, [1.0])
    assert rules.observe(arguments, rules.storage_of(arguments), 5)["returned"] == []
    assert rules.observe(arguments, rules.storage_of(arguments), arguments[1])["returned"] == [1]


def test_the_kernel_carries_the_arguments_as_the_call_left_them():
    def zero_first(t):
        t[0] = 0.0
        return t.sum()

    record = kernel_side.call_cases(zero_first, [(torch.tensor([5.0, 1.0]),)], 1000)[0]
    assert torch.equal(record["arguments"][0], torch.tensor([0.0, 1.0]))
    assert record["facts"] == {"returned": [], "moved": [], "gradient_to": []}


def test_finding_where_the_gradient_reaches_imports_no_sympy():
    """torch imports sympy (0.3 s) when given an output's gradient; a learner's first check should not pay for it."""
    code = ("import sys, torch\nfrom helpers.checks import rules\nw = torch.ones(3, requires_grad=True)\n"
            "assert rules.gradient_reaches((w,), w * 2) == [0]\nprint('sympy' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.stdout.strip() == "False", run.stderr[-2000:]
