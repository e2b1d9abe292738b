"""Grade a student's notebooks (in a process of its own), and a whole class (across such processes).

One function grades a student from what they handed in: `grade_files(student, files, cases, limits, slot)`
takes their files by name (the bytes of each notebook grading reads), the hidden cases drawn once
from the secret by the instructor's process, and the limits, and works in a grading slot (see `slots`). Each
student is graded by it in a worker process of its own (`run_worker`), forked from a server that
imported torch once, and the record comes back as JSON: locally (`grade_class`) from the student's
folder, on a Dask cluster (`cluster`) from the files a task carried to a Dask worker. Each notebook
runs in its own temporary folder and fresh kernel (see `session`); the submitted files are only ever
read. A grading process that crashes, hangs or is killed costs only its own student.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import io
import json
import multiprocessing
import os
import platform
import re
import select
import shutil
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from io import BytesIO
from pathlib import Path
from typing import Callable, Iterable

import torch

from helpers.checks import EXERCISES
from helpers.checks.core import Exercise
from helpers.grading import FORKSERVER_PRELOAD, judge, kernel_side
from helpers.grading import cases as hidden
from helpers.grading.folders import holds_sockets, remove_tree
from helpers.grading.limits import Limits
from helpers.grading.notebook import MAX_BYTES, SubmissionError, code_sources, notebook_number, reaches_for_references, read_submission
from helpers.grading.session import Session
from helpers.grading.slots import Slot
from helpers.grading.text import safe_text, terminal_line

REPO = Path(__file__).resolve().parent.parent.parent
KERNEL_SIDE_SOURCE = Path(kernel_side.__file__).read_text(encoding="utf-8")
NOTHING_GRADED = "nothing was graded"  # how the reason of a student whose grading failed ends
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


def grade_notebook(name: str, data: bytes | None, cases: dict[str, list], limits: Limits, slot: Slot) -> dict:
    """Grade one submitted notebook (its bytes) in `slot`: {"file", "problems", "exercises": {id: grade}, "seconds", "kernel", ...}."""
    started = time.perf_counter()
    exercises = exercises_of(notebook_number(Path(name)))
    record = {"file": name, "problems": [], "exercises": {}}
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
            record["problems"].append(f"{name}: {safe_text(error)}")
            record["exercises"] = {e.id: ungraded(e, f"{name} could not be graded: {safe_text(error)}") for e in exercises}
            return record
        record["problems"] += [f"{name}: {note}" for note in notes]
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
            record["exercises"] = {e.id: ungraded(e, f"not graded: {run.fatal}") for e in exercises}
        else:
            record["exercises"] = {e.id: grade_exercise(e, cases[e.id], io_dir / f"{e.id}.pt", run) for e in exercises}
    record["problems"] += run_problems(name, run, limits, sources)
    if suspicious:
        record["problems"].append(f"{name}: reaches for the course's reference solutions ({suspicious!r}); scored 0, flagged for review")
        for grade in record["exercises"].values():
            grade.update(points=0, status=judge.NOT_GRADED, message="flagged for review: the notebook reaches for the reference solutions.",
                         mistake="not-graded")
    record["attempts"], record["skipped"], record["kernel"] = run.attempts, run.skipped, "; ".join(run.kernels)
    record["limits"] = "; ".join(run.limits)
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
    first = safe_text(lines[0], limit=60)  # a line of the student's code enters the record here
    return f"{label} (`{first.replace('`', chr(39))}`)"


def grade_exercise(exercise: Exercise, cases: list, results: Path, run) -> dict:
    """Judge one exercise from its results file, or say why there is nothing to judge."""
    label = f"exercise {exercise.id}"
    fault = next((f for f in run.faults if f.where == label), None)
    expected = hidden.expected_results(exercise, cases)
    try:
        with judge.memory_limit():
            return judge.score(exercise, cases, expected, judge.read_results(results)).as_dict()
    except judge.UnreadableResults as error:
        return ungraded(exercise, f"grading it stopped: {fault.message}" if fault else str(error))
    except MemoryError:
        return ungraded(exercise, f"judging its results took more than the grader's {judge.JUDGE_MEMORY_BYTES // 2**20} MiB; they were not judged")


def ungraded(exercise: Exercise, reason: str, status: str = judge.NOT_GRADED) -> dict:
    """A zero for an exercise that could not be graded, with the reason; its mistake id is the status ("not-graded")."""
    return judge.ExerciseGrade(exercise.id, status, 0, exercise.points, reason, mistake=status.replace(" ", "-")).as_dict()


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


def grade_files(student: str, files: Files, cases: dict[str, list], limits: Limits, slot: Slot) -> dict:
    """Grade a student from their files (name -> bytes, see `read_files`) and the hidden cases, working in
    `slot`: the student's whole record. Local and Dask grading both grade through this."""
    names, ignored, problems = pick_notebooks(files)
    record = {"student": student, "exercises": {}, "notebooks": [], "problems": problems, "ignored": ignored}
    for name in names:
        notebook = grade_notebook(name, files[name], cases, limits, slot)
        record["exercises"].update(notebook.pop("exercises"))
        record["problems"] += notebook["problems"]
        record["notebooks"].append(notebook)
    if not names:
        record["problems"].append("no course notebook with exercises was found (expected files like 01_tensors.ipynb)")
    return complete(record)


