"""The class report (helpers.grading.class_report) and the table of mistakes in summary.csv.

The synthetic class is built from the course's own known mistakes: every MISTAKES entry of
tests/test_checks_nbNN.py is one learner's answer to its exercise, graded on the hidden cases in this
process as the grader judges them (no kernels); one learner answers every exercise with the reference,
one leaves every placeholder. The report must count exactly what was planted.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import importlib
import json
from collections import Counter
from html.parser import HTMLParser

import pytest
import torch

from helpers.checks import EXERCISES
from helpers.checks.catalogue import hint_of
from helpers.checks.core import clone_case
from helpers.grading import cases as hidden
from helpers.grading import class_report, judge, kernel_side
from helpers.grading.bwrap import NO_SANDBOX, SANDBOXED
from helpers.grading.record import ExerciseGrade, NotebookRecord, Status, StudentRecord, student_record
from helpers.grading.report import RosterEntry, write_outputs

SECRET = "class-report"
NOTEBOOKS = sorted({key[:2] for key in EXERCISES})


class Tables(HTMLParser):
    """The page's tables by caption (each a list of rows of cell texts), its images' attributes, and every link."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.images: list[dict] = []
        self.links: list[str] = []
        self.tags: Counter = Counter()
        self._caption = self._cell = None
        self._rows: list[list[str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] += 1
        if tag == "caption":
            self._caption = ""
        elif tag == "tr":
            self._rows.append([])
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "img":
            self.images.append(dict(attrs))
        elif tag == "a":
            self.links.append(dict(attrs).get("href", ""))

    def handle_endtag(self, tag):
        if tag == "caption":
            self.tables[self._caption], self._rows = [], []
            self._name, self._caption = self._caption, None
        elif tag in ("td", "th"):
            self._rows[-1].append(self._cell)
            self._cell = None
        elif tag == "table":
            self.tables[self._name] = self._rows

    def handle_data(self, data):
        if self._caption is not None:
            self._caption += data
        elif self._cell is not None:
            self._cell += data


def parsed(page: str) -> Tables:
    tables = Tables()
    tables.feed(page)
    return tables


def placeholder(*args):
    """What the student release leaves."""
    ...


@functools.cache
def hidden_of(exercise_id: str):
    exercise = EXERCISES[exercise_id]
    cases = hidden.hidden_cases(exercise, SECRET)
    return cases, hidden.expected_results(exercise, cases)


def grade_of(exercise_id: str, answer) -> ExerciseGrade:
    """The grade the class grader gives `answer` on the hidden cases, judged in this process (as the contract does)."""
    exercise = EXERCISES[exercise_id]
    if answer is placeholder:
        return judge.score(exercise, [], [], {"status": "placeholder", "cases": []})
    cases, expected = hidden_of(exercise_id)
    torch.manual_seed(0)
    record = {"status": "ran", "cases": kernel_side.call_cases(answer, [clone_case(case) for case in cases], hidden.CASE_SEED_BASE)}
    return judge.score(exercise, cases, expected, record)


def record_of(student: str, grades: dict[str, ExerciseGrade]) -> StudentRecord:
    """A student's record as grading builds it, from the grades of the exercises they answered."""
    return student_record(student, grades, [NotebookRecord("01_tensors.ipynb")], [], [], sandbox="")


def planted_mistakes() -> list[tuple[str, object]]:
    """Every (exercise id, answer) in the MISTAKES of tests/test_checks_nbNN.py, notebooks 01 to 14."""
    return [(key, answer) for nb in NOTEBOOKS for key, answer, _ in importlib.import_module(f"test_checks_nb{nb}").MISTAKES]


@pytest.fixture(scope="module")
def synthetic_class(tmp_path_factory):
    """One learner per planted mistake (their other exercises not handed in), one with the reference everywhere,
    one with every placeholder; written as the grader writes a class. Returns OUT, the records and what was planted."""
    records, planted = [], Counter()
    for number, (key, answer) in enumerate(planted_mistakes()):
        grade = grade_of(key, answer)
        assert grade.status == Status.FAILED, (key, grade.message)
        records.append(record_of(f"mistake-{number:03d}", {key: grade}))
        for mistake_id in {*grade.case_mistakes, grade.mistake} - {""}:
            planted[mistake_id, key] += 1
    records.append(record_of("reference", {key: grade_of(key, e.reference) for key, e in EXERCISES.items()}))
    records.append(record_of("placeholders", {key: grade_of(key, placeholder) for key in EXERCISES}))
    out = tmp_path_factory.mktemp("class") / "out"
    write_outputs(records, out)
    return out, records, planted


def test_every_planted_learner_is_named_by_a_mistake_id(synthetic_class):
    _, records, planted = synthetic_class
    for record in records:
        for key, grade in record.exercises.items():
            if grade.status == Status.FAILED:
                assert grade.mistake and grade.mistake != "unnamed" and "unnamed" not in grade.case_mistakes, (key, grade)
    assert sum(planted.values()) >= len(planted_mistakes())


def test_the_summary_table_of_mistakes_counts_exactly_what_was_planted(synthetic_class):
    out, records, planted = synthetic_class
    rows = list(csv.reader((out / "summary.csv").open(encoding="utf-8")))
    table = rows[rows.index(["mistake", "exercise", "hint", "students", "share_of_attempted"]) + 1:]
    counted = {(mistake_id, key): int(students) for mistake_id, key, _, students, _ in table}
    assert counted == dict(planted)
    attempted = Counter(key for key, _ in planted_mistakes())  # + the reference learner, who attempted every exercise
    for mistake_id, key, hint, students, share in table:
        assert hint == hint_of(mistake_id) and hint
        assert float(share) == pytest.approx(int(students) / (attempted[key] + 1), abs=5e-4)


def test_the_report_shows_the_ten_most_common_mistakes_with_their_counts(synthetic_class):
    out, _, planted = synthetic_class
    page = parsed((out / "report.html").read_text(encoding="utf-8"))
    top = next(rows for caption, rows in page.tables.items() if "most common mistakes" in caption)
    assert top[0] == ["rank", "hint", "exercise", "notebook section to re-teach", "learners", "id"]
    expected = sorted(planted.items(), key=lambda item: (-item[1], item[0][1], item[0][0]))[:10]
    attempted = Counter(key for key, _ in planted_mistakes())
    for row, ((mistake_id, key), count) in zip(top[1:], expected, strict=True):
        assert (row[2], row[5]) == (key, mistake_id)
        assert row[4].startswith(f"{count} of {attempted[key] + 1} ")
        assert row[1] == hint_of(mistake_id) and row[3].startswith(f"{key[:2]} · ")


def test_the_report_shows_each_exercises_pass_fail_and_not_attempted_shares(synthetic_class):
    out, records, _ = synthetic_class
    page = parsed((out / "report.html").read_text(encoding="utf-8"))
    mistakes = Counter(key for key, _ in planted_mistakes())
    students = len(records)
    for nb in NOTEBOOKS:
        rows = page.tables[f"Notebook {nb}: points and shares of the {students} students"]
        assert rows[0][4:] == ["passed", "partial", "failed", "not attempted"]
        for row in rows[1:]:
            key = row[0]
            shares = [cell.split("(")[1].rstrip(")") for cell in row[4:]]
            assert shares == ["1", "0", str(mistakes[key]), str(students - 1 - mistakes[key])], key
            assert row[3] == f"0 pts: {mistakes[key]}, {EXERCISES[key].points} pts: 1"


def test_the_report_lists_learners_who_need_help_linked_to_their_feedback(synthetic_class):
    out, _, _ = synthetic_class
    page = parsed((out / "report.html").read_text(encoding="utf-8"))
    idle = page.tables["Most exercises not attempted (the placeholder left)"]
    assert idle[1] == ["placeholders", str(len(EXERCISES))]
    assert "placeholders.md" in page.links and (out / "placeholders.md").is_file()
    lowest = page.tables["Lowest totals"]
    assert [row[1].split(" /")[0] for row in lowest[1:]] == ["0"] * 10


def test_the_page_is_self_contained_and_every_figure_has_alt_text(synthetic_class):
    out, _, _ = synthetic_class
    text = (out / "report.html").read_text(encoding="utf-8")
    page = parsed(text)
    assert page.images and all(image["src"].startswith("data:image/png;base64,") and image.get("alt") for image in page.images)
    assert not page.tags["script"] and "http://" not in text and "https://" not in text
    assert all(link.startswith("#") or link.endswith(".md") for link in page.links)


def small_record(student: str, **changes) -> StudentRecord:
    return dataclasses.replace(record_of(student, {}), **changes)


def test_grading_health_counts_ungraded_exercises_timeouts_failures_and_unsandboxed_kernels():
    timed_out = ExerciseGrade("01.1", Status.FAILED, 0, 1, "…", mistake="timeout", case_mistakes=["timeout", ""])
    not_graded = ExerciseGrade("01.2", Status.NOT_GRADED, 0, 1, "…", mistake="not-graded")
    records = [record_of("ann", {"01.1": timed_out, "01.2": not_graded}), record_of("bob", {"01.1": timed_out}),
               small_record("cy", notebooks=[], problems=["the grader failed (OSError: x); nothing was graded"], grading_failed=True),
               small_record("dee", sandbox=NO_SANDBOX), small_record("eve", sandbox=SANDBOXED)]
    rows = dict(parsed(class_report.page(records)).tables["Grading health"][1:])
    assert rows["exercise grades not graded (the grader could not judge them)"] == "1"
    assert rows["exercise grades with a case that ran past the time limit"] == "2"
    assert rows["students whose grading itself failed (nothing graded)"] == "1"
    assert rows["students whose kernels ran without the sandbox"] == "1"


def test_a_learner_with_two_timeouts_is_listed_for_help():
    timed_out = ExerciseGrade("01.1", Status.FAILED, 0, 1, "…", mistake="timeout", case_mistakes=["timeout"])
    records = [record_of("ann", {"01.1": timed_out, "01.2": dataclasses.replace(timed_out, id="01.2")}), record_of("bob", {"01.1": timed_out})]
    rows = parsed(class_report.page(records)).tables["Repeated timeouts (two exercises or more)"]
    assert rows[1:] == [["ann", "2"]]


HOSTILE = ['<img src=x onerror="alert(1)">', "**Total: 99** [prize](https://evil.example)", '=HYPERLINK("https://evil.example","x")',
           "<script>fetch('https://evil.example')</script>"]


def test_student_names_from_folders_and_the_roster_show_as_text_in_the_report(tmp_path):
    records = [record_of(name, {}) for name in HOSTILE]
    roster = {name: RosterEntry(name, "u1", name) for name in HOSTILE}
    write_outputs(records, tmp_path)
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    text_with_roster = class_report.page(records, roster=roster)
    for page in (text, text_with_roster):
        parsed_page = parsed(page)
        assert parsed_page.tags["img"] == len(parsed_page.images) and all(i["src"].startswith("data:") for i in parsed_page.images)
        assert not parsed_page.tags["script"] and "https://evil" not in [link for link in parsed_page.links]
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page and "<img src=x" not in page
        assert "&lt;script&gt;" in page and "<script>" not in page
        assert "**Total: 99** [prize](https://evil.example)" in page  # Markdown is not read in HTML: shown as written
    summary = (tmp_path / "summary.csv").read_text(encoding="utf-8")
    assert "=HYPERLINK" not in summary.replace("'=HYPERLINK", "")


def test_with_a_roster_the_report_shows_each_learners_points_per_notebook():
    one = {"01.1": ExerciseGrade("01.1", Status.PASSED, 1, 1, "ok")}
    two = {**one, "02.1": ExerciseGrade("02.1", Status.PASSED, 1, 1, "ok")}
    roster = {"ann": RosterEntry("ann", "u1", "Ann A."), "bob": RosterEntry("bob", "u2", "Bob B."), "cy": RosterEntry("cy", "u3", "")}
    rows = parsed(class_report.page([record_of("ann", two), record_of("bob", one)], roster=roster)).tables[
        "Points per notebook (– : not handed in yet)"]
    by_name = {row[0]: row[1:] for row in rows[1:]}
    assert by_name["Ann A."][:3] == ["1", "1", "–"] and by_name["Bob B."][:3] == ["1", "–", "–"] and by_name["cy"][:2] == ["–", "–"]
    assert by_name["class mean (of those who handed it in)"][:2] == ["1.00", "1.00"]
    assert "Points per notebook" not in class_report.page([record_of("ann", two)])


def test_the_same_records_give_the_same_page():
    records = [record_of("ann", {}), record_of("bob", {})]
    assert class_report.page(records) == class_report.page(list(reversed(records)))


def test_the_mistake_table_of_summary_csv_neutralises_formulas(tmp_path):
    grade = ExerciseGrade("01.1", Status.FAILED, 0, 1, "…", mistake="number-wrong", case_mistakes=["number-wrong"])
    write_outputs([record_of('=HYPERLINK("https://evil.example")', {"01.1": grade})], tmp_path)
    rows = list(csv.reader((tmp_path / "summary.csv").open(encoding="utf-8")))
    assert ["number-wrong", "01.1", hint_of("number-wrong"), "1", "1.000"] in rows
    assert all(not cell.startswith("=") for row in rows for cell in row)


def test_a_page_for_no_students_still_renders():
    page = parsed(class_report.page([]))
    assert "Grading health" in page.tables and page.tables["Lowest totals"][1][0] == "none"


def test_the_sections_to_re_teach_are_read_from_the_notebooks():
    sections = class_report.exercise_sections()
    assert set(sections) == set(EXERCISES)
    assert sections["03.4"].startswith("03 · ") and "Broadcasting" in sections["03.4"]



def test_one_run_per_assignment_into_one_out_builds_each_learners_progress(tmp_path):
    first = {"01.1": ExerciseGrade("01.1", Status.PASSED, 1, 1, "ok")}
    second = {"02.1": ExerciseGrade("02.1", Status.FAILED, 0, 1, "…", mistake="02.1/indices-from-one", case_mistakes=["02.1/indices-from-one"])}
    roster = {"ann": RosterEntry("ann", "u1", "Ann A.")}
    write_outputs([record_of("ann", first)], tmp_path, roster)
    write_outputs([record_of("ann", second)], tmp_path)
    kept = json.loads((tmp_path / "ann.json").read_text(encoding="utf-8"))
    assert kept["exercises"]["01.1"]["status"] == "passed" and kept["exercises"]["02.1"]["mistake"] == "02.1/indices-from-one"
    assert kept["total"] == 1
    rows = parsed((tmp_path / "report.html").read_text(encoding="utf-8")).tables["Points per notebook (– : not handed in yet)"]
    assert rows[1][:4] == ["Ann A.", "1", "0", "–"]
    write_outputs([record_of("ann", {"01.1": dataclasses.replace(first["01.1"], status=Status.FAILED, points=0)})], tmp_path)  # 01 graded again
    again = json.loads((tmp_path / "ann.json").read_text(encoding="utf-8"))
    assert again["exercises"]["01.1"]["status"] == "failed" and again["exercises"]["02.1"]["status"] == "failed" and again["total"] == 0


def test_the_grader_names_raw_errors_timeouts_and_missing_results_by_kind():
    exercise = EXERCISES["01.1"]
    case, expected = (torch.zeros(2, 3),), 2
    named = {kind: judge.judge_case(exercise, case, expected, record).mistake for kind, record in {
        "timeout": {"timeout": True}, "error/NameError": {"error": "NameError: name 'x' is not defined"},
        "error/own-exception": {"error": "<b>Mine</b>: boom"}, "no-result": None, "index-from-one": {"error": "IndexError: index 3 is out of bounds"},
    }.items()}
    assert named == {kind: kind for kind in named}
    placeholder_grade = judge.score(exercise, [], [], {"status": "placeholder", "cases": []})
    assert placeholder_grade.mistake == "not-attempted" and hint_of("not-attempted")
    assert judge.score(exercise, [], [], {"status": "missing", "cases": []}).mistake == "function-missing"
