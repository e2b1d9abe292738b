"""The answer-free copy of `helpers`: what the student release ships and what a graded kernel imports.

It leaves out the grader and the maintainers' tools; in every check module the body of each reference
solution, hidden-case generator and grader-only function (helpers.checks.shipped) becomes `...` (its
docstring kept); and the public cases with the reference's results on them, and what a judge derives from
them with grader-only code, ship as data (`helpers/checks/public_examples.pt`, read with
weights_only=True), so `check` answers there as it does in the course. Nothing else in `helpers` may
compute an answer (tests/exercise_contract.py calls every function of the copy to make sure).
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import io
import shutil
from pathlib import Path

import torch

import helpers
from helpers.checks import EXERCISES, SHIPPED_EXAMPLES, public_examples
from helpers.checks.core import Exercise, clone_case
from helpers.grading.strip import ReleaseError

LEFT_OUT = ("grading", "notebooks.py", "book.py", "__pycache__")  # the grader and the maintainers' tools


def stripped_functions(module) -> dict[str, str]:
    """The functions of a check module whose bodies the release removes, by name: references, hidden-case
    generators and grader-only functions."""
    names = {function.__name__: "grader only" for function in vars(module).values()
             if getattr(function, "grader_only", False) and getattr(function, "__module__", None) == module.__name__}
    for exercise in module.EXERCISES:
        for role, function in (("reference", exercise.reference), ("hidden cases", exercise.hidden_cases)):
            if not inspect.isfunction(function) or function.__module__ != module.__name__ or function.__qualname__ != function.__name__:
                raise ReleaseError(f"{exercise.id}: the {role} must be a module-level `def` of {module.__name__}")
            names[function.__name__] = role
    return names


def derived_data(exercise: Exercise, cases: list) -> dict[str, list]:
    """What the exercise's judge derives from each public case with grader-only code: the result of each
    `derived_on_public_cases` function of its module, by name (see helpers.checks.shipped)."""
    module = importlib.import_module(exercise.reference.__module__)
    return {name: [function.__wrapped__(*clone_case(case)) for case in cases] for name, function in sorted(vars(module).items())
            if getattr(function, "derived_for", None) == exercise.id and function.__module__ == module.__name__}


def strip_check_module(source: str, names: set[str]) -> tuple[str, dict[str, list[str]]]:
    """`source` with the bodies of the module-level functions `names` replaced by `...` (docstrings kept).

    Returns the new source and each function's removed statements (unparsed, for the leak search).
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    removed: dict[str, list[str]] = {}
    found = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in names]
    missing = names - {node.name for node in found}
    if missing:
        raise ReleaseError(f"cannot find the module-level function(s) {sorted(missing)} to strip")
    for node in sorted(found, key=lambda n: n.lineno, reverse=True):  # bottom up, so line numbers stay valid
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            body = body[1:]  # keep the docstring
        if not body:
            continue
        removed[node.name] = [ast.unparse(statement) for statement in body]
        indent = lines[body[0].lineno - 1][: body[0].col_offset]
        lines[body[0].lineno - 1 : node.end_lineno] = [f"{indent}..."]
    return "\n".join(lines) + "\n", removed


@functools.cache
def examples_file() -> bytes:
    """Every exercise's public cases, the reference's results and its judge's derived data on them, as
    torch.save writes them (computed once per process: a grading slot builds its copy with it, and a fresh
    kernel's copy too)."""
    examples = {}
    for key, exercise in sorted(EXERCISES.items()):
        cases, results = public_examples(exercise)
        examples[key] = (cases, results, derived_data(exercise, cases))
    buffer = io.BytesIO()
    torch.save(examples, buffer)
    return buffer.getvalue()


def write_answer_free_helpers(target: Path) -> list[list[str]]:
    """Write the answer-free `helpers` to `target`; return the references' removed bodies, as lines (for the
    release's leak search)."""
    shutil.copytree(Path(helpers.__file__).resolve().parent, target, ignore=shutil.ignore_patterns(*LEFT_OUT))
    removed = strip_checks(target / "checks")
    (target / "checks" / SHIPPED_EXAMPLES.name).write_bytes(examples_file())
    return removed


def strip_checks(checks: Path) -> list[list[str]]:
    """Strip, in place, the references and hidden-case generators of the check modules in `checks` (a copy
    of helpers/checks); return the references' removed bodies, as lines."""
    removed: list[list[str]] = []
    for path in sorted(checks.glob("nb[0-9]*.py")):
        module = importlib.import_module(f"helpers.checks.{path.stem}")
        roles = stripped_functions(module)
        text, statements = strip_check_module(path.read_text(encoding="utf-8"), set(roles))
        path.write_text(text, encoding="utf-8")
        removed += [[line for statement in body for line in statement.splitlines()]
                    for name, body in statements.items() if roles[name] == "reference"]
    return removed
