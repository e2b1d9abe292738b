"""Grading on a Dask cluster (`grade --dask ADDRESS`), for real on this machine.

A `dask scheduler` and two `dask worker` processes (the CLI, on 127.0.0.1) grade a small class of
fixtures (the solution, two hostile ones, kills_grader among them, and a slow release) while the
test kills the worker grading the slow one; its grading process and kernel go with it, and the
gradebook and records match local grading's byte for byte, apart from timings. A submission that
kills the Dask worker grading it, on every try, ends as its row after the scheduler's allowed
tries (`--dask local`). Every process the tests start is stopped.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dask
import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell

from helpers.grading import cluster, grade
from helpers.grading.__main__ import main
from helpers.grading.limits import Limits
from helpers.grading.slots import FreshSlot

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "submissions"
FIXED = ("solution", "kills_grader", "malformed_json")  # fixtures graded as they are
SLOW = "release_slow"  # the release with a cell that sleeps 15 s: the student whose worker the test kills
CLASS = sorted([*FIXED, SLOW])
SECRET = "dask-secret"
pytestmark = pytest.mark.slow  # a real Dask scheduler and workers grading a class: `make test-slow`
# --no-sandbox: these tests are about kernels that kill the processes above them, which a sandboxed
# kernel cannot see (tests/test_grading_hostile.py grades the same fixtures in the sandbox).
ARGS = ["--secret", SECRET, "--quiet", "--timeout", "60", "--cell-timeout", "20", "--memory", "2048", "--no-sandbox"]
DASK = Path(sys.executable).with_name("dask")
ALLOWED_FAILURES = "1"  # the scheduler's allowed-failures here: 2 tries, to keep the test short
# A cell that kills the Dask worker grading it: its first ancestor started by multiprocessing's spawn.
# (Graded locally it finds no such ancestor and kills nothing.)
KILLS_DASK_WORKER = """import os, signal
pid = os.getpid()
while pid > 1:
    with open(f"/proc/{pid}/stat") as stat:
        pid = int(stat.read().rsplit(")", 1)[1].split()[1])
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        if b"spawn_main" in cmdline.read():
            os.kill(pid, signal.SIGKILL)
            break"""


def without_timings(record: dict) -> dict:
    """A record without what differs between two runs: graded_at, and each notebook's and exercise's time."""
    record = {key: value for key, value in record.items() if key != "graded_at"}
    record["notebooks"] = [{k: v for k, v in notebook.items() if k != "seconds"} for notebook in record["notebooks"]]
    record["exercises"] = {key: {k: v for k, v in grade.items() if k != "time"} for key, grade in record["exercises"].items()}
    return record


def outputs(out: Path) -> dict[str, object]:
    """Every file in OUT: records without timings, the other files as bytes."""
    return {p.name: without_timings(json.loads(p.read_text())) if p.suffix == ".json" else p.read_bytes() for p in sorted(out.iterdir())}


def stop(processes: list[subprocess.Popen]) -> None:
    """Stop these processes and every process under them, whatever state they are in."""
    found = []
    for process in processes:
        try:
            parent = psutil.Process(process.pid)
            found += [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    for process in found:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(found, timeout=10)
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # each was started in a session (and group) of its own
        except (ProcessLookupError, PermissionError):
            pass
        process.wait(10)


@pytest.fixture
def scheduler(tmp_path):
    """`dask scheduler` and two `dask worker --nworkers 1 --nthreads 1` on 127.0.0.1: the address."""
    started: list[subprocess.Popen] = []
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": ALLOWED_FAILURES}
    env.pop("GRADER_SECRET", None)

    def launch(name: str, *args: str) -> None:
        log = (tmp_path / f"{name}.log").open("w")
        started.append(subprocess.Popen([str(DASK), *args], stdout=log, stderr=subprocess.STDOUT, env=env,
                                         cwd=tmp_path, start_new_session=True))

    try:
        file = tmp_path / "scheduler.json"
        launch("scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(file))
        for number in (1, 2):
            launch(f"worker{number}", "worker", "--scheduler-file", str(file), "--nworkers", "1", "--nthreads", "1",
                   "--host", "127.0.0.1", "--no-dashboard", "--local-directory", str(tmp_path / f"worker{number}"))
        from distributed import Client

        deadline = time.monotonic() + 90
        while not file.exists():
            assert time.monotonic() < deadline and started[0].poll() is None, (tmp_path / "scheduler.log").read_text()
            time.sleep(0.2)
        address = json.loads(file.read_text())["address"]
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=90)
        yield address
    finally:
        stop(started)
        assert all(process.poll() is not None for process in started)


def left_running(space: Path) -> list[str]:
    """The processes still working in a worker's scratch space (grading processes, kernels)."""
    found = []
    for process in psutil.process_iter():
        try:
            if Path(process.cwd()).is_relative_to(space):
                found.append(" ".join(process.cmdline())[:200])
        except (psutil.Error, OSError):
            pass
    return found


