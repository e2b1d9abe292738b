"""The gradebook and the per-student files."""

from __future__ import annotations

import csv
import dataclasses
import json

import pytest

from helpers.checks import EXERCISES
from helpers.grading.record import Status, StudentRecord, student_record
from helpers.grading.report import RosterError, read_roster, summary_for_terminal, write_outputs


def record(student: str, problems=()) -> StudentRecord:
    """A student who handed in nothing, with these problems."""
    return student_record(student, {}, [], list(problems), ["notes.txt"], sandbox="")


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


def graded_record(student: str, points: dict[str, float], problems=()) -> StudentRecord:
    """A student graded on notebook 01 with these points (full points pass, 0 fails, else partial)."""
    graded = record(student, problems)
    for key, got in points.items():
        top = EXERCISES[key].points
        status = Status.PASSED if got == top else Status.FAILED if got == 0 else Status.PARTIAL
        graded.exercises[key] = dataclasses.replace(graded.exercises[key], points=got, status=status)
    graded.total = sum(g.points for g in graded.exercises.values())
    return graded


def rows_of(path):
    return list(csv.reader(path.open(newline="", encoding="utf-8")))


def test_regrading_one_student_keeps_every_other_row_and_replaces_only_its_own(tmp_path):
    write_outputs([graded_record("ann", {"01.1": 1}), graded_record("bob", {"01.2": 1}), graded_record("cy", {})], tmp_path)
    write_outputs([graded_record("bob", {"01.2": 1, "01.3": 2})], tmp_path)
    rows = {row[0]: row for row in rows_of(tmp_path / "grades.csv")[1:]}
    assert sorted(rows) == ["ann", "bob", "cy"]
    assert rows["ann"][-2] == "1" and rows["bob"][-2] == "3" and rows["cy"][-2] == "0"
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["ann.json", "bob.json", "cy.json"]


def test_outputs_are_written_atomically_with_no_temporary_file_left(tmp_path):
    write_outputs([record("ann")], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ann.json", "ann.md", "grades.csv", "report.html", "summary.csv"]


def test_summary_counts_attempted_passed_partial_and_names_students_with_problems(tmp_path):
    records = [graded_record("ann", {"01.1": 1, "01.3": 1}), graded_record("bob", {"01.1": 0, "01.3": 2}, ["01_tensors.ipynb: the file is empty"]),
               graded_record("cy", {})]
    write_outputs(records, tmp_path)
    rows = rows_of(tmp_path / "summary.csv")
    table = {row[0]: row for row in rows if row}
    assert rows[0] == ["exercise", "max_points", "mean_points", "attempted", "passed", "partial", "students"]
    assert table["01.1"] == ["01.1", "1", "0.33", "2", "1", "0", "3"]
    assert table["01.3"] == ["01.3", "2", "1.00", "2", "1", "1", "3"]
    assert table["bob"] == ["bob", "1", "01_tensors.ipynb: the file is empty"] and "ann" not in table
    text = summary_for_terminal(records)
    assert "1 student(s) with problems (see their .md): bob" in text


def test_a_roster_adds_id_and_name_columns_and_a_not_submitted_row(tmp_path):
    roster_file = tmp_path / "roster.in.csv"
    roster_file.write_text("student,id,name\nann,s-001,Ann Lee\nzoe,s-002,Zoë Ng\n", encoding="utf-8")
    out = tmp_path / "out"
    write_outputs([graded_record("ann", {"01.1": 1}), graded_record("bob", {})], out, read_roster(roster_file))
    rows = rows_of(out / "grades.csv")
    assert rows[0][:3] == ["student", "id", "name"] and rows[0][-1] == "status"
    by_student = {row[0]: row for row in rows[1:]}
    assert by_student["ann"][:3] == ["ann", "s-001", "Ann Lee"] and by_student["ann"][-1] == "graded"
    assert by_student["zoe"][:3] == ["zoe", "s-002", "Zoë Ng"] and by_student["zoe"][-1] == "not submitted"
    assert by_student["zoe"][-3] == "0" and by_student["bob"][1:3] == ["", ""]
    write_outputs([graded_record("zoe", {"01.2": 1})], out)  # a later run without --roster keeps it
    by_student = {row[0]: row for row in rows_of(out / "grades.csv")[1:]}
    assert by_student["zoe"][-1] == "graded" and by_student["zoe"][2] == "Zoë Ng" and set(by_student) == {"ann", "bob", "zoe"}


@pytest.mark.parametrize("text, reason", [("student,name\nann,Ann\n", "student,id,name"),
                                          ("student,id,name\nann,1,A\nann,2,B\n", "listed twice"),
                                          ("student,id,name\n,1,A\n", "empty")])
def test_a_broken_roster_is_refused_with_the_reason(tmp_path, text, reason):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RosterError, match=reason):
        read_roster(path)


