"""Run the grading of a class across processes: each student graded in a grading process of its own.

`grade_class` grades each student's folder in a job slot's grading process (`run_worker`), forked from a
server that imported the grader once (`FORKSERVER_PRELOAD`); a Dask task does the same on a Dask worker
(`cluster`). A grading process grades the students it is sent one after another (`slot_process`), each
with `grade.grade_student`, and sends each record back as JSON. Its crash, hang or death costs only the
student it was grading: that student's row says so (`stopped`, `too_long`).
"""

from __future__ import annotations

import atexit
import json
import multiprocessing
import os
import select
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Iterable

import torch

from helpers.grading import FORKSERVER_PRELOAD, grade
from helpers.grading.folders import holds_sockets, remove_tree
from helpers.grading.limits import Limits
from helpers.grading.notebook import notebook_number
from helpers.grading.record import StudentRecord, failed
from helpers.grading.slots import Slot
from helpers.grading.text import terminal_line


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


def stopped(student: str, exit_code: int | None, limits: Limits) -> StudentRecord:
    """The row of a student whose grading process stopped before it sent a record."""
    return failed(student, f"the grading process stopped (exit code {exit_code})", grade.sandbox_of(limits))


def too_long(student: str, limits: Limits) -> StudentRecord:
    """The row of a student whose grading process ran past `worker_timeout`."""
    return failed(student, "grading this student ran past the time limit", grade.sandbox_of(limits))


def grade_one(task: tuple, slot: Slot) -> StudentRecord:
    """In a grading process: grade one student (their folder or files, the cases' bytes, the limits) in `slot`.

    A fault in the grader itself is that student's row, with the traceback for the instructor.
    """
    folder, cases, limits = task
    return grade.graded_or_failed(folder.name, limits, lambda: grade.grade_student(folder, cases, limits, slot=slot))


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
            records.send_bytes(json.dumps({"record": record.to_json(), "retired": slot.retired}).encode())
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

    def grade(self, folder: Path | grade.Submission, cases: bytes, limits: Limits) -> StudentRecord:
        """Grade one student in this process, within the time limit; the record (or the row saying what went wrong)."""
        try:
            names = folder.files if isinstance(folder, grade.Submission) else [p.name for p in folder.iterdir()]
            self.tasks.send((folder, cases, limits))
            if self.records.poll(worker_timeout(names, limits)):
                answer = json.loads(self.records.recv_bytes())
                if answer["retired"] is not None:  # the next student gets a fresh grading process and slot
                    print(terminal_line(f"a grading slot was retired: {answer['retired']}"), file=sys.stderr)
                    self.close()
                return StudentRecord.from_json(answer["record"])
            self.close()
            return too_long(folder.name, limits)
        except (EOFError, OSError, ValueError):
            self.process.join(5)
            code = self.process.exitcode
            self.close()
            return stopped(folder.name, code, limits)

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


def run_worker(folder: Path | grade.Submission, cases: bytes, limits: Limits, space: str | None = None) -> StudentRecord:
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
                graded: Callable[[StudentRecord], None] = lambda record: None) -> list[StudentRecord]:
    """Grade each student's folder, `jobs` at a time, with a progress bar; records in folder order.
    `graded(record)` is called with each student's record as soon as it is there (to write it at once)."""
    from tqdm import tqdm

    multiprocessing.get_context("forkserver").set_forkserver_preload([FORKSERVER_PRELOAD])
    cases = grade.draw_cases(secret)
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
