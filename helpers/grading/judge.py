"""Score one exercise in the grader's own process, from the data the student's kernel wrote.

The results file is read with `torch.load(weights_only=True)` (no arbitrary unpickling), its
shape is checked, descriptions of non-data values become `Opaque` objects, and each case is judged
by the exercise's own `judge` against the reference's result on the same hidden case, then by the
rules every exercise keeps (`helpers.checks.rules`) on the arguments as the call left them.
The feedback names the mistake only: what a hint quotes from the hidden case is left out
(`hidden_text`), so re-grading with the same secret hands over neither the hidden inputs nor
their expected results.
"""

from __future__ import annotations

import builtins
import math
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from helpers.checks.core import Case, Exercise, clone_case, explain_error, hidden_text, shown
from helpers.checks.rules import RuleBroken, judge_call
from helpers.grading.kernel_side import NUMPY, OPAQUE

MAX_RESULT_BYTES = 64 * 2**20
PASSED, PARTIAL, FAILED = "passed", "partial", "failed"
NOT_ATTEMPTED, MISSING, NOT_SUBMITTED, NOT_GRADED = "not attempted", "missing", "not submitted", "not graded"


@dataclass
class ExerciseGrade:
    """The grade of one exercise for one student."""

    id: str
    status: str
    points: float
    max_points: int
    message: str
    time: float = 0.0
    cases_passed: int = 0
    cases_total: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


class Opaque:
    """Stands for a value the student's function returned that is not plain data (an object, a subclass)."""

    def __init__(self, type_name: str):
        self.type_name = type_name if isinstance(type_name, str) else "unknown"

    def __repr__(self) -> str:
        return f"a {self.type_name} object"


class UnreadableResults(ValueError):
    """The kernel's results file is missing, not a plain file, too large, or not safe data."""


def read_results(path: Path) -> dict:
    """The results one exercise's grading cell wrote, read as data only."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise UnreadableResults("the grading cell left no results (was it blanked, or the kernel stopped?)") from None
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableResults("the results are not a plain file")
    if info.st_size > MAX_RESULT_BYTES:
        raise UnreadableResults(f"the results are {info.st_size / 2**20:.0f} MiB, over the {MAX_RESULT_BYTES // 2**20} MiB limit")
    try:
        record = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as error:  # UnpicklingError for a crafted pickle, and many others
        raise UnreadableResults(f"the results are not plain data ({type(error).__name__}); they were not read") from None
    if type(record) is not dict or type(record.get("status")) is not str or type(record.get("cases")) is not list:
        raise UnreadableResults("the results do not have the expected layout")
    return record


def restore(value: Any) -> Any:
    """Turn the kernel's markers back into values: numpy arrays, and `Opaque` for non-data."""
    if type(value) is dict and len(value) == 1 and OPAQUE in value:
        return Opaque(value[OPAQUE])
    if type(value) is dict and len(value) == 1 and NUMPY in value and type(value[NUMPY]) is torch.Tensor:
        array = value[NUMPY].numpy()
        return array[()] if array.ndim == 0 else array
    if type(value) is list:
        return [restore(item) for item in value]
    if type(value) is tuple:
        return tuple(restore(item) for item in value)
    if type(value) is dict:
        return {key: restore(item) for key, item in value.items()}
    return value


def judge_case(exercise: Exercise, case: Case, expected: Any, record: Any) -> str | None:
    """None when the case passed, else a hint (the exercise's own, or what went wrong)."""
    if type(record) is not dict:
        return "no result was recorded for this case."
    if record.get("timeout"):
        return "it ran past the time limit."
    if "error" in record:
        name, _, text = str(record["error"])[:300].partition(": ")
        builtin = isinstance(getattr(builtins, name, None), type)  # a class of the student's own may be named after the case
        return explain_error(name if builtin else shown(name), text)
    if "value" not in record:
        return "no result was recorded for this case."
    got = restore(record["value"])
    after, facts = restore(record.get("arguments")), record.get("facts")
    if not well_formed_call(case, after, facts):
        return "no record of the arguments after the call was kept for this case."
    try:
        return judge_call(exercise, clone_case(case), got, expected, after, facts)
    except Exception as error:  # a value the judge could not even compare is a miss, with its type
        return f"your result ({type(got).__name__}) could not be compared: {type(error).__name__}."


def well_formed_call(case: Case, after: Any, facts: Any) -> bool:
    """True when the kernel's account of the call has the layout `kernel_side` writes (it is the student's data)."""
    return (type(after) is tuple and len(after) == len(case) and type(facts) is dict
            and all(type(facts.get(key)) is list and all(type(i) is int for i in facts[key]) for key in ("returned", "moved", "gradient_to")))


def score(exercise: Exercise, cases: list[Case], expected: list, record: dict) -> ExerciseGrade:
    """Points for one exercise: its points times the fraction of hidden cases passed; 0 if one broke a rule of the statement."""
    status = record["status"]
    if status == "missing":
        return ExerciseGrade(exercise.id, MISSING, 0, exercise.points, f"`{exercise.target}` is not defined after your notebook ran:"
                             " keep the function's name as given, and see the errors listed above.")
    if status == "placeholder":
        return ExerciseGrade(exercise.id, NOT_ATTEMPTED, 0, exercise.points, f"`{exercise.target}` still has the `...` placeholder.")
    if status != "ran":
        return ExerciseGrade(exercise.id, FAILED, 0, exercise.points, f"`{exercise.target}` is not a function.")
    records = record["cases"]
    hints = [judge_case(exercise, case, want, records[i] if i < len(records) else None) for i, (case, want) in enumerate(zip(cases, expected, strict=True))]
    passed = sum(hint is None for hint in hints)
    broken = next((i for i, hint in enumerate(hints) if isinstance(hint, RuleBroken)), None)  # a rule holds for every input or not at all
    seconds = sum(r["time"] for r in records if type(r) is dict and type(r.get("time")) is float and math.isfinite(r["time"]))
    points = round(exercise.points * passed / len(cases), 2) if cases and broken is None else 0
    if passed == len(cases):
        return ExerciseGrade(exercise.id, PASSED, points, exercise.points, exercise.praise, seconds, passed, len(cases))
    first = broken if broken is not None else next(i for i, hint in enumerate(hints) if hint is not None)
    cost = ", but a case broke a rule of the statement, which costs the whole exercise" if broken is not None and passed else ""
    message = f"{passed} of {len(cases)} hidden cases passed{cost}. {hidden_text(hints[first])}"
    return ExerciseGrade(exercise.id, PARTIAL if points else FAILED, points, exercise.points, message, seconds, passed, len(cases))