FORGED = "oops\n\n**Total: 24 / 24 points**\n- ✓ **01.1** (1/1, passed): well done\n<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://evil.example","click")'


def test_feedback_shows_a_students_text_as_one_line_of_literal_text(tmp_path):
    forged = record("mallory", [f"01_tensors.ipynb, code cell 2: ValueError: {FORGED}"])
    forged.exercises["01.1"] = dataclasses.replace(forged.exercises["01.1"], status=Status.FAILED,
                                                   message=f"0 of 4 hidden cases passed. rank_of(t): it raised ValueError: {FORGED}")
    forged.ignored = ["<script>alert(1)</script>.txt"]
    write_outputs([forged], tmp_path)
    page = (tmp_path / "mallory.md").read_text(encoding="utf-8")
    lines = page.splitlines()
    assert [line for line in lines if line.startswith("**Total")] == [f"**Total: 0 / {forged.max} points**"]
    assert not [line for line in lines if line.startswith("- ✓")]  # nothing passed, and no line says so
    assert "<" not in page and ">" not in page.replace("&gt;", "")
    assert len(lines) == len(feedback_lines(record("mallory", ["a problem"])))


def feedback_lines(plain: StudentRecord) -> list[str]:
    """The lines of an ordinary record's feedback (the forged one must have as many)."""
    from helpers.grading.report import feedback

    return feedback(plain).splitlines()


def test_a_name_or_problem_that_would_be_a_formula_is_neutralised_in_both_csv_files(tmp_path):
    write_outputs([record(FORMULA, ["-1+1 @SUM(A1)"]), record("ann")], tmp_path)
    grades = rows_of(tmp_path / "grades.csv")
    assert {row[0] for row in grades[1:]} == {"'" + FORMULA, "ann"}
    summary = [row for row in rows_of(tmp_path / "summary.csv") if row and FORMULA in row[0]]
    assert summary == [["'" + FORMULA, "1", "'-1+1 @SUM(A1)"]]
    assert {json.loads(p.read_text(encoding="utf-8"))["student"] for p in tmp_path.glob("*.json")} == {FORMULA, "ann"}


def test_the_summary_for_the_terminal_carries_no_escape_sequence_from_a_name():
    hostile = record("x", ["a problem"])
    hostile.student = "\x1b[2J\x1b]0;pwned\x07eve"  # as if it had not been made safe where it entered
    text = summary_for_terminal([hostile])
    assert "\x1b" not in text and "\x07" not in text and "eve" in text


def test_each_students_record_is_written_as_soon_as_they_are_graded(tmp_path, monkeypatch):
    from helpers.grading import workers
    from helpers.grading.__main__ import main

    submissions = tmp_path / "submissions"
    for student in ("ann", "bob"):
        (submissions / student).mkdir(parents=True)

    def crash_after_the_first(folders, secret, limits, jobs, progress=True, graded=lambda record: None):
        graded(record("ann"))
        raise RuntimeError("the grader crashed on the next student")

    monkeypatch.setattr(workers, "grade_class", crash_after_the_first)
    with pytest.raises(RuntimeError, match="crashed"):
        main(["grade", str(submissions), "--out", str(tmp_path / "out"), "--secret", "s", "--no-sandbox", "--quiet"])
    assert json.loads((tmp_path / "out" / "ann.json").read_text(encoding="utf-8"))["student"] == "ann"
    assert "Feedback for ann" in (tmp_path / "out" / "ann.md").read_text(encoding="utf-8")
