"""The tests every notebook's exercises must pass; a `tests/test_checks_nnNN.py` file imports them.

    from exercise_contract import *  # noqa: F403 - the contract's tests, collected in this module
    NOTEBOOK = "02"
    MISTAKES = [("02.1", lambda t: ..., "a phrase of the hint it must get"), ...]
    RULES = [("02.2", "t itself must not change", an_answer_that_changes_t, "changed its input `t`"), ...]

`conftest.py` parametrizes `exercise_id` over the notebook's exercises, `mistake` over MISTAKES and
`rule` over RULES: every rule an exercise's statement sets beyond the value it asks for (an input
left unchanged, a change in place, a loss that backward() runs through, a device), each with an
answer that breaks only that rule and a phrase of the hint it must get. A rule that cannot be seen
here has `Unseen("why")` in place of the answer, and its test is skipped with that reason.
The contract: the reference passes its public and hidden cases; each recognised mistake and each
broken rule gets its own hint in the notebook, named by the catalogue's id of that hint, a hint that does not hand over the reference's code,
and scores 0 when graded on hidden cases (no case too small to expose it); an answer holding NaN or
infinity where the right one is finite fails; junk input gets a message, never a traceback; the
student release's placeholder is "not attempted"; the grader's feedback on a hidden
case quotes none of its numbers.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib
import inspect
import io
import math
import random
import textwrap
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from helpers.checks import EXERCISES, catalogue, check, public_examples
from helpers.checks.core import FAILED, NOT_ATTEMPTED, PASSED, Case, clone_case, deep_copy, time_limit
from helpers.grading import cases as hidden
from helpers.grading import judge, kernel_side
from helpers.grading.answer_free import stripped_functions
from helpers.grading.record import ExerciseGrade, Status
from helpers.grading.strip import squeeze

SECRETS = ("contract-a", "contract-b", "contract-c")


def raises_type_error(*args):
    raise TypeError("unsupported operand")


def forgot_return(*args):
    torch.zeros(1)


JUNK = [None, 3, "text", [1, 2], np.array([1.0]), torch.tensor([1.0], requires_grad=True), raises_type_error,
        forgot_return, lambda *args: "text", lambda *args: torch.zeros(2, device="meta"),
        lambda *args: torch.tensor([1.0], requires_grad=True), lambda *args: object(),
        lambda *args: [1.0, 2.0], lambda *args: np.zeros(3), lambda *args: float("nan")]


@functools.cache
def drawn_once(exercise_id: str, secret: str) -> tuple[list, list]:
    """The exercise's hidden cases for `secret` and the reference's results on them, computed once per test process.

    Hundreds of tests grade against the same few (exercise, secret) pairs; use `hidden_cases_and_results`.
    """
    exercise = EXERCISES[exercise_id]
    cases = hidden.hidden_cases(exercise, secret)
    return cases, hidden.expected_results(exercise, cases)


def hidden_cases_and_results(exercise_id: str, secret: str) -> tuple[list, list]:
    """A fresh deep copy of `drawn_once`'s cases and results: an answer that changes its inputs changes only this copy."""
    return deep_copy(drawn_once(exercise_id, secret))


def graded(exercise_id: str, attempt, secret: str) -> ExerciseGrade:
    """Grade `attempt` on the hidden cases exactly as the class grader does, in this process.

    Cases and results travel through torch.save / torch.load(weights_only=True) as they do between
    the grader and a student's kernel, and each case runs with the grader's seeds.
    """
    exercise = EXERCISES[exercise_id]
    cases, expected = hidden_cases_and_results(exercise_id, secret)
    sent = round_trip(cases)
    record = round_trip({"status": "ran", "cases": kernel_side.call_cases(attempt, sent, hidden.CASE_SEED_BASE)})
    return judge.score(exercise, cases, expected, record)