def grade_student(folder: Path | Submission, cases: bytes, limits: Limits, slot: Slot) -> dict:
    """Grade the course notebooks of a student's folder (or files) against the hidden cases (`draw_cases`' bytes)."""
    files = folder.files if isinstance(folder, Submission) else read_files(folder)
    return grade_files(folder.name, files, load_cases(cases), limits, slot)


def complete(record: dict) -> dict:
    """Add every exercise not handed in, the total, the maximum, versions and the tests' hash."""
    for key, exercise in EXERCISES.items():
        record["exercises"].setdefault(key, ungraded(exercise, "this notebook was not handed in", judge.NOT_SUBMITTED))
    record["exercises"] = {key: record["exercises"][key] for key in sorted(record["exercises"])}
    record["student"] = safe_text(record["student"])  # the folder's name enters the record here: made safe once
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


def failed_student(student: str, reason: str) -> dict:
    """The record of a student whose grading itself failed (`reason` ends with NOTHING_GRADED)."""
    return complete({"student": student, "exercises": {}, "notebooks": [], "problems": [reason], "ignored": []})


def grading_failed(record: dict) -> bool:
    """Whether `record` is a `failed_student`'s: nothing was graded because grading itself failed."""
    return not record["notebooks"] and any(problem.endswith(NOTHING_GRADED) for problem in record["problems"])


def grader_failed(student: str, error: BaseException, when: str = "") -> dict:
    """The row of a student on whose submission the grader itself failed, with the traceback for the instructor."""
    record = failed_student(student, f"the grader failed on this submission{' ' + when if when else ''} "
                                     f"({type(error).__name__}: {safe_text(error, limit=500)}); {NOTHING_GRADED}")
    record["grader_error"] = "\n".join(safe_text(line) for line in "".join(traceback.format_exception(error)).splitlines())
    return record


def graded_or_failed(student: str, grade: Callable[[], dict]) -> dict:
    """grade(); when the grader itself fails, that student's row (`grader_failed`)."""
    try:
        return grade()
    except BaseException as error:  # SystemExit too: the process calling this exists only to grade this student
        return grader_failed(student, error)


def exit_with_parent(channel) -> None:
    """In a grading process: exit as soon as the process waiting for its records on `channel` is gone.

    Its zygote and kernel then exit too (each dies with its parent). The parent is not the fork server
    (that lives on while any process forked from it does), so it is watched through the channel: the
    write end of a pipe reports an error once no process can read it.
    """
    poller = select.poll()
    poller.register(channel.fileno(), select.POLLERR)

    def watch() -> None:
        poller.poll()
        os._exit(1)

    threading.Thread(target=watch, name="exit with parent", daemon=True).start()


def worker_timeout(names: Iterable[str], limits: Limits) -> float:
    """How long grading one student may take: each notebook's limit, plus start-up (a zygote's among it) and slack."""
    notebooks = sum(1 for name in names if notebook_number(Path(name)))
    return 60 + max(1, notebooks) * (limits.notebook_timeout + 90)


def stopped(student: str, exit_code: int | None) -> dict:
    """The row of a student whose grading process stopped before it sent a record."""
    return failed_student(student, f"the grading process stopped (exit code {exit_code}); {NOTHING_GRADED}")


def too_long(student: str) -> dict:
    """The row of a student whose grading process ran past `worker_timeout`."""
    return failed_student(student, f"grading this student ran past the time limit; {NOTHING_GRADED}")


def grade_one(task: tuple, slot: Slot) -> dict:
    """In a grading process: grade one student (their folder or files, the cases' bytes, the limits) in `slot`.

    A fault in the grader itself is that student's row, with the traceback for the instructor.
    """
    folder, cases, limits = task
    return graded_or_failed(folder.name, lambda: grade_student(folder, cases, limits, slot=slot))


def slot_process(folder: Path, tasks, records) -> None:
    """A grading process's target: grade each student sent on `tasks`, one after another, in a slot in `folder` (its
    zygote kept from student to student), and send each record back as JSON on `records`, with why the slot retired
    if it did (then the process ends; see `Slot.finish_notebook`); exit with its parent."""
    exit_with_parent(records)
    torch.set_num_threads(1)  # no thread pool to start while judging under judge.memory_limit (its stacks and arenas count)
    slot = Slot(folder)
    try:
        while slot.retired is None:
            try:
                task = tasks.recv()
            except (EOFError, OSError):
                break
            record = grade_one(task, slot)
            records.send_bytes(json.dumps({"record": record, "retired": slot.retired}).encode())
    finally:
        slot.stop()


