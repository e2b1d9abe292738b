"""Shared judgements: exact types first, then device, shape, dtype and values."""

import numpy as np
import torch

from helpers.checks.core import public_text
from helpers.checks.hints import mistake, mistake_of
from helpers.checks.judges import (
    judges_numbers,
    known_answer,
    known_number,
    not_a_float,
    not_a_loss_history,
    not_a_tuple,
    number_mismatch,
    numbers_mismatch,
    tensor_mismatch,
)


class ClaimsEquality:
    """A hostile answer: equal to anything, truthy, any shape you ask for."""

    def __eq__(self, other):
        return True

    def __bool__(self):
        return True

    shape = property(lambda self: (2,))


class TensorSubclass(torch.Tensor):
    pass


EXPECTED = torch.tensor([1.0, 2.0])


def test_the_expected_tensor_matches():
    assert tensor_mismatch(torch.tensor([1.0, 2.0]), EXPECTED) is None


def test_an_object_claiming_equality_is_not_a_tensor():
    assert "not a tensor" in tensor_mismatch(ClaimsEquality(), EXPECTED)


def test_a_tensor_subclass_is_refused():
    sub = torch.tensor([1.0, 2.0]).as_subclass(TensorSubclass)
    assert "subclass" in tensor_mismatch(sub, EXPECTED)


def test_none_list_and_numpy_answers_each_get_their_own_hint():
    assert "forget `return`" in tensor_mismatch(None, EXPECTED)
    assert "torch.tensor(...)" in tensor_mismatch([1.0, 2.0], EXPECTED)
    assert "numpy array" in tensor_mismatch(np.array([1.0, 2.0]), EXPECTED)


def test_column_against_flat_vector_names_the_extra_size_one_dimension():
    assert "a column of shape (N, 1) is not a vector of shape (N,)" in tensor_mismatch(torch.tensor([[1.0], [2.0]]), EXPECTED)


def test_transposed_shape_is_named():
    assert "swapped" in tensor_mismatch(torch.zeros(3, 2), torch.zeros(2, 3))


def test_float64_against_float32_mentions_numpy_default():
    hint = tensor_mismatch(torch.tensor([1.0, 2.0], dtype=torch.float64), EXPECTED)
    assert "torch.float64" in hint and "numpy" in hint


def test_int64_against_float_mentions_inference_from_ints():
    assert "infers int64" in tensor_mismatch(torch.tensor([1, 2]), EXPECTED)


def test_wrong_value_names_the_first_differing_index():
    assert public_text(tensor_mismatch(torch.tensor([1.0, 5.0]), EXPECTED)) == "the values differ at index [1]: you have 5.0, expected 2.0."


def test_a_tensor_that_requires_grad_is_compared_by_value():
    assert tensor_mismatch(torch.tensor([1.0, 2.0], requires_grad=True), EXPECTED) is None


def test_number_mismatch_wants_a_python_number():
    assert number_mismatch(2, 2) is None
    assert ".item()" in number_mismatch(torch.tensor(2), 2)
    assert "expected a Python int" in number_mismatch(True, 1)
    assert "expected a Python int" in number_mismatch(ClaimsEquality(), 2)
    assert public_text(number_mismatch(3, 2)) == "you returned 3, expected 2."


def _judge_recording_what_its_hint_saw():
    seen = []

    @judges_numbers(["a", "b"])
    def judge(got, case, expected):
        seen.append(got)
        return "swapped" if got == [expected[1], expected[0]] else None

    return judge, seen


def test_a_numbers_judge_settles_form_and_right_answers_before_its_hint_runs():
    judge, seen = _judge_recording_what_its_hint_saw()
    assert judge([1.0, 2.0], None, [1.0, 2.0]) is None
    assert "returned None" in judge(None, None, [1.0, 2.0])
    assert "3 values" in public_text(judge([1.0, 2.0, 3.0], None, [1.0, 2.0]))
    assert "b is a str" in judge([1.0, "2"], None, [1.0, 2.0])
    assert seen == []


