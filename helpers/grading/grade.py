"""Grade a student's notebooks: the student's record (`record.StudentRecord`) from what they handed in.

One function grades a student from what they handed in: `grade_files(student, files, cases, limits, slot)`
takes their files by name (the bytes of each notebook grading reads), the hidden cases drawn once
from the secret by the instructor's process, and the limits, and works in a grading slot (see `slots`). Each
student is graded by it in a grading process of its own (see `workers`, which runs those processes:
locally from the student's folder, on a Dask cluster from the files a task carried to a Dask worker). Each notebook
runs in its own temporary folder and fresh kernel (see `session`); the submitted files are only ever
read. A grading process that crashes, hangs or is killed costs only its own student.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Callable, Iterable

import torch

from helpers.checks import EXERCISES
from helpers.checks.core import Exercise
from helpers.grading import cases as hidden
from helpers.grading import judge, kernel_side
from helpers.grading.bwrap import NO_SANDBOX, SANDBOXED
from helpers.grading.limits import Limits
from helpers.grading.notebook import MAX_BYTES, SubmissionError, code_sources, notebook_number, reaches_for_references, read_submission
from helpers.grading.record import ExerciseGrade, NotebookRecord, Status, StudentRecord, failed, student_record, ungraded
from helpers.grading.session import Session
from helpers.grading.slots import Slot
from helpers.grading.text import safe_text

REPO = Path(__file__).resolve().parent.parent.parent
KERNEL_SIDE_SOURCE = Path(kernel_side.__file__).read_text(encoding="utf-8")
Files = dict[str, "bytes | None"]  # file name -> its bytes, for the notebooks grading reads; None for any other file


@dataclass(frozen=True)
class Submission:
    """A student's files as grading reads them (`read_files`), away from their folder: what a Dask task carries."""

    name: str  # the student's folder name
    files: Files


def exercises_of(number: str) -> list[Exercise]:
    """The exercises of notebook `number`, in id order."""
    return [EXERCISES[key] for key in sorted(EXERCISES) if key.startswith(number + ".")]


def grading_cell(inputs: Path, results: Path, exercise: Exercise) -> str:
    """The cell that runs kernel_side.run_exercise in a namespace of its own (no student name is touched)."""
    call = f"ns['run_exercise'](globals(), {str(inputs)!r}, {str(results)!r}, {exercise.id!r}, {exercise.target!r}, {hidden.CASE_SEED_BASE})"
    return f"(lambda ns: (exec({KERNEL_SIDE_SOURCE!r}, ns), {call}))({{}});"


def draw_cases(secret: str) -> bytes:
    """Every exercise's hidden cases for this secret, drawn once by the instructor's process (torch.save bytes)."""
    buffer = io.BytesIO()
    torch.save({key: hidden.hidden_cases(exercise, secret) for key, exercise in sorted(EXERCISES.items())}, buffer)
    return buffer.getvalue()


def load_cases(blob: bytes) -> dict[str, list]:
    """The hidden cases from `draw_cases`'s bytes (plain data: read with weights_only=True)."""
    return torch.load(io.BytesIO(blob), weights_only=True)


def read_files(folder: Path) -> Files:
    """Every file of a student's folder by name (no dot-files): the bytes of each notebook grading reads.

    A notebook that is not a regular file is None; one longer than a notebook may be is read only up to
    one byte past the limit. Every other file is only named (None): it is listed as ignored. Each name is
    `text.safe_text` of the file's (two names that only differ in bytes that are not UTF-8 count once).
    """
    paths = {}
    for path in sorted(folder.iterdir()):
        if not path.name.startswith("."):
            paths.setdefault(safe_text(path.name), path)  # names enter the grader here: made safe once
    files: Files = dict.fromkeys(paths)
    for name in pick_notebooks(paths)[0]:
        path = paths[name]
        if not path.is_symlink() and path.is_file():
            with path.open("rb") as file:
                files[name] = file.read(MAX_BYTES + 1)
    return files


def prepare_workdir(root: Path, name: str, data: bytes) -> Path:
    """A fresh folder laid out like the repo: notebooks/<name> with the submission's bytes, and the course's data/."""
    workdir = root / "notebooks"
    workdir.mkdir()
    (workdir / name).write_bytes(data)
    if (REPO / "data").is_dir():
        shutil.copytree(REPO / "data", root / "data")
    return workdir