def slot_space(space: str | None) -> str:
    """Where a grading slot's folder goes: in `space` (the system's temporary folder if None), or in /tmp where that
    path is too long for the kernels' Unix sockets (made two levels further down)."""
    base = space or tempfile.gettempdir()
    return base if holds_sockets(f"{base}/grade-slot-12345678/rw") else "/tmp"


class GradingProcess:
    """One job slot's grading process, forked from a server that imported the grader once: it grades the students
    it is sent one after another, each notebook in a kernel forked from the slot's zygote (see `slots.Slot`).

    Its crash, hang or death (with --no-sandbox a kernel may kill it) is the row of the student it was grading, and
    the next student gets a fresh grading process (and zygote).
    """

    def __init__(self, space: str | None):
        self.folder = Path(tempfile.mkdtemp(prefix="grade-slot-", dir=slot_space(space)))  # removed even if the process is killed
        context = multiprocessing.get_context("forkserver")
        tasks_out, self.tasks = context.Pipe(duplex=False)
        self.records, records_in = context.Pipe(duplex=False)
        self.process = context.Process(target=slot_process, args=(self.folder, tasks_out, records_in), name="grading slot")
        self.process.start()
        tasks_out.close()
        records_in.close()

    def alive(self) -> bool:
        return self.process.is_alive() and not self.tasks.closed

    def grade(self, folder: Path | Submission, cases: bytes, limits: Limits) -> dict:
        """Grade one student in this process, within the time limit; the record (or the row saying what went wrong)."""
        try:
            names = folder.files if isinstance(folder, Submission) else [p.name for p in folder.iterdir()]
            self.tasks.send((folder, cases, limits))
            if self.records.poll(worker_timeout(names, limits)):
                answer = json.loads(self.records.recv_bytes())
                if answer["retired"] is not None:  # the next student gets a fresh grading process and slot
                    print(terminal_line(f"a grading slot was retired: {answer['retired']}"), file=sys.stderr)
                    self.close()
                return answer["record"]
            self.close()
            return too_long(folder.name)
        except (EOFError, OSError, ValueError):
            self.process.join(5)
            code = self.process.exitcode
            self.close()
            return stopped(folder.name, code)

    def close(self) -> None:
        """Stop the process (its zygote and sandbox go with it) and remove its folder."""
        self.tasks.close()  # the process finishes its student, if any, and exits
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.records.close()
        try:
            remove_tree(self.folder)
        except OSError as error:  # costs some disk space, no student's grade
            print(terminal_line(f"could not remove the grading slot's folder {self.folder} ({error})"), file=sys.stderr)


_slots = threading.local()  # this thread's GradingProcess
_every: list[GradingProcess] = []
_lock = threading.Lock()


def grading_process(space: str | None = None) -> GradingProcess:
    """This thread's grading process (a job slot: each thread grading students has one), started when needed."""
    current = getattr(_slots, "process", None)
    if current is None or not current.alive():
        if current is not None:
            current.close()
        current = _slots.process = GradingProcess(space)
        with _lock:
            if not _every:
                atexit.register(close_grading_processes)
            _every.append(current)
    return current


def close_grading_processes() -> None:
    """Stop every grading process this process started (at the end of a class, and at exit)."""
    with _lock:
        found = list(_every)
        _every.clear()
    for process in found:
        process.close()


def run_worker(folder: Path | Submission, cases: bytes, limits: Limits, space: str | None = None) -> dict:
    """Grade one student (their folder, or their files) in this thread's grading process, whose folder is in `space`.

    Its crash, hang or death (a kernel may kill its parent with --no-sandbox) is that student's row only.
    """
    return grading_process(space).grade(folder, cases, limits)


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


def grade_class(folders: list[Path], secret: str, limits: Limits, jobs: int, progress: bool = True,
                graded: Callable[[dict], None] = lambda record: None) -> list[dict]:
    """Grade each student's folder, `jobs` at a time, with a progress bar; records in folder order.
    `graded(record)` is called with each student's record as soon as it is there (to write it at once)."""
    from tqdm import tqdm

    multiprocessing.get_context("forkserver").set_forkserver_preload([FORKSERVER_PRELOAD])
    cases = draw_cases(secret)
    records = {}
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool, tqdm(total=len(folders), unit="student", desc="grading", disable=not progress) as bar:
            futures = {pool.submit(run_worker, folder, cases, limits): folder for folder in folders}
            for future in as_completed(futures):
                records[futures[future].name] = record = future.result()
                graded(record)
                bar.update()
    finally:
        close_grading_processes()
    return [records[folder.name] for folder in folders]
