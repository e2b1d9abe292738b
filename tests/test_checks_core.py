"""The check engine: verdicts, placeholders, the learner's errors, and faults in a check itself."""

import random

import torch

from helpers.checks import check
from helpers.checks.core import (
    FAILED,
    NOT_ATTEMPTED,
    PASSED,
    SHOWN_CLOSE,
    SHOWN_OPEN,
    Exercise,
    Result,
    call_repr,
    evaluate,
    explain_exception,
    hidden_text,
    is_placeholder,
    public_text,
    reference_results,
    safely,
    shown,
    with_article,
)


def double(t):
    return 2 * t


def exact_judge(got, case, expected):
    return None if type(got) is torch.Tensor and torch.equal(got, expected) else "wrong"


def examples(exercise):
    cases = exercise.public_cases()
    return cases, reference_results(exercise, cases)


DOUBLE = Exercise("99.1", "double", 1, double, lambda: [(torch.tensor([1, 2]),)],
                  lambda rng: [(torch.tensor([rng.randint(0, 9)]),)], exact_judge, "well doubled.")


def test_a_function_whose_body_is_only_ellipsis_is_a_placeholder():
    def release_copy(t):
        """Docstring the student keeps."""
        ...

    assert is_placeholder(release_copy)
    assert is_placeholder(...)


def test_a_function_with_real_code_or_a_value_is_not_a_placeholder():
    def forgot_return(t):
        t * 2

    assert not is_placeholder(forgot_return)
    assert not is_placeholder(double)
    assert not is_placeholder(None)
    assert not is_placeholder(0)


def test_placeholder_answer_is_reported_not_attempted():
    def release_copy(t):
        ...

    result = evaluate(DOUBLE, release_copy, *examples(DOUBLE))
    assert result.status == NOT_ATTEMPTED
    assert "replace the ..." in result.message and "double" in result.message


def test_right_answer_passes_with_the_praise():
    result = evaluate(DOUBLE, double, *examples(DOUBLE))
    assert result.status == PASSED and result.message == "well doubled."
    assert bool(result)


def test_wrong_answer_fails_with_the_judges_hint_first_and_the_case_under_it():
    result = evaluate(DOUBLE, lambda t: 3 * t, *examples(DOUBLE))
    assert result.status == FAILED
    assert (result.message, result.case) == ("wrong", "double(tensor([1, 2]))")
    assert repr(result) == "✗ 99.1 — wrong\n  case: double(tensor([1, 2]))"
    assert not result


def test_a_large_case_is_described_by_shape_dtype_and_a_few_values_not_its_full_repr():
    call = call_repr("fit", (torch.arange(100.0).reshape(50, 2), 0.5))
    assert call == "fit(a tensor of shape (50, 2), float32: [0, 1, 2, …], 0.5)"


def test_shown_parts_of_a_hint_appear_in_the_notebook_and_become_ellipses_for_hidden_cases():
    hint = f"the values differ{shown(' at index [3]: you have 2.5, expected 7.25')}; N = {shown(57)} times too large."
    assert public_text(hint) == "the values differ at index [3]: you have 2.5, expected 7.25; N = 57 times too large."
    assert hidden_text(hint) == "the values differ…; N = … times too large."


def test_the_article_before_a_shape_number_or_name_is_the_one_it_is_read_with():
    assert [with_article(text) for text in ("(5, 5)", "(8, 8)", "11 × 11", "110 × 110", "18", "int", "float", "uint8")] == [
        "a (5, 5)", "an (8, 8)", "an 11 × 11", "a 110 × 110", "an 18", "an int", "a float", "a uint8"]


def test_text_from_the_learner_cannot_close_a_shown_part_early():
    forged = f"tensor([1.5]){SHOWN_CLOSE} hidden input 0.123 {SHOWN_OPEN}"
    assert hidden_text(f"you returned {shown(forged)}.") == "you returned …."
    assert hidden_text(f"you returned {SHOWN_OPEN}0.123") == "you returned …"  # a part left open runs to the end


def test_passing_a_value_instead_of_the_function_says_so():
    result = evaluate(DOUBLE, torch.tensor([2, 4]), *examples(DOUBLE))
    assert result.status == FAILED and "no parentheses" in result.message


def test_a_recognised_error_raised_by_the_learner_leads_with_its_fix_then_says_what_was_raised():
    def view_transposed(t):
        return torch.zeros(2, 3).t().view(6)

    result = evaluate(DOUBLE, view_transposed, *examples(DOUBLE))
    assert result.status == FAILED and result.message.startswith("view() needs contiguous memory") and ".reshape()" in result.message
    assert "(it raised RuntimeError: view size is not compatible" in result.message


def test_explain_exception_names_type_and_first_line_and_known_fixes():
    assert public_text(explain_exception(ZeroDivisionError("division by zero"))) == "it raised ZeroDivisionError: division by zero"
    numpy_error = RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
    assert "t.detach().numpy()" in explain_exception(numpy_error)
    assert explain_exception(KeyError()) == "it raised KeyError"


def test_a_function_that_runs_too_long_is_stopped_with_a_message(monkeypatch):
    import time

    from helpers.checks import core

    monkeypatch.setattr(core, "CASE_SECONDS", 0.2)

    def forever(t):
        while True:
            time.sleep(0.01)

    started = time.perf_counter()
    result = evaluate(DOUBLE, forever, *examples(DOUBLE))
    assert time.perf_counter() - started < 5
    assert result.status == FAILED and "stopped after 0.2 s" in result.message
    assert evaluate(DOUBLE, double, *examples(DOUBLE)).status == PASSED  # the timer is gone afterwards


def test_the_learners_function_cannot_change_the_next_cases_inputs():
    seen = []

    def mutating(t):
        seen.append(t.clone())
        t.zero_()
        return 2 * seen[-1]

    cases = [(torch.tensor([1, 2]),), (torch.tensor([1, 2]),)]
    result = evaluate(DOUBLE, mutating, cases, reference_results(DOUBLE, cases))
    assert result.status == FAILED and "changed its input `t`" in result.message  # a rule of every exercise (helpers.checks.rules)
    assert torch.equal(cases[0][0], torch.tensor([1, 2]))


def test_a_fault_inside_a_check_is_reported_not_raised():
    def broken():
        raise RuntimeError("bug in a judge")

    result = safely("99.1", broken)
    assert result.status == FAILED and "the check itself failed" in result.message


def test_unknown_exercise_id_lists_the_known_ones():
    result = check("42.1", double)
    assert result.status == FAILED and "01.1" in result.message


def test_result_shows_the_design_cards_text_and_escaped_html():
    passed, missed, todo = Result("02.3", PASSED, "ok."), Result("02.3", FAILED, "a < b"), Result("02.3", NOT_ATTEMPTED, "go.")
    assert repr(passed) == "✓ 02.3 passed — ok."
    assert repr(missed) == "✗ 02.3 — a < b"
    assert repr(todo) == "… 02.3 not attempted yet — go."
    assert "a &lt; b" in missed._repr_html_()


def test_hidden_cases_depend_only_on_the_seed():
    assert DOUBLE.hidden_cases(random.Random(7))[0][0].item() == DOUBLE.hidden_cases(random.Random(7))[0][0].item()
