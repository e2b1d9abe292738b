"""Grade a student's notebooks (in a worker process), and a whole class (across worker processes).

Each student is graded in a worker process of its own, forked from a server that imported torch
once, and sends back its record as JSON. Each notebook runs in its own temporary folder and fresh
kernel (see `sandbox`); the submitted files are only ever read. A worker that crashes, hangs or is
killed costs only its own student.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import platform
import re
import shutil
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timezone
from importlib import metadata
from io import BytesIO
from pathlib import Path

import torch

from helpers.checks import EXERCISES
from helpers.checks.core import Exercise
from helpers.grading import cases as hidden
from helpers.grading import judge, kernel_side
from helpers.grading.notebook import SubmissionError, code_sources, notebook_number, reaches_for_references, read_submission
from helpers.grading.sandbox import Limits, Session

REPO = Path(__file__).resolve().parent.parent.parent
KERNEL_SIDE_SOURCE = Path(kernel_side.__file__).read_text(encoding="utf-8")


def exercises_of(number: str) -> list[Exercise]:
    """The exercises of notebook `number`, in id order."""
    return [EXERCISES[key] for key in sorted(EXERCISES) if key.startswith(number + ".")]


def grading_cell(inputs: Path, results: Path, exercise: Exercise) -> str:
    """The cell that runs kernel_side.run_exercise in a namespace of its own (no student name is touched)."""
    call = f"ns['run_exercise'](globals(), {str(inputs)!r}, {str(results)!r}, {exercise.id!r}, {exercise.target!r}, {hidden.CASE_SEED_BASE})"
    return f"(lambda ns: (exec({KERNEL_SIDE_SOURCE!r}, ns), {call}))({{}});"


def prepare_workdir(root: Path, path: Path) -> Path:
    """Copy the submission (its bytes only) and the course's data/ into a fresh folder laid out like the repo."""
    workdir = root / "notebooks"
    workdir.mkdir()
    (workdir / path.name).write_bytes(path.read_bytes())
    if (REPO / "data").is_dir():
        shutil.copytree(REPO / "data", root / "data")
    return workdir


def grade_notebook(path: Path, secret: str, limits: Limits, scratch: Path | None = None) -> dict:
    """Grade one submitted notebook: {"file", "problems", "exercises": {id: grade}, "seconds", ...}."""
    started = time.perf_counter()
    exercises = exercises_of(notebook_number(path))
    record = {"file": path.name, "problems": [], "exercises": {}}
    try:
        nb, notes = read_submission(path)
    except SubmissionError as error:
        record["problems"].append(f"{path.name}: {error}")
        record["exercises"] = {e.id: ungraded(e, f"{path.name} could not be graded: {error}") for e in exercises}
        return record
    record["problems"] += [f"{path.name}: {note}" for note in notes]
    sources = code_sources(nb)
    suspicious = reaches_for_references(sources)
    cases = {e.id: hidden.hidden_cases(e, secret) for e in exercises}
    with tempfile.TemporaryDirectory(prefix="grade-", dir=scratch, ignore_cleanup_errors=True) as tmp:
        root = Path(tmp)
        session = Session(sources, prepare_workdir(root, path), root, limits)
        io = session.io

        def grading_cells() -> list[tuple[str, str]]:
            inputs = BytesIO()
            torch.save(cases, inputs)
            session.exchange({"inputs.pt": inputs.getvalue()})  # the only file there: results of an earlier attempt must not count
            return [(f"exercise {e.id}", grading_cell(io / "inputs.pt", io / f"{e.id}.pt", e)) for e in exercises]

        run = asyncio.run(session.execute(grading_cells))
        record["exercises"] = {e.id: grade_exercise(e, cases[e.id], io / f"{e.id}.pt", run) for e in exercises}
    record["problems"] += run_problems(path.name, run, limits, sources)
    if suspicious:
        record["problems"].append(f"{path.name}: reaches for the course's reference solutions ({suspicious!r}); scored 0, flagged for review")
        for grade in record["exercises"].values():
            grade.update(points=0, status=judge.NOT_GRADED, message="flagged for review: the notebook reaches for the reference solutions.")
    record["attempts"], record["skipped"] = run.attempts, run.skipped
    record["seconds"] = round(time.perf_counter() - started, 2)
    return record


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
    first = lines[0] if len(lines[0]) <= 60 else lines[0][:57] + "..."
    return f"{label} (`{first.replace('`', chr(39))}`)"


def grade_exercise(exercise: Exercise, cases: list, results: Path, run) -> dict:
    """Judge one exercise from its results file, or say why there is nothing to judge."""
    label = f"exercise {exercise.id}"
    fault = next((f for f in run.faults if f.where == label), None)
    try:
        record = judge.read_results(results)
    except judge.UnreadableResults as error:
        reason = f"grading it stopped: {fault.message}" if fault else str(error)
        return ungraded(exercise, reason)
    return judge.score(exercise, cases, hidden.expected_results(exercise, cases), record).as_dict()


def ungraded(exercise: Exercise, reason: str, status: str = judge.NOT_GRADED) -> dict:
    """A zero for an exercise that could not be graded, with the reason."""
    return judge.ExerciseGrade(exercise.id, status, 0, exercise.points, reason).as_dict()


def pick_notebooks(folder: Path) -> tuple[list[Path], list[str], list[str]]:
    """The files to grade (one per notebook number with exercises), the files ignored, and why."""
    course = {p.name for p in (REPO / "notebooks").glob("*.ipynb")}
    chosen: dict[str, Path] = {}
    ignored, problems = [], []
    for path in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
        number = notebook_number(path)
        if number is None:
            ignored.append(path.name)
        elif exercises_of(number):
            if number in chosen and not (path.name in course and chosen[number].name not in course):
                problems.append(f"{path.name}: a second notebook {number}; only {chosen[number].name} was graded")
                continue
            if number in chosen:
                problems.append(f"{chosen[number].name}: a second notebook {number}; only {path.name} was graded")
            chosen[number] = path
    return [chosen[n] for n in sorted(chosen)], ignored, problems


