"""Hostile and broken submissions: each gets a row with a reason, costs only its student, never
scores more than the untouched student release, and leaves every submitted file byte-identical.

The fixtures are tests/fixtures/submissions/<category>/ (made by tests/fixtures/make_fixtures.py),
graded together as one class next to the untouched release and the solution.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import pytest

from helpers.grading import judge
from helpers.grading.__main__ import main

SUBMISSIONS = Path(__file__).resolve().parent / "fixtures" / "submissions"
PWNED = Path("/tmp/grader-fixture-pwned")
CATEGORIES = sorted(p.name for p in SUBMISSIONS.iterdir() if p.name not in ("solution", "release"))

# What the reason must say, per category (any one of the strings).
REASONS = {
    "malformed_json": ["not valid JSON"],
    "empty_file": ["empty"],
    "old_nbformat": ["old nbformat 3"],
    "missing_exercises": ["`rank_of` is not defined", "`from_nested` is not defined"],
    "infinite_loop": ["longer than the"],
    "os_exit": ["kernel died"],
    "infinite_loop_in_function": ["ran past the time limit"],
    "memory_bomb": ["ran out of memory"],
    "huge_output": ["printed more than 8 MiB of output"],
    "deletes_files": ["FileNotFoundError", "No such file"],
    "replaces_checks": ["you returned 'anything'"],
    "replaces_helpers": ["you returned a Python list"],
    "monkeypatches_torch": ["you returned -1, expected", "the shape is (1,)"],
    "claims_equality": ["__main__.Anything object", "__main__.AnyTensor object", "__main__.Number object"],
    "input_transformer": ["left no results"],
    "crafted_pickle": ["not plain data"],
    "kills_grader": ["grading process stopped"],
    "calls_reference": ["No module named 'helpers.checks.nb01'", "flagged for review"],
}


def fingerprint(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the fixture class in place (the grader must not touch it); the records by student."""
    PWNED.unlink(missing_ok=True)
    before = fingerprint(SUBMISSIONS)
    out = tmp_path_factory.mktemp("hostile")
    scratch = tmp_path_factory.mktemp("scratch")
    saved, tempfile.tempdir = tempfile.tempdir, str(scratch)  # where the grader makes its working copies
    try:
        code = main(["grade", str(SUBMISSIONS), "--out", str(out), "--jobs", "2", "--secret", "hostile-secret",
                     "--timeout", "60", "--cell-timeout", "10", "--memory", "2048", "--quiet"])
    finally:
        tempfile.tempdir = saved
    records = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}
    return code, before, records, sorted(scratch.glob("grade-*"))  # (pymp-* is multiprocessing's own, removed at exit)


def test_every_category_has_a_fixture_and_a_reason_to_find():
    assert set(CATEGORIES) == set(REASONS)


def test_grading_the_hostile_class_succeeds_and_leaves_every_submitted_file_byte_identical(graded):
    code, before, _, _ = graded
    assert code == 0
    assert fingerprint(SUBMISSIONS) == before


def test_hostile_students_cost_nobody_else(graded):
    _, _, records, _ = graded
    assert records["solution"]["total"] == 8 and records["solution"]["problems"] == []
    assert records["release"]["total"] == 0


@pytest.mark.parametrize("category", CATEGORIES)
def test_hostile_submission_gets_a_row_with_a_reason_and_no_more_than_the_release(graded, category):
    _, _, records, _ = graded
    record = records[category]
    assert record["total"] <= records["release"]["total"]
    assert all(grade["status"] != judge.PASSED for grade in record["exercises"].values())
    said = "\n".join(record["problems"] + [g["message"] for g in record["exercises"].values()])
    assert any(reason in said for reason in REASONS[category]), said + "\n" + record.get("grader_error", "")


def test_a_crafted_pickle_never_runs_in_the_grader(graded):
    assert not PWNED.exists()


def test_a_cell_that_breaks_the_kernel_is_skipped_and_the_rest_of_the_notebook_still_runs(graded):
    _, _, records, _ = graded
    for category in ("infinite_loop", "os_exit", "memory_bomb"):
        notebook = records[category]["notebooks"][0]
        assert notebook["skipped"] == ["code cell 2"], category  # the hostile cell, right after the setup cell
        statuses = {g["status"] for key, g in records[category]["exercises"].items() if key.startswith("01.")}
        assert statuses == {judge.NOT_ATTEMPTED}, category  # the placeholders after the bad cell were defined


def test_a_function_that_hangs_or_kills_the_kernel_costs_only_its_exercise(graded):
    _, _, records, _ = graded
    exercises = records["infinite_loop_in_function"]["exercises"]
    assert "ran past the time limit" in exercises["01.1"]["message"]
    assert "kernel died" in exercises["01.2"]["message"]
    assert {exercises[key]["status"] for key in ("01.3", "01.4", "01.5")} == {judge.NOT_ATTEMPTED}


def test_no_working_copy_is_left_behind_even_when_a_worker_is_killed(graded):
    *_, leftovers = graded
    assert leftovers == []
