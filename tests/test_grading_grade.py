"""The grader: hidden cases from the secret, safe reading of results, scoring, the gradebook.

The class test grades the solution notebooks (full marks) and their student release (zero, no
problems) for the fixture notebook and every notebook in notebooks/ that has exercises.
"""

from __future__ import annotations

import ast
import csv
import dataclasses
import functools
import json
import os
import pickle
import resource
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
import torch

from exercise_contract import graded as graded_in_process
from exercise_contract import numbers_in, spellings
from helpers.checks import EXERCISES
from helpers.checks.core import clone_case
from helpers.checks.nb12 import r_squared
from helpers.grading import cases as hidden
from helpers.grading import judge, report
from helpers.grading.__main__ import main
from helpers.grading.record import Status, StudentRecord
from helpers.grading.slots import FreshSlot, answer_free_lib, kernel_environment
from helpers.grading.strip import strip_solutions
from helpers.grading.text import markdown_line

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
    return [key for key, grade in record["exercises"].items() if grade["status"] != Status.NOT_SUBMITTED]


def test_solution_notebooks_score_full_marks(graded):
    _, records = graded
    for student in (s for s in records if s.endswith("-solution")):
        record = records[student]
        assert record["problems"] == []
        for key in exercises_in(record):
            grade = record["exercises"][key]
            assert (grade["status"], grade["points"]) == (Status.PASSED, EXERCISES[key].points), (student, key, grade["message"])


def test_student_release_scores_zero_without_problems(graded):
    _, records = graded
    for student in (s for s in records if s.endswith("-release")):
        assert records[student]["total"] == 0 and records[student]["problems"] == []
        assert {records[student]["exercises"][k]["status"] for k in exercises_in(records[student])} == {Status.NOT_ATTEMPTED}


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


# Run in a fresh Python: note whether the forkserver is running when the command first imports torch.
FORKSERVER_AT_TORCH_IMPORT = """
import sys
from multiprocessing import forkserver

class NoteTorchImport:
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            print("forkserver running at torch import:", forkserver._forkserver._forkserver_pid is not None)
            sys.meta_path.remove(self)

sys.meta_path.insert(0, NoteTorchImport())
from helpers.grading.__main__ import main
main(["grade", sys.argv[1], "--out", sys.argv[2], "--secret", "s"])
"""


