"""The gradebook and the per-student files."""

from __future__ import annotations

import csv
import json

from helpers.checks import EXERCISES
from helpers.grading.grade import complete
from helpers.grading.report import write_outputs


def record(student: str, problems=()) -> dict:
    """A student who handed in nothing, with these problems."""
    return complete({"student": student, "exercises": {}, "notebooks": [], "problems": list(problems), "ignored": ["notes.txt"]})


def test_the_gradebook_has_the_contracts_header_and_a_row_per_student_in_order(tmp_path):
    write_outputs([record("ann"), record("bob")], tmp_path)
    rows = list(csv.reader((tmp_path / "grades.csv").open()))
    maximum = str(sum(e.points for e in EXERCISES.values()))
    assert rows[0] == ["student", *sorted(EXERCISES), "total", "max"]
    assert rows[1] == ["ann", *["0"] * len(EXERCISES), "0", maximum] and rows[2][0] == "bob"


def test_feedback_lists_the_problems_each_exercise_and_the_ignored_files(tmp_path):
    write_outputs([record("ann", ["01_tensors.ipynb: the file is empty"])], tmp_path)
    page = (tmp_path / "ann.md").read_text()
    assert "the file is empty" in page and "notes.txt" in page
    assert all(f"**{key}**" in page for key in EXERCISES)
    assert json.loads((tmp_path / "ann.json").read_text())["exercises"]["01.1"]["status"] == "not submitted"


def test_students_whose_names_clash_as_file_names_get_distinct_files(tmp_path):
    write_outputs([record("a b"), record("a_b"), record("../x")], tmp_path)
    names = sorted(p.name for p in tmp_path.glob("*.json"))
    assert len(names) == 3 and all("/" not in n and not n.startswith(".") for n in names)
    assert {json.loads((tmp_path / n).read_text())["student"] for n in names} == {"a b", "a_b", "../x"}
