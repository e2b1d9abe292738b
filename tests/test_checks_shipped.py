"""helpers.checks.shipped: grader-only check code, and what the answer-free copy reads in its place."""

from __future__ import annotations

import importlib

import torch

from conftest import student_helpers
from helpers.checks import EXERCISES, nb08
from helpers.checks.shipped import same_data


def test_in_the_course_a_derived_function_computes_on_any_case():
    """The course's hidden-case generators and the grader's judges call it on cases no file holds."""
    cases = EXERCISES["08.2"].public_cases()
    ours = [nb08.input_mistakes(*case) for case in cases]
    assert len(ours) == 2 and all(len(answers) == len(nb08.INPUT_MISTAKES) for answers in ours)
    other = ([0.25, -0.75], *cases[0][1:])
    assert nb08.input_mistakes(*other) != ours[0]  # computed in the course, for any case


def test_the_release_ships_each_mistakes_answer_on_a_public_case_but_not_the_code(student_course):
    cases = EXERCISES["08.2"].public_cases()
    other = ([0.25, -0.75], *cases[0][1:])
    with student_helpers(student_course):
        theirs = importlib.import_module("helpers.checks.nb08")
        shipped = [theirs.input_mistakes(*case) for case in cases]
        elsewhere = theirs.input_mistakes(*other)
        model = theirs.by_hand(*cases[0])
    assert shipped == [nb08.input_mistakes(*case) for case in cases]
    assert elsewhere is None and model is None  # no body: nothing computed from a case the release does not know


def test_same_data_compares_tensors_by_dtype_and_value_and_containers_item_by_item():
    assert same_data(([1.0, 2.0], {"w": torch.ones(2)}), ([1.0, 2.0], {"w": torch.ones(2)}))
    assert not same_data((torch.ones(2),), (torch.ones(2, dtype=torch.float64),))
    assert not same_data(([1.0, 2.0],), ((1.0, 2.0),))
    assert not same_data(({"w": 1.0},), ({"w": 1.0, "b": 0.0},))
    assert not same_data((1,), (1.0,))