def test_the_grading_command_starts_its_forkserver_before_it_imports_torch(tmp_path):
    """The server's own import of torch then overlaps the command's, instead of following it (the start-up
    that does not divide between job slots)."""
    done = subprocess.run([sys.executable, "-c", FORKSERVER_AT_TORCH_IMPORT, str(tmp_path / "nowhere"), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120)
    assert "forkserver running at torch import: True" in done.stdout, done.stdout + done.stderr


# Run in a fresh Python (a forkserver takes its preload list when it starts): ask a process forked from the grading
# forkserver whether the public examples were computed before it was forked.
EXAMPLES_IN_A_GRADING_PROCESS = """
import multiprocessing
from helpers.grading import FORKSERVER_PRELOAD

context = multiprocessing.get_context("forkserver")
context.set_forkserver_preload([FORKSERVER_PRELOAD])
with context.Pool(1) as pool:
    computed = pool.apply(eval, ("__import__('helpers.grading.answer_free').grading.answer_free.examples_file.cache_info().currsize",))
print("computed before the fork:", computed == 1)
"""


def test_grading_processes_find_the_public_examples_computed_once_by_their_forkserver():
    """Each slot's answer-free helpers ship them; computed per slot they cost every slot about 1.3 s of CPU."""
    done = subprocess.run([sys.executable, "-c", EXAMPLES_IN_A_GRADING_PROCESS], capture_output=True, text=True, timeout=300)
    assert "computed before the fork: True" in done.stdout, done.stdout + done.stderr


def test_the_kernel_environment_carries_no_secret_and_no_reference_solutions(tmp_path, monkeypatch):
    monkeypatch.setenv(hidden.SECRET_VARIABLE, SECRET)
    lib = answer_free_lib(tmp_path / "lib")
    env = kernel_environment(tmp_path, lib)
    assert SECRET not in json.dumps(env) and hidden.SECRET_VARIABLE not in env
    assert not (lib / "helpers" / "grading").exists()
    shipped = {node.name: node.body for node in ast.parse((lib / "helpers" / "checks" / "nb01.py").read_text(encoding="utf-8")).body
               if isinstance(node, ast.FunctionDef)}
    for exercise in (e for key, e in EXERCISES.items() if key.startswith("01.")):
        for function in (exercise.reference, exercise.hidden_cases):
            body = [statement for statement in shipped[function.__name__] if not isinstance(getattr(statement, "value", None), ast.Constant)
                    or statement.value.value is Ellipsis]
            assert ast.unparse(body) == "...", (function.__name__, ast.unparse(body))
    assert (lib / "helpers" / "checks" / "public_examples.pt").is_file()  # so a check cell answers as in the release
    assert env["CUDA_VISIBLE_DEVICES"] == ""  # grading on the CPU, also where --no-sandbox leaves a GPU in reach


def test_a_crafted_pickle_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "ran"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "01.1.pt"
    crafted = pickle.dumps({"status": "ran", "cases": [Exploit()]}, protocol=2)
    path.write_bytes(crafted)  # a bare pickle: torch.load would try its legacy format
    with pytest.raises(judge.UnreadableResults, match="not a zip archive"):
        judge.read_results(path)
    with zipfile.ZipFile(path, "w") as archive:  # laid out as torch.save lays out its archive
        archive.writestr("archive/data.pkl", crafted)
        archive.writestr("archive/version", "3\n")
    with pytest.raises(judge.UnreadableResults, match="not plain data"):
        judge.read_results(path)
    assert not marker.exists()


def saved(tmp_path: Path, value, compress: bool = False) -> Path:
    """A results file holding `value` as a case's result, written by torch.save (its entries compressed, if asked)."""
    path = tmp_path / "results.pt"
    torch.save({"status": "ran", "cases": [{"value": value, "time": 0.1}]}, path)
    if compress:
        with zipfile.ZipFile(path) as stored:
            entries = [(info.filename, stored.read(info)) for info in stored.infolist()]
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in entries:
                archive.writestr(name, data)
    return path


def test_results_as_the_kernel_writes_them_are_read(tmp_path):
    record = judge.read_results(saved(tmp_path, [torch.arange(6).reshape(2, 3), (), (), {"a": [1.5, "x"]}]))
    assert torch.equal(record["cases"][0]["value"][0], torch.arange(6).reshape(2, 3))


def test_a_results_file_with_compressed_entries_is_refused_before_it_inflates(tmp_path):
    path = saved(tmp_path, torch.zeros(2**24), compress=True)  # 64 MiB of tensor in a file of about 64 KiB
    assert path.stat().st_size < 2**20 and torch.load(path, weights_only=True)["cases"][0]["value"].numel() == 2**24
    with pytest.raises(judge.UnreadableResults, match="compressed entries"):
        judge.read_results(path)


def test_results_made_of_shared_references_are_refused_before_they_are_walked(tmp_path):
    nest = [0.0]
    for _ in range(20):  # 2**20 leaves to walk, from a file of a few hundred bytes
        nest = [nest, nest]
    path = saved(tmp_path, nest)
    assert path.stat().st_size < 4096
    with pytest.raises(judge.UnreadableResults, match="shared reference"):
        judge.read_results(path)


@pytest.mark.parametrize(("value", "reason"), [
    (functools.reduce(lambda inner, _: [inner], range(100), [1]), "nested more than"),
    ([0] * (judge.MAX_ITEMS + 1), "more than"),
    (torch.zeros(1).expand(judge.MAX_TENSOR_ELEMENTS + 1), "tensor elements"),  # one element stored, a huge view
    ("x" * (judge.MAX_PICKLE_BYTES + 1), "structure is over"),
])
def test_results_over_a_bound_are_refused(tmp_path, value, reason):
    with pytest.raises(judge.UnreadableResults, match=reason):
        judge.read_results(saved(tmp_path, value))


def test_judging_runs_under_an_address_space_limit_that_is_lifted_after():
    before = resource.getrlimit(resource.RLIMIT_AS)
    with pytest.raises(MemoryError), judge.memory_limit(256 * 2**20):
        bytearray(2**30)
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    assert len(bytearray(2**29)) == 2**29


def test_an_exercise_whose_judging_runs_out_of_memory_scores_0_with_the_reason(tmp_path, monkeypatch):
    from helpers.grading import grade
    from helpers.grading.session import Run

    greedy = dataclasses.replace(EXERCISES["01.1"], judge=lambda got, case, expected: len(bytearray(2**30)) and None)
    cases = hidden.hidden_cases(greedy, SECRET)
    path = tmp_path / "01.1.pt"  # as kernel_side writes a case's record: the value, the arguments after the call, the facts
    torch.save({"status": "ran", "cases": [{"value": 1, "time": 0.1, "arguments": clone_case(case),
                                            "facts": {"returned": [], "moved": [], "gradient_to": []}} for case in cases]}, path)
    monkeypatch.setattr(judge, "JUDGE_MEMORY_BYTES", 256 * 2**20)
    result = grade.grade_exercise(greedy, cases, path, Run())
    assert result.status == Status.NOT_GRADED and "more than the grader's 256 MiB" in result.message


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
    assert grade.status == Status.PARTIAL and grade.points == round(exercise.points * (len(cases) - 1) / len(cases), 2)
    assert grade.message.startswith(f"{len(cases) - 1} of {len(cases)} hidden cases passed")


def test_one_case_that_breaks_a_rule_of_the_statement_costs_the_whole_exercise():
    exercise = EXERCISES["02.2"]  # "t itself must not change"
    cases = hidden.hidden_cases(exercise, SECRET)
    expected = hidden.expected_results(exercise, cases)
    records = [{"value": want, "arguments": case, "facts": UNEVENTFUL, "time": 0.1} for case, want in zip(cases, expected, strict=True)]
    records[0] = {**records[0], "arguments": (expected[0],)}  # the first call left t changed
    grade = judge.score(exercise, cases, expected, {"status": "ran", "cases": records})
    assert grade.points == 0 and grade.status == Status.FAILED and grade.cases_passed == len(cases) - 1
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
        record = StudentRecord("ann", {exercise_id: grade}, [], [], [], total=0, max=exercise.points, versions={}, tests_hash="", graded_at="")
        text = report.feedback(record)
        assert grade.points == 0 and markdown_line(grade.message) in text, (exercise_id, grade.message)  # as literal text
        assert not [secret for secret in secrets if secret in text], (exercise_id, text)


def test_a_fault_in_the_grader_itself_is_that_students_row_with_the_traceback(tmp_path, monkeypatch):
    from helpers.grading import grade, workers
    from helpers.grading.limits import Limits

    def broken(*args, **kwargs):
        raise KeyError("a bug in the grader")

    monkeypatch.setattr(grade, "grade_student", broken)
    folder = tmp_path / "ada"
    folder.mkdir()
    record = workers.grade_one((folder, "secret", Limits()), slot=FreshSlot(tmp_path / "slot"))
    assert record.student == "ada" and record.total == 0 and record.grading_failed
    assert "the grader failed on this submission (KeyError" in record.problems[0]
    assert "a bug in the grader" in record.grader_error


def test_file_names_that_are_not_utf8_enter_the_grader_escaped_and_the_record_can_be_written(tmp_path):
    from helpers.grading import grade
    from helpers.grading.report import write_outputs

    folder = tmp_path / "submissions" / os.fsdecode(b"caf\xe9")  # a Latin-1 folder name
    folder.mkdir(parents=True)
    (folder / os.fsdecode(b"notes-\xe9.txt")).write_bytes(b"")
    files = grade.read_files(folder)
    assert list(files) == ["notes-\\xe9.txt"]
    record = grade.grade_files(folder.name, files, {}, grade.Limits(), FreshSlot(tmp_path / "slot"))
    assert record.student == "caf\\xe9" and record.ignored == ["notes-\\xe9.txt"]
    write_outputs([record], tmp_path / "out")
    assert "notes-\\\\xe9.txt" in (tmp_path / "out" / "caf_xe9.md").read_text(encoding="utf-8")