def round_trip(value):
    """`value` after torch.save and torch.load(weights_only=True): data only, as the grader sees it."""
    buffer = io.BytesIO()
    torch.save(value, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def reference_code(exercise_id: str) -> list[str]:
    """The reference solution's statements (returned expressions without `return`), whitespace-free."""
    function = EXERCISES[exercise_id].reference
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    body = tree.body[0].body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    pieces = []
    for statement in body:
        node = statement.value if isinstance(statement, ast.Return) and statement.value is not None else statement
        pieces.append(squeeze(ast.unparse(node)))
    return [piece for piece in pieces if len(piece) >= 6]


def test_reference_solution_passes_its_public_cases(exercise_id):
    torch.manual_seed(0)
    assert check(exercise_id, EXERCISES[exercise_id].reference).status == PASSED


def test_reference_solution_scores_full_marks_on_hidden_cases(exercise_id):
    for secret in SECRETS:
        grade = graded(exercise_id, EXERCISES[exercise_id].reference, secret)
        assert grade.status == Status.PASSED, (secret, grade.message)


def test_cases_and_results_are_data_that_can_be_shipped(exercise_id):
    """The grader sends hidden cases to a kernel, and the student release ships public cases and results."""
    exercise = EXERCISES[exercise_id]
    for cases in (exercise.public_cases(), hidden_cases_and_results(exercise_id, SECRETS[0])[0]):
        assert cases and all(type(case) is tuple for case in cases)
        assert len(round_trip(cases)) == len(cases)
        assert len(round_trip([exercise.reference(*clone_case(case)) for case in cases])) == len(cases)


def test_recognised_mistake_gets_its_hint(mistake):
    exercise_id, attempt, hint = mistake
    torch.manual_seed(0)
    result = check(exercise_id, attempt)
    assert result.status == FAILED, result
    assert hint in result.message, result.message


def test_recognised_mistake_is_named_by_the_id_of_its_hint(mistake):
    """The check result carries the catalogue's id of the mistake it recognised (helpers.checks.catalogue): an id
    of this exercise (or notebook) or a course-wide one, never a hint without an id, and the catalogue's hint for
    that id is the one given. The grader's record names it too (test_recognised_mistake_scores_zero_when_graded)."""
    exercise_id, attempt, _ = mistake
    torch.manual_seed(0)
    result = check(exercise_id, attempt)
    assert_named(exercise_id, result.mistake, result.message)


def assert_named(exercise_id: str, mistake_id: str, message: str) -> None:
    """`mistake_id` is catalogued, belongs to `exercise_id` (or is course-wide), and its hint template matches `message`."""
    if mistake_id.startswith("error/"):
        assert message.startswith("it raised "), (mistake_id, message)
        return
    entry = next((e for e in catalogue.all_entries() if e.id == mistake_id), None)
    assert entry is not None, f"{mistake_id!r} is not in the catalogue ({message})"
    assert entry.owner in ("", exercise_id, exercise_id[:2]), (mistake_id, exercise_id)
    pieces = [piece.strip() for piece in entry.hint.split(catalogue.GAP) if len(piece.strip()) >= 4]
    assert all(piece in message for piece in pieces), (mistake_id, entry.hint, message)


def test_hint_names_the_mistake_without_handing_over_the_solution(mistake):
    exercise_id, attempt, _ = mistake
    torch.manual_seed(0)
    message = squeeze(check(exercise_id, attempt).message)
    for piece in reference_code(exercise_id):
        assert piece not in message, f"the hint gives away the reference's `{piece}`"


def test_recognised_mistake_scores_zero_when_graded(mistake):
    exercise_id, attempt, _ = mistake
    for secret in SECRETS:
        grade = graded(exercise_id, attempt, secret)
        assert grade.points == 0, (secret, grade.message)
        assert_named(exercise_id, grade.mistake, grade.message.split(". ", 1)[1])  # the feedback's hint, after "k of n hidden cases passed."


@dataclass(frozen=True)
class Unseen:
    """In RULES, in place of a breaking answer: the rule cannot be seen in these tests, and why."""

    why: str


def test_an_answer_breaking_a_stated_rule_fails_with_its_hint(rule):
    exercise_id, _, attempt, hint = rule
    if isinstance(attempt, Unseen):
        pytest.skip(attempt.why)
    torch.manual_seed(0)
    result = check(exercise_id, attempt)
    assert result.status == FAILED, result
    assert hint in result.message, result.message
    assert_named(exercise_id, result.mistake, result.message)
    for piece in reference_code(exercise_id):
        assert piece not in squeeze(result.message), f"the hint gives away the reference's `{piece}`"


def test_an_answer_breaking_a_stated_rule_scores_zero_when_graded(rule):
    exercise_id, _, attempt, _ = rule
    if isinstance(attempt, Unseen):
        pytest.skip(attempt.why)
    for secret in SECRETS:
        grade = graded(exercise_id, attempt, secret)
        assert grade.points == 0, (secret, grade.message)


def test_every_rule_an_exercise_declares_is_listed_with_a_breaking_answer(exercise_id, rules):
    exercise = EXERCISES[exercise_id]
    listed = [attempt for key, _, attempt, _ in rules if key == exercise_id and not isinstance(attempt, Unseen)]
    declared = (exercise.in_place is not None) + len(exercise.gradient_to)
    assert len(listed) >= declared, f"{exercise_id} declares {declared} rule(s) on its Exercise; RULES lists {len(listed)} breaking answer(s)"


def change_in_place(value) -> bool:
    """Change `value` where it lives (a tensor's elements, a list's or dict's items, deep), if it can be; True when it was."""
    if type(value) is torch.Tensor and value.numel() and value.device.type != "meta":
        with torch.no_grad():
            value.view(-1)[0] += 1  # into the argument's own memory, as a slip with an in-place operation would
        return True
    if type(value) is list:
        if not (value and change_in_place(value[0])):
            value.append(0)
        return True
    if type(value) is dict:
        return any(change_in_place(item) for item in value.values())
    return False


def test_a_right_answer_that_changes_an_argument_fails(exercise_id):
    """Every exercise: the arguments stay as they were, except the one an `in_place` exercise changes."""
    exercise = EXERCISES[exercise_id]

    def changes_an_argument(*args):
        result = exercise.reference(*args)
        for i, arg in enumerate(args):
            if i != exercise.in_place:
                change_in_place(arg)
        return result

    cases = exercise.public_cases()
    if not any(change_in_place(arg) for case in clone_case(tuple(cases)) for i, arg in enumerate(case) if i != exercise.in_place):
        pytest.skip("every argument is a Python number or string, which a function cannot change")
    torch.manual_seed(0)
    result = check(exercise_id, changes_an_argument)
    assert result.status == FAILED and "changed its input" in result.message, result
    for secret in SECRETS:
        grade = graded(exercise_id, changes_an_argument, secret)
        assert grade.points == 0, (secret, grade.message)


def filled(value, number: float):
    """`value` with every floating-point number replaced by `number` (NaN or infinity): tensors filled in
    their own memory, so a result that is one of the arguments stays that argument; containers rebuilt."""
    if type(value) is float:
        return number
    if type(value) is torch.Tensor and value.is_floating_point():
        with torch.no_grad():
            value.detach().fill_(number)
        return value
    if type(value) in (list, tuple):
        return type(value)(filled(item, number) for item in value)
    if type(value) is dict:
        return {key: filled(item, number) for key, item in value.items()}
    return value


def holds_a_float(value) -> bool:
    """True when `value` holds a floating-point number that `filled` replaces."""
    if type(value) is float:
        return True
    if type(value) is torch.Tensor:  # a meta tensor has no values to fill
        return value.is_floating_point() and value.numel() > 0 and value.device.type != "meta"
    if type(value) in (list, tuple):
        return any(holds_a_float(item) for item in value)
    if type(value) is dict:
        return any(holds_a_float(item) for item in value.values())
    return False


@pytest.mark.parametrize("number", [math.nan, math.inf], ids=["nan", "inf"])
def test_an_answer_holding_nan_or_infinity_fails(exercise_id, number):
    """A judge that rejects only on a true comparison lets NaN through (every comparison with it is false)."""
    exercise = EXERCISES[exercise_id]
    if not any(holds_a_float(want) for want in public_examples(exercise)[1]):
        pytest.skip("the answer holds no floating-point number, so it has no NaN or infinite version")

    def non_finite(*args):
        return filled(exercise.reference(*args), number)

    torch.manual_seed(0)
    result = check(exercise_id, non_finite)
    assert result.status == FAILED and "the check itself failed" not in result.message, result
    for secret in SECRETS:  # every case whose answer holds a float fails (02.4's hidden cases are integers, one of 04.1's is meta)
        floats = [holds_a_float(want) for want in hidden_cases_and_results(exercise_id, secret)[1]]
        grade = graded(exercise_id, non_finite, secret)
        assert grade.cases_passed <= floats.count(False), (secret, grade.message)


def numbers_in(value) -> list[float]:
    """Every number in a case or a result: tensor elements, Python numbers, inside lists, tuples and dicts."""
    if isinstance(value, torch.Tensor):  # a meta tensor has a shape and no numbers
        return [] if value.device.type == "meta" else [float(v) for v in value.detach().flatten().tolist()]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [number for item in value for number in numbers_in(item)]
    return [float(value)] if isinstance(value, (int, float)) else []


def spellings(number: float) -> set[str]:
    """The ways a hint might print `number`, keeping those with at least three digits (too specific to be chance)."""
    texts = {repr(number), f"{number:g}", f"{number:.3g}", f"{number:.4g}", f"{number:.6g}", f"{number:.3f}", f"{number:.4f}"}
    if number == int(number):
        texts.add(str(int(number)))
    return {text for text in texts if sum(ch.isdigit() for ch in text.lstrip("-0.")) >= 3}


def test_feedback_on_hidden_cases_quotes_none_of_their_numbers(mistake):
    """The grader's feedback names the mistake; the hidden inputs and expected values stay hidden."""
    exercise_id, attempt, _ = mistake
    for secret in SECRETS:
        numbers = numbers_in(list(hidden_cases_and_results(exercise_id, secret)))
        message = graded(exercise_id, attempt, secret).message
        leaked = {text for number in numbers for text in spellings(number) if text in message}
        assert not leaked, (secret, leaked, message)


def test_junk_input_gets_a_message_not_a_traceback(exercise_id):
    for junk in JUNK:
        result = check(exercise_id, junk)
        assert result.status == FAILED, (junk, result)
        assert result.message and "the check itself failed" not in result.message, result.message
        assert "Traceback" not in repr(result)


def test_public_cases_do_not_depend_on_the_global_random_state(exercise_id):
    """The student release ships them computed once; the course computes them at each check."""
    exercise = EXERCISES[exercise_id]
    torch.manual_seed(1)
    first = round_trip(exercise.public_cases())
    torch.manual_seed(2)
    assert repr(round_trip(exercise.public_cases())) == repr(first)


def test_reference_and_hidden_cases_are_module_level_functions_the_release_can_strip(exercise_id):
    module = importlib.import_module(f"helpers.checks.nb{exercise_id[:2]}")
    assert stripped_functions(module)  # raises ReleaseError naming the one that is not


def placeholder(*args):
    """What the student release leaves."""
    ...


def test_student_release_check_agrees_with_the_course_on_the_reference_and_placeholder(exercise_id, student_check):
    for answer in (EXERCISES[exercise_id].reference, placeholder):
        torch.manual_seed(0)
        ours = repr(check(exercise_id, answer))
        torch.manual_seed(0)
        assert repr(student_check(exercise_id, answer)) == ours


def test_student_release_check_agrees_with_the_course_on_each_mistake(mistake, student_check):
    exercise_id, attempt, _ = mistake
    torch.manual_seed(0)
    ours = repr(check(exercise_id, attempt))
    torch.manual_seed(0)
    assert repr(student_check(exercise_id, attempt)) == ours


def test_student_release_placeholder_is_not_attempted(exercise_id):
    assert check(exercise_id, placeholder).status == NOT_ATTEMPTED
    assert check(exercise_id).status == NOT_ATTEMPTED



def layouts(case: Case) -> list[Case]:
    """The case as given and, where it holds 1-D tensors, with each as an (N, 1) column: the course's two layouts of data."""
    columns = tuple(arg[:, None] if type(arg) is torch.Tensor and arg.dim() == 1 else arg for arg in case)
    return [case] if all(a is b for a, b in zip(case, columns, strict=True)) else [case, columns]


def one_step_from(number: float) -> list[float]:
    """What a learner gets from `number` with one obvious operation: itself, twice, half, and the inverse of each."""
    scaled = [number, 2 * number, number / 2]
    return scaled + [1 / value for value in scaled if value]


def holds_the_answer(result, answer) -> bool:
    """True when `result` (or one item of it) holds the numbers of `answer`; for a one-number answer that is
    not a whole number, also when a number of `result` is one step from it (`one_step_from`: 2 / λ from λ)."""
    want = numbers_in(answer)
    if not want:
        return False
    items = [result, *result] if type(result) in (tuple, list) else [result]
    for item in items:
        have = numbers_in(item)
        if len(have) == len(want) and all(math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-8) for a, b in zip(have, want, strict=True)):
            return True
    if len(want) == 1 and math.isfinite(want[0]) and not want[0].is_integer():
        return any(math.isclose(value, want[0], rel_tol=1e-5) for number in numbers_in(result) if math.isfinite(number)
                   for value in one_step_from(number))
    return False


