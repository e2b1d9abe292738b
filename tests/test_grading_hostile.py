"""Hostile and broken submissions: each gets a row with a reason, costs only its student, never
scores more than the untouched student release, and leaves every submitted file byte-identical.

The fixtures are tests/fixtures/submissions/<category>/ (made by tests/fixtures/make_fixtures.py),
graded together as one class next to the untouched release and the solution, by `python -m
helpers.grading grade` run as the instructor runs it: from the checkout, GRADER_SECRET in its
environment, kernels in the OS sandbox. The class is a copy, so a sandbox that fails cannot change
the committed fixtures. The sandbox's own fixtures (SANDBOX_CELLS) are also graded with
--no-sandbox, where each attack must work: that shows they are real attacks, stopped by the sandbox.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fixtures.make_fixtures import BYTE_NAMES, NETWORK_PORTS, RENAMED, REPO_MARKER, SANDBOX_CELLS

from helpers.grading.bwrap import NO_SANDBOX, SANDBOXED
from helpers.grading.record import Status
from helpers.grading.text import html_text, safe_text

REPO = Path(__file__).resolve().parent.parent
SUBMISSIONS = Path(__file__).resolve().parent / "fixtures" / "submissions"
PWNED = Path("/tmp/grader-fixture-pwned")
pytestmark = pytest.mark.slow  # the whole hostile class graded twice (sandbox, then not): `make test-slow`
SECRET = "hostile-secret-5b1e"  # in the grader's initial environment only, as `GRADER_SECRET=... make grade` puts it
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
    "replaces_checks": ["expected a Python int"],
    "replaces_helpers": ["you returned a Python list"],
    "monkeypatches_torch": ["you returned …, expected …", "the shape is …"],
    "claims_equality": ["not a tensor", "expected a Python int"],
    "input_transformer": ["left no results"],
    "crafted_pickle": ["not plain data", "not a zip archive"],
    "kills_grader": ["still has the `...` placeholder"],  # in the sandbox its kill reaches nothing; see the unsandboxed class
    "calls_reference": ["No module named 'helpers.checks.nb01'", "flagged for review"],
    "reads_references": ["found no reference solutions to load"],
    "copies_classmate": ["found no classmate's notebook to copy"],
    "reads_secret": ["found no grading secret"],
    "writes_outside": ["found nothing outside its folder to write to"],
    "opens_network": ["could not connect to 127.0.0.1"],
    "deep_tree": ["left a tree 1000 folders deep"],
    "surrogate_message": ["lone surrogate in a cell"],  # what its function raised is a hidden case's: shown as "…"
    "forged_feedback": ["**Total: 24 / 24 points** - ✓ **01.1**"],
    "formula_name": ["HYPERLINK"],
    "escape_name": ["[2J]0;pwnedeve escape"],
    "latin1_file": ["handed in a file with a Latin-1 name"],
    "huge_message": ["sent a 64 MiB message"],  # the grader never read it: not counted as printed output
    "compressed_results": ["compressed entries"],
    "shared_references": ["shared reference"],
    "owns_the_machine": ["found no way to own the machine"],
    "poisons_zygote": ["could not change its zygote"],
    "hogs_memory": ["could not hold", "the kernel died while running it"],  # the OOM killer may pick the kernel itself
    "forks_processes": ["could start only"],
}
UNSANDBOXED = [*SANDBOX_CELLS, "kills_grader", "solution", "release"]  # the class graded again with --no-sandbox

def fingerprint(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


class Listener:
    """A TCP server on 127.0.0.1 (the first free port of NETWORK_PORTS) that keeps what each connection sends."""

    def __init__(self):
        self.received: list[bytes] = []
        self.server = socket.socket()
        for port in NETWORK_PORTS:
            try:
                self.server.bind(("127.0.0.1", port))
                break
            except OSError:
                continue
        else:
            pytest.fail(f"no free port in {NETWORK_PORTS} for the test server")
        self.server.listen()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:  # closed
                return
            with connection:
                connection.settimeout(5)
                try:
                    self.received.append(connection.recv(4096))
                except OSError:
                    self.received.append(b"")

    def from_run(self, scratch: Path) -> list[bytes]:
        """What reached the server from kernels of the run whose working copies were under `scratch`."""
        return [data for data in self.received if data.startswith(str(scratch).encode())]

    def close(self):
        self.server.close()


def markers_in_repo(scratch: Path) -> list[Path]:
    """The files writes_outside left in the course checkout, from the run whose working copies were under `scratch`."""
    return [p for p in REPO.glob(REPO_MARKER + "*") if p.read_text(errors="replace").startswith(str(scratch))]


def grade_copy(root: Path, students: list[str], *extra: str) -> dict:
    """Grade a copy of those fixture students as an instructor would; what the run did, and what it left."""
    submissions, out, scratch = root / "submissions", root / "grades", root / "scratch"
    scratch.mkdir()
    for student in students:  # some get a name, or a file, a repository should not hold
        target = submissions / RENAMED.get(student, student)
        shutil.copytree(SUBMISSIONS / student, target)
        if student in BYTE_NAMES:
            (target / os.fsdecode(BYTE_NAMES[student])).write_bytes(b"")
    before = fingerprint(submissions)
    listener = Listener()
    env = {**os.environ, "GRADER_SECRET": SECRET, "TMPDIR": str(scratch)}  # TMPDIR: where the grader makes its working copies
    try:
        done = subprocess.run([sys.executable, "-m", "helpers.grading", "grade", str(submissions), "--out", str(out), "--jobs", "2",
                               "--timeout", "60", "--cell-timeout", "10", "--memory", "2048", "--quiet", *extra],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    finally:
        listener.close()
        markers = markers_in_repo(scratch)
        for marker in markers:
            marker.unlink()
    categories = {safe_text(RENAMED.get(student, student)): student for student in students}
    records = {categories[record["student"]]: record for record in (json.loads(p.read_text()) for p in out.glob("*.json"))}
    return {"done": done, "records": records, "before": before, "after": fingerprint(submissions), "out": out,
            "leftovers": sorted(scratch.glob("grade-*")), "network": listener.from_run(scratch), "markers": markers}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The whole fixture class, graded in the sandbox."""
    PWNED.unlink(missing_ok=True)
    return grade_copy(tmp_path_factory.mktemp("hostile"), [p.name for p in SUBMISSIONS.iterdir()])