def test_a_numbers_judge_gives_its_hint_else_the_first_number_that_differs():
    judge, seen = _judge_recording_what_its_hint_saw()
    assert judge([2.0, 1.0], None, [1.0, 2.0]) == "swapped"
    assert public_text(judge([1.0, 5.0], None, [1.0, 2.0])) == "b is 5, expected 2."
    assert seen == [[2.0, 1.0], [1.0, 5.0]]


def test_known_answer_stops_computing_wrong_answers_at_the_first_match():
    computed = []

    def wrong_answers():
        for answer, hint in [([1.0], "first"), ([2.0], "second"), ([3.0], "third")]:
            computed.append(hint)
            yield answer, hint

    assert known_answer([2.0], wrong_answers()) == "second"
    assert computed == ["first", "second"]
    assert known_answer([9.0], [([1.0], "first")]) is None



def test_not_a_float_wants_a_python_float_and_names_how_to_get_one():
    assert not_a_float(0.5, "b") is None
    assert mistake_of(not_a_float(torch.tensor(0.5), "b")) == "float-as-tensor" and ".item()" in not_a_float(torch.tensor(0.5), "b")
    assert mistake_of(not_a_float(np.float64(0.5), "b")) == "float-as-numpy" and "float(...)" in not_a_float(np.float64(0.5), "b")
    assert public_text(not_a_float(None, "b")) == "b is None — did you forget to return it?"
    assert mistake_of(not_a_float(1, "b")) == mistake_of(not_a_float(True, "b")) == "not-a-float"


def test_not_a_tuple_takes_a_tuple_or_list_of_the_size_asked_for():
    assert not_a_tuple((1, 2), 2, "the pair (w, b)") is None and not_a_tuple([1, 2], 2, "the pair (w, b)") is None
    assert mistake_of(not_a_tuple(None, 2, "the pair (w, b)")) == "returned-none"
    assert mistake_of(not_a_tuple(torch.zeros(2), 2, "the pair (w, b)")) == "tuple-as-tensor"
    assert public_text(not_a_tuple((1, 2, 3), 2, "the pair (w, b)")) == "you returned 3 values; return the pair (w, b)."
    assert mistake_of(not_a_tuple({"w": 1}, 2, "the pair (w, b)")) == "not-a-tuple"


def test_not_a_loss_history_wants_one_python_float_per_step():
    assert not_a_loss_history([0.5, 0.4], 2, "your list", "step") is None
    assert not_a_loss_history([0.5, float("nan")], 2, "your list", "step") is None  # what a nan means is the exercise's to say
    assert public_text(not_a_loss_history([0.5], 2, "your list", "step")) == "your list holds 1 losses for 2 steps: record one loss per step."
    assert mistake_of(not_a_loss_history(torch.tensor([0.5, 0.4]), 2, "your list", "step")) == "losses-as-tensor"
    assert mistake_of(not_a_loss_history([torch.tensor(0.5), 0.4], 2, "your list", "step")) == "losses-hold-tensors"
    assert mistake_of(not_a_loss_history([1, 0.4], 2, "your list", "step")) == "losses-hold-other"


def test_a_numbers_check_says_the_container_the_statement_asks_for():
    assert "expected a list of 2 Python floats [a, b]" in numbers_mismatch("x", [1.0, 2.0], ["a", "b"])
    assert "expected a tuple of 2 Python floats (a, b)" in numbers_mismatch("x", [1.0, 2.0], ["a", "b"], tuple)
    assert numbers_mismatch((1.0, 2.0), [1.0, 2.0], ["a", "b"]) is None


def test_known_number_names_the_first_wrong_answer_within_its_tolerance():
    wrong = [(0.5, mistake("x/halved", "halved.")), (2.0, mistake("x/doubled", "doubled."))]
    assert public_text(known_number(2.00001, 1.0, wrong, atol=1e-4)) == "you returned 2.0000, expected 1.0000: doubled."
    assert mistake_of(known_number(2.00001, 1.0, wrong, atol=1e-4)) == "x/doubled"
    assert known_number(2.001, 1.0, wrong, atol=1e-4) is None
    assert known_number(2.001, 1.0, wrong, atol=0.0, rtol=1e-3) is not None
