"""What grading costs: a class graded, against the same notebooks executed plainly with nbclient,
and what grading through Dask adds per task.

    .venv/bin/python benchmarks/bench_grading.py [--students 4] [--repeats 3] [--dask-only]

Builds a class of STUDENTS copies of every solution notebook that has exercises (the grader does
not execute notebooks without exercises), then times, on this machine:
  plain       executing every submission once with nbclient, one after another;
  jobs=1      `python -m helpers.grading grade` with --jobs 1 (kernels in the OS sandbox), --repeats runs;
  no-sandbox  the same with --no-sandbox, --repeats runs, alternating with the jobs=1 runs;
  jobs=2      the sandboxed grading with --jobs 2;
  dask=1      the same with --dask ADDRESS: a LocalCluster of one worker process with one thread,
              started (and warmed up) beforehand, so its start is not counted.
Prints the ratios grading/plain and jobs=1/jobs=2 (from the medians of the runs) as one JSON line, then
  sandbox_cost_s_per_notebook: what the sandbox adds to grading one notebook: the median over the
      runs of the mean `seconds` of a notebook in the records (its whole grading: working copy,
      kernel starts, cells, hidden cases), with the sandbox minus without. The JSON line also has
      the difference of whole runs per notebook (which includes starting the grader, and on a busy
      machine drowns in noise) and `sandbox_start_s`: the median extra time of starting
      `python -S -c pass` in the sandbox, over 20 paired starts;
and, on that LocalCluster,
  dask_round_trip_s_per_trivial_task: a trivial task's round trip through the scheduler, one at a time;
  dask_overhead_s_per_task: the round trip of a real student's task (their notebooks and the hidden
      cases there, their record back) without the grading: what Dask adds to each student, since a
      worker then grades exactly as local grading does;
  dask_minus_local_s_per_student: (dask=1 - jobs=1) / STUDENTS, the same end to end (noisy: a student
      takes seconds, and this difference is far smaller).
--dask-only skips plain, the runs without the sandbox and jobs=2.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from helpers.checks import EXERCISES  # noqa: E402


def make_class(root: Path, students: int) -> list[Path]:
    numbers = {key[:2] for key in EXERCISES}
    notebooks = [p for p in sorted((REPO / "notebooks").glob("*.ipynb")) if p.name[:2] in numbers]
    for i in range(students):
        folder = root / "submissions" / f"student{i + 1}"
        folder.mkdir(parents=True)
        for path in notebooks:
            shutil.copy(path, folder / path.name)
    return sorted((root / "submissions").rglob("*.ipynb"))


def plain(paths: list[Path], root: Path) -> float:
    started = time.perf_counter()
    for path in paths:
        workdir = Path(tempfile.mkdtemp(dir=root)) / "notebooks"  # laid out like the repo, as the grader does: ../data
        workdir.mkdir()
        shutil.copytree(REPO / "data", workdir.parent / "data")
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    return time.perf_counter() - started


def grade(root: Path, jobs: int, dask: str | None = None, *extra: str, seconds: list | None = None) -> float:
    """Seconds the grading command took; the mean of the notebooks' own `seconds` (from the records) appended to `seconds`."""
    out = root / f"grades-{jobs}-{'dask' if dask else 'local'}{''.join(extra)}"
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "GRADER_SECRET": "bench"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "helpers.grading", "grade", str(root / "submissions"), "--out", str(out), "--jobs", str(jobs), "--quiet",
                    *(["--dask", dask] if dask else []), *extra], check=True, env=env, cwd=REPO, stdout=subprocess.DEVNULL)
    took = time.perf_counter() - started
    if seconds is not None:
        each = [n["seconds"] for p in out.glob("*.json") for n in json.loads(p.read_text()).get("notebooks", [])]
        seconds.append(statistics.mean(each))
    return took


def sandbox_start(pairs: int = 20) -> float:
    """Median extra seconds that starting a trivial Python in the grader's sandbox takes, over paired starts."""
    from helpers.grading import bwrap

    inner = [sys.executable, "-S", "-c", "pass"]
    extra = []
    with tempfile.TemporaryDirectory() as folder:
        wrapped = bwrap.command(bwrap.executable(), Path(folder), inner, {"PATH": "/usr/bin:/bin"})
        for _ in range(pairs):
            started = time.perf_counter()
            subprocess.run(wrapped, check=True, env={"PATH": "/usr/bin:/bin"})
            middle = time.perf_counter()
            subprocess.run(inner, check=True, env={"PATH": "/usr/bin:/bin"})
            extra.append((middle - started) - (time.perf_counter() - middle))
    return statistics.median(extra)