@pytest.fixture(scope="module")
def unsandboxed(tmp_path_factory):
    """The sandbox's fixtures, the solution and the release, graded with --no-sandbox."""
    return grade_copy(tmp_path_factory.mktemp("unsandboxed"), UNSANDBOXED, "--no-sandbox")


def test_every_category_has_a_fixture_and_a_reason_to_find():
    assert set(CATEGORIES) == set(REASONS)


def test_grading_the_hostile_class_succeeds_and_leaves_every_submitted_file_byte_identical(graded):
    assert graded["done"].returncode == 0, graded["done"].stderr
    assert graded["after"] == graded["before"]


def test_hostile_students_cost_nobody_else(graded):
    records = graded["records"]
    assert records["solution"]["total"] == 8 and records["solution"]["problems"] == []
    assert records["release"]["total"] == 0


@pytest.mark.parametrize("category", CATEGORIES)
def test_hostile_submission_gets_a_row_with_a_reason_and_no_more_than_the_release(graded, category):
    records = graded["records"]
    record = records[category]
    assert record["total"] <= records["release"]["total"]
    assert all(grade["status"] != Status.PASSED for grade in record["exercises"].values())
    said = "\n".join(record["problems"] + [g["message"] for g in record["exercises"].values()])
    assert any(reason in said for reason in REASONS[category]), said + "\n" + record.get("grader_error", "")


def test_a_crafted_pickle_never_runs_in_the_grader(graded):
    assert not PWNED.exists()


def test_a_cell_that_breaks_the_kernel_is_skipped_and_the_rest_of_the_notebook_still_runs(graded):
    records = graded["records"]
    for category in ("infinite_loop", "os_exit", "memory_bomb"):
        notebook = records[category]["notebooks"][0]
        assert notebook["skipped"] == ["code cell 2"], category  # the hostile cell, right after the setup cell
        statuses = {g["status"] for key, g in records[category]["exercises"].items() if key.startswith("01.")}
        assert statuses == {Status.NOT_ATTEMPTED}, category  # the placeholders after the bad cell were defined


def test_a_function_that_hangs_or_kills_the_kernel_costs_only_its_exercise(graded):
    exercises = graded["records"]["infinite_loop_in_function"]["exercises"]
    assert "ran past the time limit" in exercises["01.1"]["message"]
    assert "kernel died" in exercises["01.2"]["message"]
    assert {exercises[key]["status"] for key in ("01.3", "01.4", "01.5")} == {Status.NOT_ATTEMPTED}


