"""Exercise checks: `check("01.2", from_nested)` answers a learner's attempt in the notebook.

Each notebook NN has a module `helpers/checks/nbNN.py` whose `EXERCISES` list holds its
exercises; they are found by name, so a new notebook's checks need no change here.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import torch

from helpers.checks.core import FAILED, Case, Exercise, Result, evaluate, reference_results, safely
from helpers.checks.shipped import SHIPPED_EXAMPLES, shipped_examples


def load_exercises() -> dict[str, Exercise]:
    """Every exercise of every `nbNN` module, by id; ids must be unique and start with NN."""
    exercises: dict[str, Exercise] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        name = module_info.name
        if not (name.startswith("nb") and name[2:].isdigit()):
            continue
        module = importlib.import_module(f"{__name__}.{name}")
        for exercise in module.EXERCISES:
            if not exercise.id.startswith(name[2:] + "."):
                raise ValueError(f"exercise {exercise.id} is defined in {name}, not nb{exercise.id[:2]}")
            if exercise.id in exercises:
                raise ValueError(f"exercise id {exercise.id} is defined twice")
            exercises[exercise.id] = exercise
    return exercises


EXERCISES = load_exercises()


def public_examples(exercise: Exercise) -> tuple[list[Case], list[Any]]:
    """The exercise's public cases and the reference's result on each.

    The course computes them; the student release, which holds no reference solution, reads them
    from the file written at release time (`helpers.grading.answer_free`).
    """
    if SHIPPED_EXAMPLES.exists():
        cases, results, _ = shipped_examples()[exercise.id]
        return cases, results
    with torch.random.fork_rng(devices=[]):  # cases drawn at random must not move the learner's generator
        cases = exercise.public_cases()
    return cases, reference_results(exercise, cases)


def check(exercise_id: str, answer: Any = ...) -> Result:
    """Run the public cases of exercise `exercise_id` on `answer` and say what is right or wrong."""
    exercise = EXERCISES.get(exercise_id)
    if exercise is None:
        known = ", ".join(sorted(EXERCISES))
        return Result(str(exercise_id), FAILED, f"there is no exercise {exercise_id!r}; known ids: {known}.")
    return safely(exercise.id, lambda: evaluate(exercise, answer, *public_examples(exercise)))


__all__ = ["EXERCISES", "Exercise", "Result", "check", "public_examples"]
