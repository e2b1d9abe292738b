"""Parametrize the exercise contract (tests/exercise_contract.py) from each test module's NOTEBOOK and MISTAKES."""

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
