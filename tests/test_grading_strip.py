"""A notebook's student copy: solutions become `...`, exercise outputs are cleared, nothing leaks."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
import torch
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers.checks import EXERCISES
from helpers.checks.core import is_placeholder
from helpers.grading.__main__ import main
from helpers.grading.strip import ReleaseError, strip_solutions

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "notebooks"
NOTEBOOKS = sorted(REPO.glob("notebooks/*.ipynb")) + sorted(FIXTURE.glob("*.ipynb"))

SOLUTION = 'def double(x):\n    """Twice x."""\n    # BEGIN SOLUTION\n    y = 2 * x\n    return y\n    # END SOLUTION'


def notebook(*cells) -> nbformat.NotebookNode:
    return new_notebook(cells=list(cells))


def test_solution_block_becomes_ellipsis_at_the_markers_indentation():
    nb = strip_solutions(notebook(new_code_cell(SOLUTION)))
    assert nb.cells[0].source == 'def double(x):\n    """Twice x."""\n    ...'
    namespace = {}
    exec(nb.cells[0].source, namespace)
    assert is_placeholder(namespace["double"])


def test_strip_solutions_returns_a_new_notebook_and_leaves_its_input_alone():
    nb = notebook(new_code_cell(SOLUTION, outputs=[new_output("stream", text="x")]))
    before = copy.deepcopy(nb)
    release = strip_solutions(nb)
    assert nb == before and release is not nb


def test_outputs_of_solution_and_check_cells_are_cleared_and_other_cells_keep_theirs():
    shown = new_output("execute_result", {"text/plain": "42"}, execution_count=1)
    nb = notebook(
        new_markdown_cell("### Exercise 01.1 — double (1 point)"),
        new_code_cell(SOLUTION, outputs=[new_output("stream", text="computed")], execution_count=3),
        new_code_cell('check("01.1", double)', outputs=[new_output("stream", text="✓ 01.1 passed")], execution_count=4),
        new_code_cell("6 * 7", outputs=[shown], execution_count=1),
    )
    release = strip_solutions(nb)
    assert [c.get("outputs") for c in release.cells[1:3]] == [[], []]
    assert release.cells[2].execution_count is None
    assert release.cells[3].outputs == [shown] and release.cells[0] == nb.cells[0]


@pytest.mark.parametrize(
    "source, problem",
    [
        ("x = 1\n# BEGIN SOLUTION\nx = 2", "never closed"),
        ("x = 1\n# END SOLUTION", "without a"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n# END SOLUTION", "inside another"),
    ],
)
def test_unbalanced_markers_are_refused(source, problem):
    with pytest.raises(ReleaseError, match=problem):
        strip_solutions(notebook(new_code_cell(source)))


def test_solution_text_in_another_cells_output_is_a_leak():
    spoiler = new_code_cell("print(source_of_double)", outputs=[new_output("stream", text="    y = 2 * x\n    return y\n")])
    with pytest.raises(ReleaseError, match="y=2\\*xreturny"):
        strip_solutions(notebook(new_code_cell(SOLUTION), spoiler))


SCALE = "def scale(x):\n    # BEGIN SOLUTION\n    centred = x - x.mean(dim=0)\n    return centred / centred.std(dim=0)\n    # END SOLUTION"


def test_a_distinctive_solution_line_in_an_output_is_a_leak():
    prints_the_crux = new_code_cell("show()", outputs=[new_output("stream", text="z = centred / centred.std(dim=0)\n")])
    with pytest.raises(ReleaseError, match="centred/centred.std"):
        strip_solutions(notebook(new_code_cell(SCALE), prints_the_crux))


def test_the_whole_solution_in_another_cell_is_a_leak_but_a_step_the_notebook_teaches_is_not():
    with pytest.raises(ReleaseError, match="centred=x-x.mean"):
        strip_solutions(notebook(new_code_cell(SCALE), new_code_cell("centred = x - x.mean(dim=0)\nreturn centred / centred.std(dim=0)")))
    teaches_a_step = new_code_cell("centred = x - x.mean(dim=0)  # the first step, shown before the exercise")
    assert strip_solutions(notebook(teaches_a_step, new_code_cell(SCALE)))


def test_a_marker_outside_code_is_a_leak():
    with pytest.raises(ReleaseError, match="marker"):
        strip_solutions(notebook(new_markdown_cell("Hint: look between # BEGIN SOLUTION and the end.")))


def test_release_command_fails_loudly_and_writes_nothing_when_one_notebook_leaks(tmp_path, capsys):
    source = tmp_path / "notebooks"
    source.mkdir()
    nbformat.write(notebook(new_code_cell(SOLUTION)), source / "01_good.ipynb")
    nbformat.write(notebook(new_code_cell("# BEGIN SOLUTION\nx = 1")), source / "02_bad.ipynb")
    assert main(["release", "--notebooks", str(source), "--out", str(tmp_path / "out")]) == 1
    assert "02_bad.ipynb" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_releases_with_placeholders_and_no_solution_text(path):
    release = strip_solutions(nbformat.read(path, as_version=4))
    text = nbformat.writes(release)
    assert "SOLUTION" not in text
    number = path.name[:2]
    for exercise in (e for key, e in EXERCISES.items() if key.startswith(number + ".")):
        cells = [c for c in release.cells if c.cell_type == "code" and f"def {exercise.target}(" in c.source]
        assert cells, f"{path.name} has no solution cell for {exercise.id}"
        namespace = {"torch": torch}
        exec(cells[0].source, namespace)  # the released cell only defines the placeholder function
        assert is_placeholder(namespace[exercise.target])
