"""The student record (helpers.grading.record): what OUT/<student>.json holds, read back as it was written,
with the fields docs/grading.md documents."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.grading.record import SCHEMA_VERSION, ExerciseGrade, NotebookRecord, Status, StudentRecord, failed, student_record
from helpers.grading.report import stored_records, write_outputs

DOCS = Path(__file__).resolve().parent.parent / "docs" / "grading.md"


def graded_record() -> StudentRecord:
    """A record with a grade of each kind a record carries, a notebook, a problem and an ignored file."""
    grades = {"01.1": ExerciseGrade("01.1", Status.PASSED, 1, 1, "well done", 0.25, 4, 4, "", ["", "", "", ""]),
              "01.2": ExerciseGrade("01.2", Status.PARTIAL, 0.5, 1, "2 of 4 hidden cases passed.", 0.5, 2, 4, "values-differ",
                                    ["", "values-differ", "", "values-differ"])}
    notebook = NotebookRecord("01_tensors.ipynb", ["01_tensors.ipynb, code cell 3: NameError"], 2, ["code cell 3"], "forked", "rlimits", 3.5)
    return student_record("ann", grades, [notebook], list(notebook.problems), ["notes.txt"], sandbox="bubblewrap: ...")


def written(record: StudentRecord, out: Path) -> dict:
    """The JSON object the report writes for `record`."""
    write_outputs([record], out)
    return json.loads((out / f"{record.student}.json").read_text(encoding="utf-8"))


def test_a_written_record_reads_back_as_the_record_that_was_written(tmp_path):
    for record in (graded_record(), failed("bob", "the grading process stopped (exit code -9)", "none", KeyError("a bug"))):
        data = written(record, tmp_path)
        assert data["schema_version"] == SCHEMA_VERSION
        assert StudentRecord.from_json(data) == record
        assert stored_records(tmp_path)[record.student][1] == record


def test_a_failed_grading_is_a_field_of_the_record_not_a_reading_of_its_message():
    record = failed("bob", "grading this student ran past the time limit", "none")
    assert record.grading_failed and record.problems == ["grading this student ran past the time limit; nothing was graded"]
    assert {grade.status for grade in record.exercises.values()} == {Status.NOT_SUBMITTED} and record.total == 0
    assert not graded_record().grading_failed
    said_so = student_record("cy", {}, [], ["01_x.ipynb: NameError: name 'nothing_was_graded' means: nothing was graded"], [], "none")
    assert not StudentRecord.from_json(said_so.to_json()).grading_failed  # no notebook, and a problem ending as a failure's does


def test_a_record_of_a_later_schema_is_refused_and_one_before_the_version_is_read():
    data = graded_record().to_json()
    with pytest.raises(ValueError, match="schema version 2"):
        StudentRecord.from_json({**data, "schema_version": 2})
    older = {key: value for key, value in data.items() if key not in ("schema_version", "grading_failed", "sandbox")}
    assert StudentRecord.from_json(older).exercises == graded_record().exercises


def documented_fields() -> list[set[str]]:
    """The first column of each table in docs/grading.md's section on the student record: the record's, a grade's, a notebook's."""
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## The student record"):]
    section = section[:section.index("\n## ", 1)]
    tables, current = [], None
    for line in section.splitlines():
        match = re.match(r"\| `(\w+)` \|", line)
        if match:
            current = current if current is not None else set()
            current.add(match.group(1))
        elif current is not None:
            tables.append(current)
            current = None
    return tables + ([current] if current else [])


def test_the_documented_fields_are_the_ones_written(tmp_path):
    record = failed("bob", "the grader failed", "none", KeyError("a bug"))  # grader_error is written only for such a record
    record.notebooks = graded_record().notebooks
    data = written(record, tmp_path)
    students, grades, notebooks = documented_fields()
    assert set(data) == students
    assert {key for grade in data["exercises"].values() for key in grade} == grades
    assert {key for notebook in data["notebooks"] for key in notebook} == notebooks
    assert set(graded_record().to_json()) == students - {"grader_error"}  # the one field written only when it applies