def warm() -> None:
    """On a Dask worker: import the grader, as its first student would."""
    import helpers.grading.cluster  # noqa: F401


def echo(submission, cases: bytes, limits, record: dict) -> dict:
    """A task that carries what grading a student carries, there and back, and does nothing else."""
    return record


def round_trip(client, tries: int, *args) -> float:
    """Seconds per task of `echo` (or of a trivial task without `args`), one task at a time."""
    task = (echo, *args) if args else (int,)
    client.submit(*task, pure=False).result()
    started = time.perf_counter()
    for _ in range(tries):
        client.submit(*task, pure=False).result()
    return (time.perf_counter() - started) / tries


def on_dask(root: Path, tries: int = 100) -> dict[str, float]:
    """On a LocalCluster of one worker (one thread), started and warmed up beforehand: a trivial task's
    round trip, a real student's (their notebooks, the hidden cases, their record; no grading), and
    grading the class through it (seconds)."""
    from distributed import Client, LocalCluster

    from helpers.grading import grade as grading
    from helpers.grading.sandbox import Limits

    folder = root / "submissions" / "student1"
    submission = grading.Submission(folder.name, grading.read_files(folder))
    record = json.loads((root / "grades-1-local" / "student1.json").read_text())
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        client.run(warm)
        return {"trivial": round_trip(client, tries),
                "student": round_trip(client, tries, submission, grading.draw_cases("bench"), Limits(), record),
                "dask1": grade(root, 1, cluster.scheduler_address)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3, help="runs with and without the sandbox (the median counts)")
    parser.add_argument("--dask-only", action="store_true", help="time only jobs=1 and dask=1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = make_class(root, args.students)
        times = {} if args.dask_only else {"plain": plain(paths, root)}
        sandboxed, unsandboxed, notebook_sandboxed, notebook_unsandboxed = [], [], [], []
        for _ in range(1 if args.dask_only else args.repeats):  # alternating, so a change in the machine's load hits both alike
            sandboxed.append(grade(root, 1, seconds=notebook_sandboxed))
            if not args.dask_only:
                unsandboxed.append(grade(root, 1, None, "--no-sandbox", seconds=notebook_unsandboxed))
        times["jobs1"] = statistics.median(sandboxed)
        if not args.dask_only:
            times |= {"jobs1_no_sandbox": statistics.median(unsandboxed), "jobs2": grade(root, 2)}
        dask = on_dask(root)
        times["dask1"] = dask["dask1"]
    sandbox = {} if args.dask_only else {
        "sandbox_runs_s": [round(t, 1) for t in sandboxed], "no_sandbox_runs_s": [round(t, 1) for t in unsandboxed],
        "notebook_s_sandbox": [round(t, 3) for t in notebook_sandboxed], "notebook_s_no_sandbox": [round(t, 3) for t in notebook_unsandboxed],
        "whole_run_difference_s_per_notebook": round((times["jobs1"] - times["jobs1_no_sandbox"]) / len(paths), 2),
        "sandbox_start_s": round(sandbox_start(), 3),
    }
    print(json.dumps({
        "students": args.students, "notebooks": len(paths), "cores": os.cpu_count(),
        **{k: round(v, 1) for k, v in times.items()},
        **({} if args.dask_only else {"grading_over_plain": round(times["jobs1"] / times["plain"], 2),
                                      "speedup_2_jobs": round(times["jobs1"] / times["jobs2"], 2)}),
        **sandbox,
    }))
    if not args.dask_only:
        print(f"sandbox_cost_s_per_notebook: {statistics.median(notebook_sandboxed) - statistics.median(notebook_unsandboxed):.3f}")
    print(f"dask_round_trip_s_per_trivial_task: {dask['trivial']:.4f}")
    print(f"dask_overhead_s_per_task: {dask['student']:.4f}")
    print(f"dask_minus_local_s_per_student: {(times['dask1'] - times['jobs1']) / args.students:.2f}  (end to end; within this machine's noise)")

if __name__ == "__main__":
    main()
