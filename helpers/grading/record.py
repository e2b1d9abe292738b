"""What the grader produces: a student's record, typed, and its JSON.

A `StudentRecord` holds a student's `ExerciseGrade` per exercise and a `NotebookRecord` per notebook
graded. It is built once, whole (`student_record`, or `failed` for a student whose grading itself
failed), and crosses a boundary only as JSON (`to_json` / `from_json`): from a grading process to
the instructor's (a pipe), from a Dask worker, and to and from OUT/<student>.json, which learning
platforms and the class report read. Its shape is documented in docs/grading.md (`SCHEMA_VERSION`).
"""

from __future__ import annotations

import platform
import traceback
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

import torch

from helpers.checks import EXERCISES
from helpers.checks.core import Exercise, Status
from helpers.grading import cases as hidden
from helpers.grading.text import safe_text

__all__ = ["SCHEMA_VERSION", "ExerciseGrade", "NotebookRecord", "Status", "StudentRecord", "failed", "student_record", "ungraded"]

SCHEMA_VERSION = 1  # of the JSON a StudentRecord writes; raise it when a field changes meaning or goes
NOTHING_GRADED = "nothing was graded"  # how the problem of a student whose grading failed ends (for the reader)


@dataclass
class ExerciseGrade:
    """The grade of one exercise for one student."""

    id: str
    status: Status
    points: float
    max_points: int
    message: str
    time: float = 0.0
    cases_passed: int = 0
    cases_total: int = 0
    mistake: str = ""  # the id of the misconception the feedback names ("" when passed; see helpers.checks.hints)
    case_mistakes: list[str] = field(default_factory=list)  # per hidden case, in order: its mistake id, "" for a pass

    def to_json(self) -> dict:
        """The grade as plain JSON data (its status as text)."""
        return {**asdict(self), "status": self.status.value}

    @classmethod
    def from_json(cls, data: dict) -> ExerciseGrade:
        """The grade from `to_json`'s data; ValueError when it is not a grade."""
        values = known_fields(cls, data, required=("id", "status", "points", "max_points", "message"))
        return cls(**{**values, "status": Status(values["status"])})


