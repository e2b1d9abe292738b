"""The grader: hidden cases from the secret, safe reading of results, scoring, the gradebook.

The class test grades the solution notebooks (full marks) and their student release (zero, no
problems) for the fixture notebook and every notebook in notebooks/ that has exercises.
"""

from __future__ import annotations

import csv
import json
import os
import pickle
import shutil
from pathlib import Path

import nbformat
import pytest
import torch

from exercise_contract import graded as graded_in_process
from exercise_contract import numbers_in, spellings
from helpers.checks import EXERCISES
from helpers.checks.nb12 import r_squared
from helpers.grading import cases as hidden
from helpers.grading import judge, report
from helpers.grading.__main__ import main
from helpers.grading.release import strip_solutions
from helpers.grading.sandbox import kernel_environment, shadow_helpers

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "notebooks"
SECRET = "test-secret-0fd2"


def course_notebooks() -> list[Path]:
    """Every notebook in notebooks/ whose number has exercises."""
    numbers = {key[:2] for key in EXERCISES}
    return [p for p in sorted(REPO.glob("notebooks/*.ipynb")) if p.name[:2] in numbers]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A class: solution and release of the fixture notebook and of every course notebook."""
    root = tmp_path_factory.mktemp("class")
    subs = root / "submissions"
    for student, notebooks in (("fixture", sorted(FIXTURE.glob("*.ipynb"))), ("course", course_notebooks())):
        for path in notebooks:
            (subs / f"{student}-solution").mkdir(parents=True, exist_ok=True)
            (subs / f"{student}-release").mkdir(parents=True, exist_ok=True)
            shutil.copy(path, subs / f"{student}-solution" / path.name)
            nbformat.write(strip_solutions(nbformat.read(path, as_version=4)), subs / f"{student}-release" / path.name)
    out = root / "grades"
    assert main(["grade", str(subs), "--out", str(out), "--jobs", "2", "--secret", SECRET, "--quiet", "--cell-timeout", "60"]) == 0
    records = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}
    return out, records


def exercises_in(record: dict) -> list[str]:
    return [key for key, grade in record["exercises"].items() if grade["status"] != judge.NOT_SUBMITTED]


def test_solution_notebooks_score_full_marks(graded):
    _, records = graded
    for student in (s for s in records if s.endswith("-solution")):
        record = records[student]
        assert record["problems"] == []
        for key in exercises_in(record):
            grade = record["exercises"][key]
            assert (grade["status"], grade["points"]) == (judge.PASSED, EXERCISES[key].points), (student, key, grade["message"])


def test_student_release_scores_zero_without_problems(graded):
    _, records = graded
    for student in (s for s in records if s.endswith("-release")):
        assert records[student]["total"] == 0 and records[student]["problems"] == []
        assert {records[student]["exercises"][k]["status"] for k in exercises_in(records[student])} == {judge.NOT_ATTEMPTED}


def test_gradebook_has_a_column_per_exercise_and_a_row_per_student(graded):
    out, records = graded
    rows = list(csv.reader((out / "grades.csv").open()))
    assert rows[0] == ["student", *sorted(EXERCISES), "total", "max"]
    by_student = {row[0]: row for row in rows[1:]}
    assert set(by_student) == set(records)
    solution = by_student["fixture-solution"]
    assert solution[1:6] == ["1", "1", "2", "2", "2"] and float(solution[-2]) >= 8
    assert solution[-1] == str(sum(e.points for e in EXERCISES.values()))


def test_record_holds_status_points_message_time_versions_and_tests_hash(graded):
    _, records = graded
    record = records["fixture-solution"]
    grade = record["exercises"]["01.3"]
    assert set(grade) >= {"status", "points", "message", "time"} and grade["time"] > 0
    assert record["versions"]["torch"] == torch.__version__
    assert record["tests_hash"] == hidden.definitions_hash()


def test_feedback_shows_no_test_code_and_no_output_holds_the_secret(graded):
    out, _ = graded
    for path in out.iterdir():
        assert SECRET not in path.read_text(encoding="utf-8")
    page = (out / "fixture-release.md").read_text(encoding="utf-8")
    assert "01.3" in page and "def " not in page and "hidden_cases" not in page and "judge" not in page


def test_hidden_cases_depend_on_the_secret_and_only_on_it():
    exercise = EXERCISES["01.2"]
    same = hidden.hidden_cases(exercise, "a"), hidden.hidden_cases(exercise, "a")
    assert same[0] == same[1]
    assert hidden.hidden_cases(exercise, "a") != hidden.hidden_cases(exercise, "b")


def test_a_missing_secret_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(hidden.SECRET_VARIABLE, raising=False)
    (tmp_path / "subs").mkdir()
    assert main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out")]) == 2
    assert "GRADER_SECRET" in capsys.readouterr().err


def test_a_missing_submissions_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"), "--secret", "s"]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_the_kernel_environment_carries_no_secret_and_no_reference_solutions(tmp_path, monkeypatch):
    monkeypatch.setenv(hidden.SECRET_VARIABLE, SECRET)
    lib = shadow_helpers(tmp_path / "lib")
    env = kernel_environment(tmp_path, lib)
    assert SECRET not in json.dumps(env) and hidden.SECRET_VARIABLE not in env
    assert not list(lib.rglob("nb[0-9]*.py")) and not (lib / "helpers" / "grading").exists()
    assert env["CUDA_VISIBLE_DEVICES"] == ""  # grading on the CPU, also where --no-sandbox leaves a GPU in reach


def test_a_crafted_pickle_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "ran"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "01.1.pt"
    path.write_bytes(pickle.dumps({"status": "ran", "cases": [Exploit()]}, protocol=2))
    with pytest.raises(judge.UnreadableResults, match="not plain data"):
        judge.read_results(path)
    assert not marker.exists()


def test_results_that_are_not_a_plain_file_are_refused(tmp_path):
    (tmp_path / "link.pt").symlink_to("/dev/zero")
    with pytest.raises(judge.UnreadableResults, match="not a plain file"):
        judge.read_results(tmp_path / "link.pt")
    with pytest.raises(judge.UnreadableResults, match="no results"):
        judge.read_results(tmp_path / "absent.pt")


UNEVENTFUL = {"returned": [], "moved": [], "gradient_to": []}  # kernel_side.observe's facts of a call that kept every rule


def test_partial_credit_is_the_fraction_of_hidden_cases_passed():
    exercise = EXERCISES["01.1"]
    cases = hidden.hidden_cases(exercise, SECRET)
    expected = hidden.expected_results(exercise, cases)
    records = [{"value": want, "arguments": case, "facts": UNEVENTFUL, "time": 0.1} for case, want in zip(cases, expected, strict=True)]
    records[0] = {**records[0], "value": -1}
    grade = judge.score(exercise, cases, expected, {"status": "ran", "cases": records})
    assert grade.status == judge.PARTIAL and grade.points == round(exercise.points * (len(cases) - 1) / len(cases), 2)
    assert grade.message.startswith(f"{len(cases) - 1} of {len(cases)} hidden cases passed")


def test_one_case_that_breaks_a_rule_of_the_statement_costs_the_whole_exercise():
    exercise = EXERCISES["02.2"]  # "t itself must not change"
    cases = hidden.hidden_cases(exercise, SECRET)
    expected = hidden.expected_results(exercise, cases)
    records = [{"value": want, "arguments": case, "facts": UNEVENTFUL, "time": 0.1} for case, want in zip(cases, expected, strict=True)]
    records[0] = {**records[0], "arguments": (expected[0],)}  # the first call left t changed
    grade = judge.score(exercise, cases, expected, {"status": "ran", "cases": records})
    assert grade.points == 0 and grade.status == judge.FAILED and grade.cases_passed == len(cases) - 1
    assert "costs the whole exercise" in grade.message and "changed its input `t`" in grade.message


def test_a_case_without_the_arguments_after_the_call_or_with_malformed_facts_fails():
    exercise = EXERCISES["01.1"]
    cases = hidden.hidden_cases(exercise, SECRET)
    expected = hidden.expected_results(exercise, cases)
    for broken in ({"value": expected[0]}, {"value": expected[0], "arguments": cases[0], "facts": {"returned": "all"}},
                   {"value": expected[0], "arguments": (), "facts": UNEVENTFUL}):
        assert judge.judge_case(exercise, cases[0], expected[0], broken) == "no record of the arguments after the call was kept for this case."


def test_values_that_are_not_data_come_back_as_opaque_and_fail_exact_type_checks():
    exercise = EXERCISES["01.2"]
    cases = hidden.hidden_cases(exercise, SECRET)
    expected = hidden.expected_results(exercise, cases)
    records = [{"value": {"__grader_opaque__": "__main__.AnyTensor"}, "arguments": case, "facts": UNEVENTFUL, "time": 0.0} for case in cases]
    grade = judge.score(exercise, cases, expected, {"status": "ran", "cases": records})
    assert grade.points == 0 and "not a tensor" in grade.message


def raises_with_its_inputs(*case):
    raise ValueError(f"got {case}")


def answers_with_its_inputs(*case):
    return str(case)


# Wrong answers whose hints quote the case in the notebook: the values, the expected result, the inputs.
HIDDEN_CASE_MISTAKES = [
    ("07.1", lambda a, b, c: [-3.0, -3.0 * c, -3.0 * b]),
    ("07.1", raises_with_its_inputs),
    ("07.2", answers_with_its_inputs),
    ("12.2", lambda y, pred: 1 - r_squared(y, pred)),
    ("01.4", lambda low, high, n: torch.rand(n) * high),
    ("03.1", lambda t: t.sum() / (t.numel() + 1)),
]


def test_feedback_on_hidden_cases_names_the_mistake_without_their_inputs_or_expected_values():
    """Re-grading with one secret must not let a learner collect the hidden cases and their answers."""
    for exercise_id, attempt in HIDDEN_CASE_MISTAKES:
        exercise = EXERCISES[exercise_id]
        cases = hidden.hidden_cases(exercise, SECRET)
        secrets = {text for number in numbers_in([cases, hidden.expected_results(exercise, cases)]) for text in spellings(number)}
        grade = graded_in_process(exercise_id, attempt, SECRET)
        record = {"student": "ann", "total": 0, "max": exercise.points, "problems": [], "ignored": [],
                  "exercises": {exercise_id: grade.as_dict()}}
        text = report.feedback(record)
        assert grade.points == 0 and grade.message in text, (exercise_id, grade.message)
        assert not [secret for secret in secrets if secret in text], (exercise_id, text)


def test_a_fault_in_the_grader_itself_is_that_students_row_with_the_traceback(tmp_path, monkeypatch):
    from helpers.grading import grade
    from helpers.grading.sandbox import Limits

    def broken(*args, **kwargs):
        raise KeyError("a bug in the grader")

    monkeypatch.setattr(grade, "grade_student", broken)
    folder = tmp_path / "ada"
    folder.mkdir()
    record = grade.grade_one((folder, "secret", Limits()), slot=None)
    assert record["student"] == "ada" and record["total"] == 0
    assert "the grader failed on this submission (KeyError" in record["problems"][0]
    assert "a bug in the grader" in record["grader_error"]
