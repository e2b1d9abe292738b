"""Parametrize the exercise contract (tests/exercise_contract.py) from each test module's NOTEBOOK and
MISTAKES; build the student release once for the tests that compare its checks with the course's."""

import importlib
import sys
from pathlib import Path

import pytest

from helpers.checks import EXERCISES


def pytest_generate_tests(metafunc):
    notebook = getattr(metafunc.module, "NOTEBOOK", None)
    if notebook is None:
        return
    if "exercise_id" in metafunc.fixturenames:
        ids = sorted(key for key in EXERCISES if key.startswith(notebook + "."))
        metafunc.parametrize("exercise_id", ids)
    if "mistake" in metafunc.fixturenames:
        mistakes = metafunc.module.MISTAKES
        metafunc.parametrize("mistake", mistakes, ids=[f"{m[0]}:{m[2][:40]}" for m in mistakes])
    if "rule" in metafunc.fixturenames:
        rules = metafunc.module.RULES  # every test module lists its statements' rules, or says RULES = [] and why
        metafunc.parametrize("rule", rules, ids=[f"{r[0]}:{r[1][:40]}" for r in rules])


@pytest.fixture
def rules(request):
    """The RULES list of the test module that asks for it."""
    return request.module.RULES


@pytest.fixture(scope="session")
def student_course(tmp_path_factory):
    """The student release of the course (what `make student` writes), built once per test process."""
    from helpers.grading.student import build

    out = tmp_path_factory.mktemp("release") / "student"
    build(out)
    return out


@pytest.fixture(scope="session")
def student_check(student_course):
    """The student release's own `check`, imported from its copy of helpers; the course's modules are restored after.

    The function keeps its own modules (stripped check modules, shipped examples), so tests can
    call it next to the course's `check` and compare.
    """
    ours = {name: module for name, module in sys.modules.items() if name == "helpers" or name.startswith("helpers.")}
    for name in ours:
        del sys.modules[name]
    sys.path.insert(0, str(student_course))
    try:
        theirs = importlib.import_module("helpers.checks")
        assert Path(theirs.__file__).is_relative_to(student_course), theirs.__file__
        return theirs.check
    finally:
        sys.path.remove(str(student_course))
        for name in [n for n in sys.modules if n == "helpers" or n.startswith("helpers.")]:
            del sys.modules[name]
        sys.modules.update(ours)
