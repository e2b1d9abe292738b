"""Grade a class on a Dask cluster: `python -m helpers.grading grade SUBMISSIONS --out OUT --dask ADDRESS`.

ADDRESS is a running `dask.distributed` scheduler (tcp://host:8786), or `local` for a LocalCluster of
--jobs worker processes on this machine. The instructor's process draws the hidden cases once from
the secret and reads each student's files; a task carries those bytes (file name -> bytes) and the
cases to a worker, which grades the student exactly as local grading does (`workers.run_worker`: a
process of its own, forked from a server that imported the grader once, runs `grade.grade_files`)
and sends back the record. The gradebook and the feedback are written by the instructor's process
(`report.write_outputs`). Workers need the course's environment (its packages and `helpers`) but no
shared filesystem and no secret.

A worker lost mid-task (killed, out of memory, pre-empted) costs a retry: the scheduler runs the task
again on another worker. A student whose every try loses its worker ends, after the scheduler's
`allowed-failures` + 1 tries (3 + 1 by default), as a row that says so (Dask's KilledWorker). An error
raised by the task itself (a worker that cannot run the grader) is retried RETRIES times. Only as
many students are in flight as the cluster has worker threads, so only their files are in memory.
"""

from __future__ import annotations

import multiprocessing
import sys
import uuid
from collections import deque
from concurrent.futures import CancelledError
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

from helpers.grading import FORKSERVER_PRELOAD, grade, workers
from helpers.grading import cases as hidden
from helpers.grading.limits import Limits
from helpers.grading.record import StudentRecord, failed, versions

RETRIES = 2  # further tries of a task that raised (a worker's death is the scheduler's allowed-failures)
CONNECT_TIMEOUT = 30  # seconds to reach the scheduler
LARGE_TASK = "distributed.admin.large-graph-warning-threshold"


class ClusterError(RuntimeError):
    """The Dask cluster cannot grade (unreachable, other tests on a worker, scheduler lost).

    `records` holds the students graded before it happened, so the caller can still write them.
    """

    def __init__(self, message: str, records: list[StudentRecord] | None = None):
        super().__init__(message)
        self.records = records or []


def grade_task(submission: grade.Submission, cases: bytes, limits: Limits) -> dict:
    """On a Dask worker: grade one student as local grading does (`workers.run_worker`), in the worker's scratch space."""
    from distributed import get_worker

    allow_children()
    multiprocessing.get_context("forkserver").set_forkserver_preload([FORKSERVER_PRELOAD])
    record = workers.run_worker(submission, cases, limits, space=get_worker().local_directory)  # Dask clears what a killed worker left
    return record.to_json()  # crosses to the instructor's process as plain data


def allow_children() -> None:
    """Let this Dask worker process start grading processes, as the grader's own process does.

    Dask's nanny starts each worker process as a multiprocessing daemon, and multiprocessing refuses
    children to a daemon (they could outlive it). Here they cannot: when this process is gone, the fork
    server exits, each grading process forked from it exits with it (`workers.exit_with_parent`), and
    each kernel with its grading process. The flag only concerns this process's own children; the
    nanny stops this process as before.
    """
    process = multiprocessing.current_process()
    if process.daemon:
        process.daemon = False


def fingerprint() -> dict:
    """What grades on this machine: the tests' hash and the versions (compared across the cluster)."""
    return {"tests_hash": hidden.definitions_hash(), "versions": versions()}


def check_workers(client) -> None:
    """Refuse workers that would grade with other tests; warn about other versions. Workers that join later
    are checked by their records' tests_hash."""
    ours = fingerprint()
    try:
        theirs = client.run(fingerprint)
    except Exception as error:  # the workers cannot import or run the grader
        raise ClusterError(f"the Dask workers cannot run the grader ({type(error).__name__}: {error}); "
                           "each needs the course's environment (see docs/grading-on-a-cluster.md)") from None
    other = sorted(address for address, found in theirs.items() if found["tests_hash"] != ours["tests_hash"])
    if other:
        raise ClusterError(f"{len(other)} Dask worker(s) have other tests than this checkout ({', '.join(other[:3])}): "
                           "give every worker the same course checkout")
    for address, found in sorted(theirs.items()):
        if found["versions"] != ours["versions"]:
            print(f"warning: the Dask worker {address} has other versions than this machine: {found['versions']}", file=sys.stderr)
            break