@contextlib.contextmanager
def notebook_folder(slot: Slot):
    """A new folder for one notebook's working copy: in the slot's writable folder, emptied (with the slot's sandbox)
    afterwards."""
    try:
        yield tempfile.mkdtemp(prefix="grade-", dir=slot.rw)
    finally:
        slot.finish_notebook()


def grade_notebook(name: str, data: bytes | None, cases: dict[str, list], limits: Limits,
                   slot: Slot) -> tuple[NotebookRecord, dict[str, ExerciseGrade]]:
    """Grade one submitted notebook (its bytes) in `slot`: how it ran, and the grade of each of its exercises by id."""
    started = time.perf_counter()
    exercises = exercises_of(notebook_number(Path(name)))
    notebook = NotebookRecord(name)
    with notebook_folder(slot) as tmp:
        root = Path(tmp)
        try:
            if data is None:
                raise SubmissionError("it is not a regular file")
            if len(data) > MAX_BYTES:
                raise SubmissionError(f"the file is more than the {MAX_BYTES // 2**20} MiB a notebook may have")
            workdir = prepare_workdir(root, name, data)
            nb, notes = read_submission(workdir / name)
        except SubmissionError as error:  # its message may quote the file
            notebook.problems.append(f"{name}: {safe_text(error)}")
            notebook.seconds = round(time.perf_counter() - started, 2)
            return notebook, {e.id: ungraded(e, f"{name} could not be graded: {safe_text(error)}") for e in exercises}
        notebook.problems += [f"{name}: {note}" for note in notes]
        sources = code_sources(nb)
        suspicious = reaches_for_references(sources)
        cases = {e.id: cases[e.id] for e in exercises}
        session = Session(sources, workdir, root, limits, slot)
        io_dir = session.io

        def grading_cells() -> list[tuple[str, str]]:
            inputs = BytesIO()
            torch.save(cases, inputs)
            session.exchange({"inputs.pt": inputs.getvalue()})  # the only file there: results of an earlier attempt must not count
            return [(f"exercise {e.id}", grading_cell(io_dir / "inputs.pt", io_dir / f"{e.id}.pt", e)) for e in exercises]

        run = asyncio.run(session.execute(grading_cells))
        if run.refused:  # the grader's failure, not the student's
            grades = {e.id: ungraded(e, f"not graded: {run.fatal}") for e in exercises}
        else:
            grades = {e.id: grade_exercise(e, cases[e.id], io_dir / f"{e.id}.pt", run) for e in exercises}
    notebook.problems += run_problems(name, run, limits, sources)
    if suspicious:
        notebook.problems.append(f"{name}: reaches for the course's reference solutions ({suspicious!r}); scored 0, flagged for review")
        grades = {key: dataclasses.replace(grade, points=0, status=Status.NOT_GRADED, mistake="not-graded",
                                           message="flagged for review: the notebook reaches for the reference solutions.")
                  for key, grade in grades.items()}
    notebook.attempts, notebook.skipped, notebook.kernel = run.attempts, run.skipped, "; ".join(run.kernels)
    notebook.limits = "; ".join(run.limits)
    notebook.seconds = round(time.perf_counter() - started, 2)
    return notebook, grades


def run_problems(name: str, run, limits: Limits, sources: list[str]) -> list[str]:
    """What went wrong while the notebook ran, one line each; a code cell is named by its first line too."""
    problems = [f"{name}, {cell_name(fault.where, sources)}: {fault.message}" for fault in run.faults]
    if run.skipped:
        problems.append(f"{name}: it was run again from the start without {', '.join(cell_name(s, sources) for s in run.skipped)}")
    if run.fatal:
        problems.append(f"{name}: {run.fatal}")
    if run.output_bytes > limits.output_bytes:
        problems.append(f"{name}: {run.output_bytes / 2**20:.0f} MiB of output were dropped")
    return problems


