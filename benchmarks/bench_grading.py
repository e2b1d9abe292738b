"""What grading costs: a class graded, against the same notebooks executed plainly with nbclient.

    .venv/bin/python benchmarks/bench_grading.py [--students 4] [--repeats 3]

Builds a class of STUDENTS copies of every solution notebook that has exercises (the grader does
not execute notebooks without exercises), then times, on this machine:
  plain       executing every submission once with nbclient, one after another;
  jobs=1      `python -m helpers.grading grade` with --jobs 1 (kernels in the OS sandbox), --repeats runs;
  no-sandbox  the same with --no-sandbox, --repeats runs, alternating with the jobs=1 runs;
  jobs=2      the sandboxed grading with --jobs 2.
Prints one JSON line (the ratios grading/plain and jobs=1/jobs=2 from the medians of the runs), then
what the sandbox adds to grading one notebook, as `sandbox_cost_s_per_notebook: SECONDS`: the median
over the runs of the mean `seconds` of a notebook in the records (its whole grading: working copy,
kernel starts, cells, hidden cases), with the sandbox minus without. The JSON line also has the
difference of whole runs per notebook (which includes starting the grader, and on a busy machine
drowns in noise) and `sandbox_start_s`: the median extra time of starting `python -S -c pass` in
the sandbox, over 20 paired starts.
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


def grade(root: Path, jobs: int, *extra: str, seconds: list | None = None) -> float:
    """Seconds the grading command took; the mean of the notebooks' own `seconds` (from the records) appended to `seconds`."""
    out = root / f"grades-{jobs}"
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "GRADER_SECRET": "bench"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "helpers.grading", "grade", str(root / "submissions"), "--out", str(out), "--jobs", str(jobs), "--quiet", *extra],
                   check=True, env=env, cwd=REPO, stdout=subprocess.DEVNULL)
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3, help="runs with and without the sandbox (the median counts)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = make_class(root, args.students)
        times = {"plain": plain(paths, root)}
        sandboxed, unsandboxed, notebook_sandboxed, notebook_unsandboxed = [], [], [], []
        for _ in range(args.repeats):  # alternating, so a change in the machine's load hits both alike
            sandboxed.append(grade(root, 1, seconds=notebook_sandboxed))
            unsandboxed.append(grade(root, 1, "--no-sandbox", seconds=notebook_unsandboxed))
        times |= {"jobs1": statistics.median(sandboxed), "jobs1_no_sandbox": statistics.median(unsandboxed), "jobs2": grade(root, 2)}
    cost = statistics.median(notebook_sandboxed) - statistics.median(notebook_unsandboxed)
    print(json.dumps({
        "students": args.students, "notebooks": len(paths), "cores": os.cpu_count(),
        **{k: round(v, 1) for k, v in times.items()},
        "grading_over_plain": round(times["jobs1"] / times["plain"], 2),
        "speedup_2_jobs": round(times["jobs1"] / times["jobs2"], 2),
        "sandbox_runs_s": [round(t, 1) for t in sandboxed], "no_sandbox_runs_s": [round(t, 1) for t in unsandboxed],
        "notebook_s_sandbox": [round(t, 3) for t in notebook_sandboxed], "notebook_s_no_sandbox": [round(t, 3) for t in notebook_unsandboxed],
        "whole_run_difference_s_per_notebook": round((times["jobs1"] - times["jobs1_no_sandbox"]) / len(paths), 2),
        "sandbox_start_s": round(sandbox_start(), 3),
    }))
    print(f"sandbox_cost_s_per_notebook: {cost:.3f}")


if __name__ == "__main__":
    main()
