"""Every notebook follows the course skeleton, is saved fully executed, and wires its exercises."""

import re
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import find_comment_markers

from helpers.checks import EXERCISES
from helpers.notebooks import INDEX, course_notebooks, index_page, is_navigation, navigation_text, notebook_title
from helpers.widget_display import WIDGET_VIEW

FOLDER = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = course_notebooks(FOLDER)
NOTEBOOKS = {p.name: nbformat.read(p, as_version=4) for p in PATHS}
TITLES = {name: notebook_title(nb) for name, nb in NOTEBOOKS.items()}
HEADING = re.compile(r"^### Exercise (\d\d\.\d+) — .+ \((\d+) points?\)$", re.MULTILINE)
names = pytest.mark.parametrize("name", list(NOTEBOOKS))


def markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_the_course_starts_with_setup_and_tensors():
    assert list(NOTEBOOKS)[:2] == ["00_setup.ipynb", "01_tensors.ipynb"]


def test_notebook_numbers_are_unique():
    numbers = [name[:2] for name in NOTEBOOKS]
    assert len(numbers) == len(set(numbers))


@names
def test_title_carries_the_notebooks_number(name):
    assert TITLES[name].startswith(f"{name[:2]} · ")


@names
def test_skeleton_has_objectives_prerequisites_summary_and_common_mistakes(name):
    text = markdown(NOTEBOOKS[name])
    for part in ("**Learning objectives.**", "**Prerequisites.**", "## Summary", "## Common mistakes"):
        assert part in text, f"{name} lacks {part}"


@names
def test_navigation_is_generated_and_current_top_and_bottom(name):
    cells = NOTEBOOKS[name].cells
    expected = navigation_text(TITLES, name)
    assert is_navigation(cells[0]) and is_navigation(cells[-1]), "run `make nav`"
    assert cells[0].source == expected and cells[-1].source == expected, "run `make nav`"
    assert sum(is_navigation(c) for c in cells) == 2


def test_index_lists_every_notebook_in_order():
    assert (FOLDER / INDEX).read_text(encoding="utf-8") == index_page(TITLES), "run `make nav`"
    assert not (FOLDER / "index.ipynb").exists(), "the contents page is index.md: a notebook would start a kernel"


@names
def test_every_code_cell_was_saved_executed_in_order(name):
    cells = [c for c in code_cells(NOTEBOOKS[name]) if c.source.strip()]
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), "run `make execute`: nbval compares nothing for an unexecuted cell"


@names
def test_no_stored_error_or_stderr_output(name):
    for cell in code_cells(NOTEBOOKS[name]):
        for output in cell.outputs:
            assert output.output_type != "error", cell.source
            assert output.get("name") != "stderr", cell.source


@names
def test_no_stored_widget_shows_a_text_repr(name):
    """An untrusted notebook (as handed out) shows a widget's text/plain instead of its view: store none."""
    for cell in code_cells(NOTEBOOKS[name]):
        for output in cell.outputs:
            if WIDGET_VIEW in output.get("data", {}):
                assert "text/plain" not in output.data, f"run `make execute`: {output.data['text/plain'][:60]!r}"


@names
def test_one_setup_cell_seeds_everything(name):
    calls = [c for c in code_cells(NOTEBOOKS[name]) if "setup(seed=" in c.source]
    assert len(calls) == 1 and "device = setup(seed=0)" in calls[0].source


@names
def test_ignored_outputs_say_why_nbval_honours_the_marker_and_nothing_is_skipped(name):
    """`# NBVAL_IGNORE_OUTPUT` alone on its line (nbval matches the whole comment), the reason on the next."""
    for cell in code_cells(NOTEBOOKS[name]):
        assert "NBVAL_SKIP" not in cell.source and "NBVAL_RAISES_EXCEPTION" not in cell.source
        assert not cell.metadata.get("tags"), "markers are visible comments in this course, not hidden tags"
        lines = cell.source.splitlines()
        for at, line in enumerate(lines):
            if "NBVAL_IGNORE_OUTPUT" in line:
                assert line == "# NBVAL_IGNORE_OUTPUT", f"nbval ignores anything but the bare marker: {line!r}"
                assert at + 1 < len(lines) and re.fullmatch(r"# \(not compared: .+\)", lines[at + 1]), "say why on the next line"
                assert dict(find_comment_markers(cell.source)).get("check") is False, "nbval does not see the marker"


def exercises_in(nb):
    """(id, points, solution cell, check cell) for each exercise heading, in order."""
    found = []
    for at, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for exercise_id, points in HEADING.findall(cell.source):
                found.append((exercise_id, int(points), nb.cells[at + 1], nb.cells[at + 2]))
    return found


@names
def test_each_exercise_has_a_solution_cell_and_a_check_cell(name):
    for exercise_id, points, solution, check_cell in exercises_in(NOTEBOOKS[name]):
        exercise = EXERCISES[exercise_id]
        assert exercise_id.startswith(name[:2] + ".")
        assert points == exercise.points, f"{exercise_id}: the heading says {points} points, the check {exercise.points}"
        assert solution.cell_type == "code" and f"def {exercise.target}(" in solution.source
        assert solution.source.count("# BEGIN SOLUTION") == solution.source.count("# END SOLUTION") == 1
        assert check_cell.cell_type == "code"
        assert check_cell.source.strip() == f'check("{exercise_id}", {exercise.target})'
        assert "passed" in check_cell.outputs[0]["data"]["text/plain"]


@names
def test_every_registered_exercise_appears_once_in_its_notebook(name):
    in_notebook = [e[0] for e in exercises_in(NOTEBOOKS[name])]
    registered = sorted(i for i in EXERCISES if i.startswith(name[:2] + "."))
    assert sorted(in_notebook) == registered and len(set(in_notebook)) == len(in_notebook)


@names
def test_every_topic_notebook_has_at_least_three_exercises(name):
    if name != "00_setup.ipynb":
        assert len(exercises_in(NOTEBOOKS[name])) >= 3


LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+\.ipynb)\)")


@names
def test_links_to_other_notebooks_point_to_existing_ones_with_their_titles(name):
    """A link `[NN · Title](NN_slug.ipynb)` names a notebook that exists, by its current title."""
    for cell in NOTEBOOKS[name].cells:
        if cell.cell_type != "markdown" or is_navigation(cell):
            continue
        for text, target in LINK.findall(cell.source):
            assert target == INDEX or target in TITLES, f"{name} links to {target}, which does not exist"
            if re.match(r"\d\d · ", text):
                assert " ".join(text.split()) == TITLES[target], f"{name}: the link text {text!r} is not {target}'s title"
