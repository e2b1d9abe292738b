"""What grading costs: a class graded, against the same notebooks executed plainly with nbclient,
and what a Dask cluster adds per task; projected to a 1,000-learner class on 64 cores.

    .venv/bin/python benchmarks/bench_grading.py [--students 4] [--repeats 3]     (make bench runs it, via run.py)

Builds a class of STUDENTS copies of every solution notebook that has exercises (the grader does
not execute notebooks without exercises). Then REPEATS rounds, each timing side by side, on this machine:
  plain       executing every submission once with nbclient, one after another (a fresh kernel each);
  jobs=1      `python -m helpers.grading grade --jobs 1` (kernels forked from a zygote, in the OS sandbox);
  no-sandbox  the same with --no-sandbox;
  jobs=2      the sandboxed grading with --jobs 2.
Each grading run is the whole command an instructor runs (the grader's start, its zygotes' start included).
Figures (medians over the rounds of each round's ratio or value):
  grading_vs_plain: jobs=1 / plain;
  grading_speedup_2_jobs: jobs=1 / jobs=2;
  sandbox_cost_s_per_notebook: the mean `seconds` of a notebook in the records (its whole grading:
      working copy, kernel, cells, hidden cases) with the sandbox minus without;
  dask_overhead_s_per_task: on a LocalCluster of one worker (started and warmed up beforehand), the
      round trip of a real student's task (their notebooks and the hidden cases there, their record
      back) without the grading: what Dask adds to each student, as a worker then grades exactly as
      local grading does;
  grading_log_lines: lines written to stderr by the plain runs (each notebook in a Python process of its own,
      benchmarks/run_apart.py) and the grading commands of every round (--quiet): a clean run writes none;
  class_1000_minutes_64_cores: 1,000 learners on 64 worker cores, one student per core at a time:
      ceil(1000 / 64) students one after another on each core, each costing what a student cost
      with every core of this machine busy (jobs=N on N cores: wall time x N / STUDENTS) plus the
      Dask overhead per task. Starting the cluster is not counted.
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
from run_apart import execute_apart, logged_lines

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


def plain(paths: list[Path], root: Path, logged: list[str]) -> float:
    """Seconds to execute every submission with nbclient, one after another, each in a fresh kernel (and a
    Python process of its own, whose start is not counted); what those processes wrote to stderr goes to `logged`."""
    seconds = 0.0
    for path in paths:
        started = time.perf_counter()
        workdir = Path(tempfile.mkdtemp(dir=root)) / "notebooks"  # laid out like the repo, as the grader does: ../data
        workdir.mkdir()
        shutil.copytree(REPO / "data", workdir.parent / "data")
        seconds += time.perf_counter() - started
        executed, _, lines = execute_apart(nbformat.read(path, as_version=4), workdir)
        seconds += executed
        logged += lines
    return seconds


def grade(root: Path, jobs: int, dask: str | None = None, *extra: str, seconds: list | None = None,
          logged: list[str] | None = None) -> float:
    """Seconds the grading command took; the mean of the notebooks' own `seconds` (from the records) appended to
    `seconds`, and the lines the command wrote to stderr to `logged`."""
    out = root / f"grades-{jobs}-{'dask' if dask else 'local'}{''.join(extra)}"
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "GRADER_SECRET": "bench"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "helpers.grading", "grade", str(root / "submissions"), "--out", str(out), "--jobs", str(jobs),
                           "--quiet", *(["--dask", dask] if dask else []), *extra],
                          env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - started
    lines = logged_lines(done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"grading failed ({done.returncode}): " + "\n".join(lines[-20:]))
    if logged is not None:
        logged += lines
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
        bwrap.hand_over(Path(folder))  # as root the sandbox runs as another uid, which must own its writable folder
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
    from helpers.grading.limits import Limits

    folder = root / "submissions" / "student1"
    submission = grading.Submission(folder.name, grading.read_files(folder))
    record = json.loads((root / "grades-1-local" / "student1.json").read_text())
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        client.run(warm)
        return {"trivial": round_trip(client, tries),
                "student": round_trip(client, tries, submission, grading.draw_cases("bench"), Limits(), record),
                "dask1": grade(root, 1, cluster.scheduler_address)}


def one_round(root: Path, paths: list[Path], logged: list[str]) -> dict[str, float]:
    """Seconds for plain execution, jobs=1, jobs=1 --no-sandbox and jobs=2, one after another; and the mean
    notebook's own grading seconds with and without the sandbox. What each run wrote to stderr goes to `logged`."""
    sandboxed, unsandboxed = [], []
    return {"plain": plain(paths, root, logged), "jobs1": grade(root, 1, seconds=sandboxed, logged=logged),
            "jobs1_no_sandbox": grade(root, 1, None, "--no-sandbox", seconds=unsandboxed, logged=logged),
            "jobs2": grade(root, 2, logged=logged), "notebook_s": sandboxed[0], "notebook_s_no_sandbox": unsandboxed[0]}


def measure(students: int = 4, repeats: int = 3, learners: int = 1000, cores: int = 64) -> dict:
    """The grading figures (see the module's docstring) and the runs they come from."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = make_class(root, students)
        logged: list[str] = []
        rounds = [one_round(root, paths, logged) for _ in range(repeats)]
        dask = on_dask(root)
    median = lambda f: statistics.median(f(r) for r in rounds)  # noqa: E731
    busy = min(2, os.cpu_count() or 1)  # jobs=2 keeps this many cores busy
    student_core_s = median(lambda r: r["jobs2"] * busy / students)
    waves = -(-learners // cores)
    return {
        "grading_vs_plain": round(median(lambda r: r["jobs1"] / r["plain"]), 2),
        "grading_speedup_2_jobs": round(median(lambda r: r["jobs1"] / r["jobs2"]), 2),
        "sandbox_cost_s_per_notebook": round(median(lambda r: r["notebook_s"] - r["notebook_s_no_sandbox"]), 3),
        "dask_overhead_s_per_task": round(dask["student"], 4),
        "class_1000_minutes_64_cores": round(waves * (student_core_s + dask["student"]) / 60, 1),
        "grading_log_lines": len(logged),
        "details": {"log": logged[:20], "students": students, "notebooks": len(paths), "cores": os.cpu_count(),
                    "rounds_s": [{k: round(v, 2) for k, v in r.items()} for r in rounds],
                    "student_core_s": round(student_core_s, 2), "sandbox_start_s": round(sandbox_start(), 3),
                    "dask_round_trip_s_per_trivial_task": round(dask["trivial"], 4), "dask1_s": round(dask["dask1"], 1),
                    "local_jobs1_s_last_round": round(rounds[-1]["jobs1"], 1)},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    figures = measure(args.students, args.repeats)
    details = figures.pop("details")
    for name, value in figures.items():
        print(f"{name}: {value:g}")
    print(json.dumps(details))


if __name__ == "__main__":
    main()
