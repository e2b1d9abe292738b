"""What grading costs: a class graded, against the same notebooks executed plainly with nbclient,
and what grading through Dask adds per task.

    .venv/bin/python benchmarks/bench_grading.py [--students 4] [--dask-only]

Builds a class of STUDENTS copies of every solution notebook that has exercises (the grader does
not execute notebooks without exercises), then times, on this machine:
  plain    executing every submission once with nbclient, one after another;
  jobs=1   `python -m helpers.grading grade` with --jobs 1;
  jobs=2   the same with --jobs 2;
  dask=1   the same with --dask ADDRESS: a LocalCluster of one worker process with one thread,
           started (and warmed up) beforehand, so its start is not counted.
Prints the ratios grading/plain and jobs=1/jobs=2 as one JSON line, then
  dask_round_trip_s_per_trivial_task: a trivial task's round trip through the scheduler, one at a time;
  dask_overhead_s_per_task: (dask=1 - jobs=1) / STUDENTS, what grading a real student through Dask adds.
--dask-only skips plain and jobs=2.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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
        workdir = Path(tempfile.mkdtemp(dir=root))
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    return time.perf_counter() - started


def grade(root: Path, jobs: int, dask: str | None = None) -> float:
    out = root / f"grades-{jobs}-{'dask' if dask else 'local'}"
    env = {**os.environ, "GRADER_SECRET": "bench"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "helpers.grading", "grade", str(root / "submissions"), "--out", str(out), "--jobs", str(jobs), "--quiet",
                    *(["--dask", dask] if dask else [])], check=True, env=env, cwd=REPO, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def warm() -> None:
    """On a Dask worker: import the grader, as its first student would."""
    import helpers.grading.cluster  # noqa: F401


def on_dask(root: Path, students: int, tries: int = 100) -> tuple[float, float]:
    """(a trivial task's round trip, grading the class on one Dask worker), on a LocalCluster started beforehand."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        client.run(warm)
        client.submit(int, pure=False).result()
        started = time.perf_counter()
        for _ in range(tries):
            client.submit(int, pure=False).result()
        round_trip = (time.perf_counter() - started) / tries
        return round_trip, grade(root, 1, cluster.scheduler_address)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--dask-only", action="store_true", help="time only jobs=1 and dask=1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = make_class(root, args.students)
        times = {} if args.dask_only else {"plain": plain(paths, root)}
        times["jobs1"] = grade(root, 1)
        if not args.dask_only:
            times["jobs2"] = grade(root, 2)
        round_trip, times["dask1"] = on_dask(root, args.students)
    overhead = (times["dask1"] - times["jobs1"]) / args.students
    print(json.dumps({
        "students": args.students, "notebooks": len(paths), "cores": os.cpu_count(),
        **{k: round(v, 1) for k, v in times.items()},
        **({} if args.dask_only else {"grading_over_plain": round(times["jobs1"] / times["plain"], 2),
                                      "speedup_2_jobs": round(times["jobs1"] / times["jobs2"], 2)}),
    }))
    print(f"dask_round_trip_s_per_trivial_task: {round_trip:.4f}")
    print(f"dask_overhead_s_per_task: {overhead:.2f}")


if __name__ == "__main__":
    main()
