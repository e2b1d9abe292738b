"""What the answer-free `helpers` (the student release's, a graded kernel's) reads instead of computing.

Its check modules have no reference solutions, so `helpers/checks/public_examples.pt` (written by
helpers.grading.answer_free, read with weights_only=True) holds, per exercise, the public cases, the
reference's result on each, and what the exercise's judge derives from each case with grader-only code.

Grader-only code is code a judge needs that would also compute an answer: 08's judges rebuild each known
mistake with the backward pass done by hand, which with no mistake switched on is the exercise's answer.
`@grader_only` marks such a module-level function of a check module, and the answer-free copy strips its
body as it strips a reference's. A judge reaches it through a `@derived_on_public_cases(exercise_id)`
function, stripped too: the course computes it, and the answer-free copy reads its result on a public case
from the file. There the public cases' answers ship anyway, so nothing is given away that was not.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable

import torch

# Only in the answer-free copy: the public cases, the reference's results and the judges' derived data.
SHIPPED_EXAMPLES = Path(__file__).with_name("public_examples.pt")


@functools.cache
def shipped_examples() -> dict[str, tuple[list, list, dict[str, list]]]:
    """The answer-free copy's examples file, read as data only: exercise id -> (cases, results, derived),
    where derived maps a `derived_on_public_cases` function's name to its result on each case."""
    return torch.load(SHIPPED_EXAMPLES, weights_only=True)


def grader_only(function: Callable) -> Callable:
    """Mark `function` as code the answer-free copy ships without its body (a call there returns None)."""
    function.grader_only = True
    return function


def derived_on_public_cases(exercise_id: str):
    """Make `function(*case)` grader-only data for exercise `exercise_id`'s judge: computed in the course;
    in the answer-free copy, its result on a public case read from the examples file (None on another case)."""
    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def derived(*case):
            if not SHIPPED_EXAMPLES.exists():
                return function(*case)
            cases, _, data = shipped_examples()[exercise_id]
            return next((result for known, result in zip(cases, data[function.__name__], strict=True) if same_data(known, case)), None)
        derived.grader_only = True
        derived.derived_for = exercise_id
        return derived
    return decorate


def same_data(a: Any, b: Any) -> bool:
    """True when two cases hold the same data (tensors equal in dtype, shape and values; containers item by item)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return type(a) is type(b) and a.dtype == b.dtype and torch.equal(a, b)
    if type(a) in (list, tuple):
        return type(a) is type(b) and len(a) == len(b) and all(same_data(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return type(b) is dict and a.keys() == b.keys() and all(same_data(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b