def killed(student: str, error, limits: Limits) -> StudentRecord:
    """The row of a student each of whose tries lost its worker (KilledWorker)."""
    tries = error.allowed_failures + 1
    return failed(student, f"the Dask worker grading it died on each of {tries} tries (killed, out of memory, or by the submission)",
                  grade.sandbox_of(limits))


def grade_class_dask(folders: list[Path], secret: str, limits: Limits, address: str, jobs: int, progress: bool = True,
                     graded: Callable[[StudentRecord], None] = lambda record: None) -> list[StudentRecord]:
    """Grade each student's folder on the Dask cluster at `address` ("local": a LocalCluster of `jobs`
    worker processes), with one progress bar; the records in folder order. `graded(record)` is called with
    each student's record as soon as it is there."""
    import dask
    from distributed import Client, KilledWorker, LocalCluster, as_completed
    from tqdm import tqdm

    cases = grade.draw_cases(secret)
    ours = hidden.definitions_hash()
    records: dict[str, StudentRecord] = {}
    with ExitStack() as stack:
        stack.enter_context(dask.config.set({LARGE_TASK: "2GiB"}))  # a task is a student's notebooks: up to 50 MiB each
        if address == "local":
            target = stack.enter_context(LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None))
        else:
            target = address
        try:
            client = stack.enter_context(Client(target, timeout=CONNECT_TIMEOUT))
        except (OSError, TimeoutError) as error:
            raise ClusterError(f"cannot reach the Dask scheduler at {address} ({error})") from None
        check_workers(client)
        run = f"grade-{uuid.uuid4().hex}"
        queue, names = deque(enumerate(folders)), {}
        running = as_completed()
        bar = stack.enter_context(tqdm(total=len(folders), unit="student", desc="grading on dask", disable=not progress))
        bar.set_postfix(failed=0)
        failures = 0

        def finish(student: str, record: StudentRecord) -> None:
            nonlocal failures
            records[student] = record
            graded(record)
            failures += record.grading_failed
            bar.update()
            bar.set_postfix(failed=failures)

        def top_up() -> None:
            """Submit students until as many are in flight as the cluster has threads (at least one)."""
            while queue and running.count() < max(1, sum(client.nthreads().values())):
                index, folder = queue.popleft()
                try:
                    files = grade.read_files(folder)
                except OSError as error:  # an unreadable folder is that student's row, as it is locally
                    finish(folder.name, grade.grader_failed(folder.name, error, limits))
                    continue
                future = client.submit(grade_task, grade.Submission(folder.name, files), cases, limits,
                                       key=(run, index), retries=RETRIES, pure=False)
                names[future.key] = folder.name
                running.add(future)

        try:
            top_up()
            for future in running:
                student = names.pop(future.key)
                try:
                    record = StudentRecord.from_json(future.result())
                except KilledWorker as error:
                    record = killed(student, error, limits)
                except CancelledError:
                    raise
                except Exception as error:
                    record = grade.grader_failed(student, error, limits, f"on each of {RETRIES + 1} tries on the Dask cluster")
                future.release()
                if record.tests_hash != ours:
                    record = failed(student, "a Dask worker with other tests than this checkout graded it", grade.sandbox_of(limits))
                finish(student, record)
                top_up()
        except (CancelledError, OSError) as error:
            graded = [records[folder.name] for folder in folders if folder.name in records]
            raise ClusterError(f"lost the Dask scheduler at {address} ({type(error).__name__}: {error}) after grading "
                               f"{len(graded)} of {len(folders)} students", graded) from None
    return [records[folder.name] for folder in folders]
