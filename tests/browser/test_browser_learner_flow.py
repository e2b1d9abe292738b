"""A learner's flow on the student release of one notebook, typed with the real keyboard.

The student release has every solution replaced by `...`: running it shows "not attempted yet"
from every check cell and no traceback. Then, in one exercise, a wrong answer typed into the
editor and re-run shows the misconception's hint; the right answer shows a pass.
"""

from __future__ import annotations

import re

import pytest

from browser_session import REPO, REPORTS, RUN_TIMEOUT_S
from notebook_in_browser import READ_CELLS, cell_index, check_notebook, inspect_cells, run_cell_and_next, screenshot, type_into_cell

NOTEBOOK = "01_tensors.ipynb"
EXERCISE, FUNCTION = "01.3", "dice_rolls"
WRONG = "return torch.randint(1, 6, (n,))"  # randint's high bound is excluded: no 6 ever comes up
HINT = "high bound is excluded"
RIGHT = "return torch.randint(1, 7, (n,))"
CHECK_CELL = re.compile(r'^check\("(\d\d\.\d+)"', re.M)


def output_text(cell: dict) -> str:
    return "\n".join(o["text"] for o in cell["own"])


@pytest.mark.skipif(not (REPO / "notebooks" / NOTEBOOK).exists(), reason=f"notebooks/{NOTEBOOK} does not exist yet")
def test_learner_sees_not_attempted_then_a_hint_then_a_pass_in_the_student_release(page, lab, course_copy, artifacts):
    relative = f"student/{NOTEBOOK}"
    shots = artifacts / f"student-{NOTEBOOK.removesuffix('.ipynb')}"
    report = check_notebook(page, lab.url(f"lab/tree/{relative}?reset"), course_copy / relative, shots,
                            run_timeout_s=RUN_TIMEOUT_S)
    REPORTS.append(report)
    if report.problems:
        pytest.fail(report.summary(), pytrace=False)

    cells = page.evaluate(READ_CELLS)
    checks = [(i, CHECK_CELL.search(c["source"]).group(1)) for i, c in enumerate(cells) if c["code"] and CHECK_CELL.search(c["source"])]
    assert EXERCISE in [exercise for _, exercise in checks]
    for index, exercise in checks:
        assert f"… {exercise} not attempted yet" in output_text(cells[index]), f"cell {index}: {output_text(cells[index])!r}"

    solution = cell_index(page, rf"^def {FUNCTION}\(")
    assert cell_index(page, rf'^check\("{re.escape(EXERCISE)}"') == solution + 1, "the check cell must follow the exercise"
    notebook_cells = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")

    type_into_cell(page, solution, r"^\s*\.\.\.\s*$", WRONG)
    shown = run_cell_and_next(page, solution, RUN_TIMEOUT_S * 1000)
    screenshot(notebook_cells.nth(solution + 1), shots / "learner-wrong-answer.png")
    assert shown.startswith(f"✗ {EXERCISE}") and HINT in shown, shown
    advice, case = shown.split("\n", 1)  # the advice first, then the case in brief
    assert HINT in advice and case.strip().startswith(f"case: {FUNCTION}("), shown

    type_into_cell(page, solution, re.escape(WRONG), RIGHT)
    shown = run_cell_and_next(page, solution, RUN_TIMEOUT_S * 1000)
    screenshot(notebook_cells.nth(solution + 1), shots / "learner-right-answer.png")
    assert shown.startswith(f"✓ {EXERCISE} passed"), shown

    inspect_cells(page.evaluate(READ_CELLS), None, report)  # the answers brought up no traceback
    if report.problems:
        pytest.fail(report.summary(), pytrace=False)