def test_no_working_copy_is_left_behind_even_when_a_worker_is_killed(graded):
    assert graded["leftovers"] == []


def test_in_the_sandbox_nothing_outside_the_working_copy_is_read_written_or_reached(graded):
    assert graded["markers"] == []  # the course checkout
    assert not (graded["out"] / "pwned.txt").exists()  # the output folder
    assert graded["network"] == []  # the test server on 127.0.0.1
    assert graded["records"]["kills_grader"]["problems"] == []  # the grader's processes are out of sight


def test_in_the_sandbox_the_secret_appears_in_no_output_and_every_record_names_the_sandbox(graded):
    assert SECRET not in graded["done"].stdout + graded["done"].stderr
    for path in graded["out"].iterdir():
        assert SECRET not in path.read_text(encoding="utf-8"), path.name
    assert {record["sandbox"] for record in graded["records"].values()} == {SANDBOXED}
    assert "NOT SANDBOXED" not in graded["done"].stdout


def test_without_the_sandbox_each_of_its_fixtures_succeeds_and_every_record_says_so(unsandboxed):
    records = unsandboxed["records"]
    assert unsandboxed["done"].returncode == 0, unsandboxed["done"].stderr
    assert "NOT SANDBOXED" in unsandboxed["done"].stdout
    assert {record["sandbox"] for record in records.values()} == {NO_SANDBOX}
    for category in ("reads_references", "copies_classmate"):  # full marks from the reference solutions / a classmate's notebook
        assert records[category]["total"] == 8, json.dumps(records[category], indent=1)
    assert SECRET in (unsandboxed["out"] / "reads_secret.md").read_text(encoding="utf-8")  # the secret, in the feedback
    assert unsandboxed["after"] != unsandboxed["before"] and unsandboxed["markers"]  # others' hand-ins and the checkout changed
    assert (unsandboxed["out"] / "pwned.txt").exists()
    assert unsandboxed["network"]  # the test server was reached
    # its kernel was forked from the slot's zygote: the kill reaches that (a grader's process), and the kernel dies with it
    assert "the notebook killed the process its kernel was forked from" in "\n".join(records["kills_grader"]["problems"])


def test_with_every_attack_in_the_class_every_student_has_a_record_and_a_row(graded):
    rows = (graded["out"] / "grades.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + len(CATEGORIES) + 2 and len(graded["records"]) == len(CATEGORIES) + 2


def test_a_students_text_lands_as_text_in_the_feedback_the_csv_files_and_the_terminal(graded):
    page = (graded["out"] / "forged_feedback.md").read_text(encoding="utf-8")
    lines = page.splitlines()
    assert len([line for line in lines if line.startswith("**Total")]) == 1
    assert not [line for line in lines if line.startswith("- ✓")]  # nothing passed, and no line says so
    assert "<" not in page
    for name in ("grades.csv", "summary.csv"):
        with (graded["out"] / name).open(newline="", encoding="utf-8") as file:
            cells = [cell for row in csv.reader(file) for cell in row]
        assert not [cell for cell in cells if cell.lstrip().startswith(("=", "+", "-", "@"))], name
        assert "'" + RENAMED["formula_name"] in cells
    terminal = graded["done"].stdout + graded["done"].stderr
    assert "\x1b" not in terminal and "\x07" not in terminal and "[2J]0;pwnedeve" in terminal
    report = ReportParts()
    report.feed((graded["out"] / "report.html").read_text(encoding="utf-8"))
    assert report.tags["script"] == 0 and all(src.startswith("data:image/png;base64,") for src in report.sources)
    assert all(href.startswith("#") or href.endswith(".md") for href in report.links) and len(report.links) > 5
    assert html_text(RENAMED["formula_name"]) in (graded["out"] / "report.html").read_text(encoding="utf-8")  # its lowest total is listed


class ReportParts(HTMLParser):
    """What the class report holds that could run or fetch something: its tags, image sources and links."""

    def __init__(self):
        super().__init__()
        self.tags, self.sources, self.links = Counter(), [], []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] += 1
        if tag == "img":
            self.sources.append(dict(attrs).get("src") or "")
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")


def test_a_file_name_that_is_not_utf8_is_listed_escaped(graded):
    assert graded["records"]["latin1_file"]["ignored"] == ["notes-\\xe9.txt"]