def kill_the_worker_grading(address: str, index: int, report: dict, done: threading.Event) -> None:
    """Once student `index` has been grading for 4 s, kill the worker process grading it (its nanny starts
    another); then wait up to 10 s for its grading process and kernel to be gone, and say what is left."""
    from distributed import Client

    with Client(address, timeout=30) as client:
        pids, spaces = client.run(os.getpid), client.run(lambda dask_worker: dask_worker.local_directory)
        started = None
        while not done.is_set():
            worker = next((w for w, keys in client.processing().items() if any(tuple(key)[1] == index for key in keys)), None)
            started = started or (worker and time.monotonic())
            if worker and time.monotonic() - started > 4:
                os.kill(pids[worker], signal.SIGKILL)
                report["killed"] = pids[worker]
                deadline = time.monotonic() + 10
                while left_running(Path(spaces[worker])) and time.monotonic() < deadline:
                    time.sleep(0.5)
                report["left"] = left_running(Path(spaces[worker]))
                return
            time.sleep(0.2)


def test_a_class_graded_through_dask_matches_local_grading_even_when_a_worker_is_lost(scheduler, tmp_path):
    subs = tmp_path / "subs"
    for student in FIXED:
        shutil.copytree(FIXTURES / student, subs / student)
    slow = nbformat.read(FIXTURES / "release" / "01_tensors.ipynb", as_version=4)
    slow.cells.insert(2, new_code_cell("import time\ntime.sleep(15)"))
    (subs / SLOW).mkdir()
    nbformat.write(slow, subs / SLOW / "01_tensors.ipynb")
    assert main(["grade", str(subs), "--out", str(tmp_path / "local"), "--jobs", "2", *ARGS]) == 0

    report: dict = {}
    done = threading.Event()
    killer = threading.Thread(target=kill_the_worker_grading, args=(scheduler, CLASS.index(SLOW), report, done))
    killer.start()
    try:
        assert main(["grade", str(subs), "--out", str(tmp_path / "dask"), "--dask", scheduler, *ARGS]) == 0
    finally:
        done.set()
        killer.join(60)
    assert "killed" in report, "no worker was killed mid-task"
    assert report["left"] == []  # the killed worker's grading process and kernel went with it

    local, remote = outputs(tmp_path / "local"), outputs(tmp_path / "dask")
    assert local.keys() == remote.keys() == {f"{s}.{x}" for s in CLASS for x in ("json", "md")} | {"grades.csv", "summary.csv", "report.html"}
    for name in local:
        assert remote[name] == local[name], name
    assert "the notebook killed the process its kernel was forked from" in remote["kills_grader.json"]["problems"][0]
    assert remote["solution.json"]["total"] == 8 and remote[f"{SLOW}.json"]["problems"] == []


def test_a_submission_that_kills_every_dask_worker_it_touches_is_a_row_after_the_allowed_tries(tmp_path):
    nb = nbformat.read(FIXTURES / "release" / "01_tensors.ipynb", as_version=4)
    nb.cells.insert(2, new_code_cell(KILLS_DASK_WORKER))
    (tmp_path / "subs" / "escapes").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "subs" / "escapes" / "01_tensors.ipynb")
    with dask.config.set({"distributed.scheduler.allowed-failures": int(ALLOWED_FAILURES)}):
        assert main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--dask", "local", "--jobs", "1", *ARGS]) == 0
    record = json.loads((tmp_path / "out" / "escapes.json").read_text())
    assert record["total"] == 0 and record["grading_failed"]
    assert record["problems"] == ["the Dask worker grading it died on each of 2 tries (killed, out of memory, or by the "
                                  "submission); nothing was graded"]


def test_a_students_files_are_read_by_name_and_only_the_notebooks_to_grade_are_read(tmp_path):
    from helpers.grading.notebook import MAX_BYTES

    (tmp_path / "ann").mkdir()
    (tmp_path / "ann" / "01_tensors.ipynb").symlink_to(FIXTURES / "solution" / "01_tensors.ipynb")
    (tmp_path / "ann" / "notes.txt").write_text("mine")
    (tmp_path / "ann" / ".hidden").write_text("not even named")
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "01_tensors.ipynb").write_bytes(b" " * (MAX_BYTES + 10))
    assert grade.read_files(tmp_path / "ann") == {"01_tensors.ipynb": None, "notes.txt": None}
    assert grade.read_files(tmp_path / "bob") == {"01_tensors.ipynb": b" " * (MAX_BYTES + 1)}
    cases = grade.load_cases(grade.draw_cases(SECRET))
    for student, reason in (("ann", "it is not a regular file"), ("bob", "the file is more than the 50 MiB a notebook may have")):
        record = grade.grade_files(student, grade.read_files(tmp_path / student), cases, Limits(), FreshSlot(tmp_path / f"{student}-slot"))
        assert record.problems == [f"01_tensors.ipynb: {reason}"] and record.total == 0


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 2)
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    assert main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--dask", "tcp://127.0.0.1:9", *ARGS]) == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_workers_with_other_tests_are_refused():
    class Client:
        def run(self, function):
            return {"tcp://10.0.0.7:4000": {**function(), "tests_hash": "another"}, "tcp://10.0.0.8:4000": function()}

    with pytest.raises(cluster.ClusterError, match=r"1 Dask worker\(s\) have other tests than this checkout \(tcp://10.0.0.7:4000\)"):
        cluster.check_workers(Client())
