"""A hint's text together with the stable id of the misconception it names.

`mistake("01.3/low-bound-included", f"...")` is how a judge says what it recognised: an id `NN.K/slug`
belongs to exercise NN.K, `NN/slug` to notebook NN (a judgement its exercises share), and an id
without a number (`shape-size-1`) is one course-wide mistake that many exercises share. The learner
reads only the text; the grader's records and the class report count the ids. helpers.checks.catalogue
lists every id with its hint; tests/test_checks_mistakes.py keeps each id to one mistake.
"""

from __future__ import annotations

# The ids of what is not a judged misconception: a placeholder left, a call stopped, a non-function passed,
# and a hint that carries no id (the catalogue test, tests/test_checks_mistakes.py, allows none in the course).
NOT_ATTEMPTED_ID, TIMEOUT_ID, NOT_A_FUNCTION_ID, UNNAMED_ID = "not-attempted", "timeout", "not-a-function", "unnamed"
# What only the grader sees: the function not defined after the notebook ran, a case without a result or without
# the record of its arguments, a result the judge could not compare, and an exception class of the student's own.
FUNCTION_MISSING_ID, NO_RESULT_ID, NO_ARGUMENTS_ID, NOT_COMPARABLE_ID, OWN_EXCEPTION_ID = (
    "function-missing", "no-result", "no-arguments-record", "not-comparable", "error/own-exception")
# What each of those ids means, as the catalogue (helpers.checks.catalogue) and the class report show it.
NOT_JUDGED = {
    NOT_ATTEMPTED_ID: "the placeholder ... is still there.",
    TIMEOUT_ID: "it ran past the time limit.",
    NOT_A_FUNCTION_ID: "the answer is not a function.",
    FUNCTION_MISSING_ID: "the function is not defined after the notebook ran (renamed, or its cell failed).",
    NO_RESULT_ID: "no result was recorded for a case (the grading cell did not finish).",
    NO_ARGUMENTS_ID: "no record of the arguments after the call was kept for a case.",
    NOT_COMPARABLE_ID: "the result could not be compared with the expected one.",
    OWN_EXCEPTION_ID: "it raised an exception of a class of its own.",
}


class Hint(str):
    """A hint's text that carries the id of the misconception it names (`mistake`).

    It stays a str, so judges compose and compare hints as before; adding text after it keeps the id
    (`hint + " (a note)"`), and building a new hint from it (`Hint(hint)`, a subclass) keeps it too."""

    mistake: str

    def __new__(cls, text: str, mistake: str = ""):
        self = super().__new__(cls, text)
        self.mistake = mistake or getattr(text, "mistake", "")
        return self

    def __add__(self, other: str) -> "Hint":
        return type(self)(str.__add__(self, other), self.mistake)


def mistake(mistake_id: str, text: str) -> Hint:
    """The hint `text`, named by the stable id of the misconception it recognises."""
    return Hint(text, mistake_id)


def mistake_of(hint: str | None) -> str:
    """The id a hint carries ("" for no hint: a pass; `UNNAMED_ID` for text that names none)."""
    if hint is None:
        return ""
    return getattr(hint, "mistake", "") or UNNAMED_ID