def called(function, case: Case):
    """`function(*case)` on a copy of the case, or None when it does not take such arguments, fails or is slow."""
    arguments = clone_case(case)
    try:
        inspect.signature(function).bind(*arguments)
    except (TypeError, ValueError):
        return None
    generators = random.getstate(), np.random.get_state()  # `setup(n)` seeds them; torch's is forked below
    with torch.random.fork_rng(devices=[]), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with time_limit(2):
                return function(*arguments)
        except Exception:  # noqa: BLE001 - a helper that refuses these arguments computes nothing from them
            return None
        finally:
            random.setstate(generators[0])
            np.random.set_state(generators[1])


def guessable(answer) -> bool:
    """True for an answer that is one small whole number (a rank, a count, an index): a helper that returns
    one, or a True or False, by chance gives nothing away."""
    numbers = numbers_in(answer)
    return len(numbers) == 1 and numbers[0].is_integer() and abs(numbers[0]) < 10


def test_no_helper_of_the_student_release_computes_the_answer(exercise_id, student_callables):
    """What the release ships beside the checks must not answer the exercise: every function and class of its
    `helpers`, called on each public case (as given, and with vectors as columns), returns nothing that
    holds the expected answer or a number one step from it. The release's text search cannot see this:
    a helper that computes the answer another way than the reference passes it."""
    cases, expected = public_examples(EXERCISES[exercise_id])
    found = set()
    for case, answer in zip(cases, expected, strict=True):
        if guessable(answer) or any(holds_the_answer(argument, answer) for argument in case):
            continue  # nothing to give away: a small whole number, or the answer is in the question (an input unchanged)
        for name, function in student_callables.items():
            for arguments in layouts(case):
                result = called(function, arguments)
                if result is not None and holds_the_answer(result, answer):
                    found.add(name)
    assert not found, f"the student release's {sorted(found)} compute(s) exercise {exercise_id}'s answer from its public inputs"


__all__ = [name for name in dir() if name.startswith("test_")]