def grade_student(folder: Path, secret: str, limits: Limits, scratch: Path | None = None) -> dict:
    """Grade every course notebook in `folder` (working in `scratch`): the student's whole record."""
    paths, ignored, problems = pick_notebooks(folder)
    record = {"student": folder.name, "exercises": {}, "notebooks": [], "problems": problems, "ignored": ignored}
    for path in paths:
        notebook = grade_notebook(path, secret, limits, scratch)
        record["exercises"].update(notebook.pop("exercises"))
        record["problems"] += notebook["problems"]
        record["notebooks"].append(notebook)
    if not paths:
        record["problems"].append("no course notebook with exercises was found (expected files like 01_tensors.ipynb)")
    return complete(record)


def complete(record: dict) -> dict:
    """Add every exercise not handed in, the total, the maximum, versions and the tests' hash."""
    for key, exercise in EXERCISES.items():
        record["exercises"].setdefault(key, ungraded(exercise, "this notebook was not handed in", judge.NOT_SUBMITTED))
    record["exercises"] = {key: record["exercises"][key] for key in sorted(record["exercises"])}
    record["total"] = round(sum(g["points"] for g in record["exercises"].values()), 2)
    record["max"] = sum(e.points for e in EXERCISES.values())
    record["versions"] = versions()
    record["tests_hash"] = hidden.definitions_hash()
    record["graded_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return record


def versions() -> dict:
    """The versions that graded: Python, torch and the notebook machinery."""
    found = {"python": platform.python_version(), "torch": torch.__version__}
    for name in ("numpy", "nbclient", "nbformat", "ipykernel", "jupyter_client"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


def failed_student(folder: Path, reason: str) -> dict:
    """The record of a student whose grading process itself failed."""
    return complete({"student": folder.name, "exercises": {}, "notebooks": [], "problems": [reason], "ignored": []})


def worker_timeout(folder: Path, limits: Limits) -> float:
    """How long one student's worker may take: each notebook's limit, plus start-up and slack."""
    notebooks = sum(1 for p in folder.iterdir() if notebook_number(p))
    return 60 + max(1, notebooks) * (limits.notebook_timeout + 90)


def worker(folder: Path, secret: str, limits: Limits, scratch: Path, channel) -> None:
    """In the worker process: grade one student and send the record back as JSON.

    A fault in the grader itself is that student's row, with the traceback for the instructor.
    """
    try:
        try:
            record = grade_student(folder, secret, limits, scratch)
        except BaseException as error:  # SystemExit too: this process exists only to grade this student
            record = failed_student(folder, f"the grader failed on this submission ({type(error).__name__}: {error}); nothing was graded")
            record["grader_error"] = traceback.format_exc()
        channel.send_bytes(json.dumps(record).encode())
    finally:
        channel.close()


def run_worker(folder: Path, secret: str, limits: Limits) -> dict:
    """Grade one student in a process of its own (forked from a server that has imported torch once).

    Its crash, hang or death (a kernel may kill its parent) is that student's row only.
    """
    with tempfile.TemporaryDirectory(prefix="grade-", ignore_cleanup_errors=True) as scratch:  # removed even if the worker is killed
        return watch_worker(folder, secret, limits, Path(scratch))


def watch_worker(folder: Path, secret: str, limits: Limits, scratch: Path) -> dict:
    """Start the worker, wait for its record within the time limit, and make sure it is gone."""
    context = multiprocessing.get_context("forkserver")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=worker, args=(folder, secret, limits, scratch, sending), name=f"grade {folder.name}")
    process.start()
    sending.close()
    try:
        if receiving.poll(worker_timeout(folder, limits)):
            return json.loads(receiving.recv_bytes())
        return failed_student(folder, "grading this student ran past the time limit; nothing was graded")
    except (EOFError, OSError, ValueError):
        process.join(5)
        return failed_student(folder, f"the grading process stopped (exit code {process.exitcode}); nothing was graded")
    finally:
        receiving.close()
        if process.is_alive():
            process.kill()
        process.join(5)


def students_in(submissions: Path, only: list[str] | None = None) -> list[Path]:
    """Each student's folder: SUBMISSIONS/<student>/ (only those named in `only`, when given)."""
    if not submissions.is_dir():
        raise FileNotFoundError(f"{submissions} is not a folder of SUBMISSIONS/<student>/<notebook>.ipynb")
    folders = sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))
    if only is None:
        return folders
    missing = sorted(set(only) - {p.name for p in folders})
    if missing:
        raise FileNotFoundError(f"no folder in {submissions} for --only {', '.join(missing)}")
    return [p for p in folders if p.name in set(only)]


def grade_class(folders: list[Path], secret: str, limits: Limits, jobs: int, progress: bool = True) -> list[dict]:
    """Grade each student's folder, `jobs` at a time, with a progress bar; records in folder order."""
    from tqdm import tqdm

    multiprocessing.get_context("forkserver").set_forkserver_preload([__name__])
    records = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool, tqdm(total=len(folders), unit="student", desc="grading", disable=not progress) as bar:
        futures = {pool.submit(run_worker, folder, secret, limits): folder for folder in folders}
        for future in as_completed(futures):
            records[futures[future].name] = future.result()
            bar.update()
    return [records[folder.name] for folder in folders]