@dataclass
class NotebookRecord:
    """How one submitted notebook ran: its problems, how often it ran, the cells skipped, how its kernels started."""

    file: str
    problems: list[str] = field(default_factory=list)
    attempts: int = 0  # runs of the notebook (a fatal cell is skipped and the notebook run again)
    skipped: list[str] = field(default_factory=list)  # the cells left out of the last run
    kernel: str = ""  # how its kernels were started
    limits: str = ""  # the limits its kernels ran under
    seconds: float = 0.0

    def to_json(self) -> dict:
        """The notebook's record as plain JSON data."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> NotebookRecord:
        """The notebook's record from `to_json`'s data (fields missing in an older record take their defaults)."""
        return cls(**known_fields(cls, data, required=("file",)))


@dataclass
class StudentRecord:
    """Everything grading says about one student: a grade per course exercise, the notebooks, the problems."""

    student: str
    exercises: dict[str, ExerciseGrade]  # every course exercise, by id in order
    notebooks: list[NotebookRecord]
    problems: list[str]  # what went wrong, one line each (shown in the feedback)
    ignored: list[str]  # the files that are not course notebooks
    total: float
    max: int
    versions: dict[str, str]  # Python, torch and the notebook machinery that graded
    tests_hash: str  # of the exercises' definitions (hidden.definitions_hash)
    graded_at: str  # ISO 8601, UTC
    sandbox: str = ""  # what the kernels ran in (sandbox.SANDBOXED or NO_SANDBOX); "" in a record that predates it
    grading_failed: bool = False  # the grader itself failed on this student: nothing was graded (see `failed`)
    grader_error: str | None = None  # the traceback, for the instructor, when the grader itself raised

    def to_json(self) -> dict:
        """The record as plain JSON data, as OUT/<student>.json holds it (documented in docs/grading.md)."""
        data = {"schema_version": SCHEMA_VERSION, "student": self.student,
                "exercises": {key: grade.to_json() for key, grade in self.exercises.items()},
                "notebooks": [notebook.to_json() for notebook in self.notebooks], "problems": list(self.problems),
                "ignored": list(self.ignored), "total": self.total, "max": self.max, "versions": dict(self.versions),
                "tests_hash": self.tests_hash, "graded_at": self.graded_at, "sandbox": self.sandbox, "grading_failed": self.grading_failed}
        if self.grader_error is not None:
            data["grader_error"] = self.grader_error
        return data

    @classmethod
    def from_json(cls, data: Any) -> StudentRecord:
        """The record from `to_json`'s data (or a record written before `schema_version`); ValueError when it is not
        one, or one of a later schema. An exercise grade that is not one is left out (its points count 0)."""
        if not isinstance(data, dict):
            raise ValueError("a student record is a JSON object")
        if data.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
            raise ValueError(f"a record of schema version {data['schema_version']!r}; this grader reads version {SCHEMA_VERSION}")
        values = known_fields(cls, data, required=("student", "exercises"))
        if not isinstance(values["exercises"], dict):
            raise ValueError("a student record's exercises are a JSON object")
        exercises = {}
        for key, grade in values["exercises"].items():
            try:
                exercises[key] = ExerciseGrade.from_json(grade)
            except (TypeError, ValueError):
                continue
        notebooks = [NotebookRecord.from_json(notebook) for notebook in values.get("notebooks", []) if isinstance(notebook, dict)]
        values.setdefault("total", round(sum(grade.points for grade in exercises.values()), 2))
        values.setdefault("max", sum(e.points for e in EXERCISES.values()))
        for name, empty in (("problems", []), ("ignored", []), ("versions", {}), ("tests_hash", ""), ("graded_at", "")):
            values.setdefault(name, empty)
        return cls(**{**values, "exercises": exercises, "notebooks": notebooks})


def known_fields(cls: type, data: Any, required: tuple[str, ...]) -> dict:
    """The entries of `data` that are fields of `cls`; ValueError when `data` is not a dict or lacks a `required` one."""
    if not isinstance(data, dict):
        raise ValueError(f"a {cls.__name__} is a JSON object")
    missing = [name for name in required if name not in data]
    if missing:
        raise ValueError(f"a {cls.__name__} needs {', '.join(missing)}")
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}


def ungraded(exercise: Exercise, reason: str, status: Status = Status.NOT_GRADED) -> ExerciseGrade:
    """A zero for an exercise that could not be graded, with the reason; its mistake id is the status ("not-graded")."""
    return ExerciseGrade(exercise.id, status, 0, exercise.points, reason, mistake=status.value.replace(" ", "-"))


def versions() -> dict[str, str]:
    """The versions that graded: Python, torch and the notebook machinery."""
    found = {"python": platform.python_version(), "torch": torch.__version__}
    for name in ("numpy", "nbclient", "nbformat", "ipykernel", "jupyter_client"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


def student_record(student: str, exercises: dict[str, ExerciseGrade], notebooks: list[NotebookRecord], problems: list[str],
                   ignored: list[str], sandbox: str, grading_failed: bool = False, grader_error: str | None = None) -> StudentRecord:
    """The whole record of a student from the grades of the exercises graded: every other exercise is "not submitted";
    with the total, the maximum, the versions, the tests' hash and the time."""
    everything = {key: exercises.get(key) or ungraded(exercise, "this notebook was not handed in", Status.NOT_SUBMITTED)
                  for key, exercise in sorted(EXERCISES.items())}
    return StudentRecord(safe_text(student), everything, notebooks, problems, ignored,  # the folder's name enters the record here
                         total=round(sum(grade.points for grade in everything.values()), 2), max=sum(e.points for e in EXERCISES.values()),
                         versions=versions(), tests_hash=hidden.definitions_hash(),
                         graded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                         sandbox=sandbox, grading_failed=grading_failed, grader_error=grader_error)


def failed(student: str, reason: str, sandbox: str, error: BaseException | None = None) -> StudentRecord:
    """The record of a student whose grading itself failed: nothing graded, `reason` (ending "; nothing was graded")
    its one problem, and the traceback of `error` for the instructor when the grader raised."""
    trace = None
    if error is not None:
        trace = "\n".join(safe_text(line) for line in "".join(traceback.format_exception(error)).splitlines())
    return student_record(student, {}, [], [f"{reason}; {NOTHING_GRADED}"], [], sandbox, grading_failed=True, grader_error=trace)