def cell_name(label: str, sources: list[str]) -> str:
    """"code cell 10" -> "code cell 10 (`for x in ...`)": the label with the cell's first line of code."""
    match = re.fullmatch(r"code cell (\d+)", label)
    if not match or not 0 < int(match.group(1)) <= len(sources):
        return label
    lines = [line.strip() for line in sources[int(match.group(1)) - 1].splitlines() if line.strip()]
    if not lines:
        return label
    first = safe_text(lines[0], limit=60)  # a line of the student's code enters the record here
    return f"{label} (`{first.replace('`', chr(39))}`)"


def grade_exercise(exercise: Exercise, cases: list, results: Path, run) -> ExerciseGrade:
    """Judge one exercise from its results file, or say why there is nothing to judge."""
    label = f"exercise {exercise.id}"
    fault = next((f for f in run.faults if f.where == label), None)
    expected = hidden.expected_results(exercise, cases)
    try:
        with judge.memory_limit():
            return judge.score(exercise, cases, expected, judge.read_results(results))
    except judge.UnreadableResults as error:
        return ungraded(exercise, f"grading it stopped: {fault.message}" if fault else str(error))
    except MemoryError:
        return ungraded(exercise, f"judging its results took more than the grader's {judge.JUDGE_MEMORY_BYTES // 2**20} MiB; they were not judged")


def pick_notebooks(names: Iterable[str]) -> tuple[list[str], list[str], list[str]]:
    """Of a student's file names: those to grade (one per notebook number with exercises), those ignored, and why."""
    course = {p.name for p in (REPO / "notebooks").glob("*.ipynb")}
    chosen: dict[str, str] = {}
    ignored, problems = [], []
    for name in sorted(names):
        number = notebook_number(Path(name))
        if number is None:
            ignored.append(name)
        elif exercises_of(number):
            if number in chosen and not (name in course and chosen[number] not in course):
                problems.append(f"{name}: a second notebook {number}; only {chosen[number]} was graded")
                continue
            if number in chosen:
                problems.append(f"{chosen[number]}: a second notebook {number}; only {name} was graded")
            chosen[number] = name
    return [chosen[n] for n in sorted(chosen)], ignored, problems


def sandbox_of(limits: Limits) -> str:
    """What the kernels run in under `limits`, as every record says it (`sandbox_or_refuse` has made sure it can be so)."""
    return SANDBOXED if limits.sandbox else NO_SANDBOX


def grade_files(student: str, files: Files, cases: dict[str, list], limits: Limits, slot: Slot) -> StudentRecord:
    """Grade a student from their files (name -> bytes, see `read_files`) and the hidden cases, working in
    `slot`: the student's whole record. Local and Dask grading both grade through this."""
    names, ignored, problems = pick_notebooks(files)
    grades: dict[str, ExerciseGrade] = {}
    notebooks = []
    for name in names:
        notebook, graded = grade_notebook(name, files[name], cases, limits, slot)
        grades.update(graded)
        problems += notebook.problems
        notebooks.append(notebook)
    if not names:
        problems.append("no course notebook with exercises was found (expected files like 01_tensors.ipynb)")
    return student_record(student, grades, notebooks, problems, ignored, sandbox_of(limits))


def grade_student(folder: Path | Submission, cases: bytes, limits: Limits, slot: Slot) -> StudentRecord:
    """Grade the course notebooks of a student's folder (or files) against the hidden cases (`draw_cases`' bytes)."""
    files = folder.files if isinstance(folder, Submission) else read_files(folder)
    return grade_files(folder.name, files, load_cases(cases), limits, slot)


def grader_failed(student: str, error: BaseException, limits: Limits, when: str = "") -> StudentRecord:
    """The row of a student on whose submission the grader itself failed, with the traceback for the instructor."""
    return failed(student, f"the grader failed on this submission{' ' + when if when else ''} "
                           f"({type(error).__name__}: {safe_text(error, limit=500)})", sandbox_of(limits), error)


def graded_or_failed(student: str, limits: Limits, grade: Callable[[], StudentRecord]) -> StudentRecord:
    """grade(); when the grader itself fails, that student's row (`grader_failed`)."""
    try:
        return grade()
    except BaseException as error:  # SystemExit too: the process calling this exists only to grade this student
        return grader_failed(student, error, limits)
