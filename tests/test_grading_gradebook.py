"""The gradebook from the command line: re-grading keeps every row, --only, --roster, the summary,
and feedback that names a failing cell by its first line. A small class, graded for real."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from helpers.grading.__main__ import main
from helpers.grading.strip import strip_solutions
from helpers.grading.text import markdown_line

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "notebooks" / "01_tensors.ipynb"
SECRET = "gradebook-secret"


def grade(*args: str) -> int:
    return main(["grade", *args, "--secret", SECRET, "--quiet", "--jobs", "2", "--cell-timeout", "30"])


def rows(path: Path) -> dict[str, list[str]]:
    return {row[0]: row for row in list(csv.reader(path.open(newline="", encoding="utf-8")))[1:] if row}


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """ann hands in the solution, bob the release, cy a release with a broken loop; graded once."""
    root = tmp_path_factory.mktemp("gradebook")
    release = strip_solutions(nbformat.read(FIXTURE, as_version=4))
    broken = strip_solutions(nbformat.read(FIXTURE, as_version=4))
    broken.cells.insert(3, new_code_cell("for value in values_never_defined:\n    print(value)"))
    for student, nb in (("ann", None), ("bob", release), ("cy", broken)):
        (root / "subs" / student).mkdir(parents=True)
        target = root / "subs" / student / FIXTURE.name
        shutil.copy(FIXTURE, target) if nb is None else nbformat.write(nb, target)
    assert grade(str(root / "subs"), "--out", str(root / "out")) == 0
    return root


def test_the_class_summary_is_written_and_printed_with_the_students_who_had_problems(klass, capsys):
    summary = list(csv.reader((klass / "out" / "summary.csv").open(encoding="utf-8")))
    table = {row[0]: row for row in summary if row}
    assert table["01.3"][1:] == ["2", "0.67", "1", "1", "0", "3"]  # only ann attempted 01.3, and passed it
    assert table["cy"][1] == "1" and "bob" not in table and "ann" not in table


def test_feedback_names_a_failing_cell_by_its_first_line(klass):
    named = "code cell 3 (`for value in values_never_defined:`): NameError"
    assert any(named in problem for problem in json.loads((klass / "out" / "cy.json").read_text(encoding="utf-8"))["problems"])
    assert markdown_line(named) in (klass / "out" / "cy.md").read_text(encoding="utf-8")  # shown as literal text


def test_regrading_one_student_with_only_keeps_the_others_rows_and_adds_the_roster(klass, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(klass / "out", out)
    before = rows(out / "grades.csv")
    roster = tmp_path / "roster.csv"
    roster.write_text("student,id,name\nann,u1,Ann\nbob,u2,Bob\ncy,u3,Cy\ndee,u4,Dee\n", encoding="utf-8")
    (klass / "subs2" / "bob").mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURE, klass / "subs2" / "bob" / FIXTURE.name)  # bob hands in again, now solved
    shutil.copytree(klass / "subs" / "ann", klass / "subs2" / "ann", dirs_exist_ok=True)
    assert grade(str(klass / "subs2"), "--out", str(out), "--only", "bob", "--roster", str(roster)) == 0
    after = rows(out / "grades.csv")
    assert sorted(after) == ["ann", "bob", "cy", "dee"]
    assert after["ann"][3:-1] == before["ann"][1:] and after["cy"][3:-1] == before["cy"][1:]
    assert after["bob"][-3] == after["ann"][-3] != before["bob"][-2]  # bob now has the solution's total
    assert after["dee"][1:3] == ["u4", "Dee"] and after["dee"][-1] == "not submitted"
    printed = capsys.readouterr().out
    assert "graded 1 student(s); 3 in the gradebook" in printed and "no submission (rows marked not submitted): dee" in printed


def test_only_with_a_name_that_has_no_folder_is_a_clear_error(klass, tmp_path, capsys):
    assert grade(str(klass / "subs"), "--out", str(tmp_path / "o"), "--only", "nobody") == 2
    assert "no folder in" in capsys.readouterr().err and not (tmp_path / "o").exists()
