"""`make bench`: every performance figure of the course, measured in one run on this machine.

    .venv/bin/python benchmarks/run.py [--repeats 3] [--students 4] [--kernels 200]

Prints each figure on its own line as `name: value   (goal ...: met | MISSED)`, then writes every
figure and its details to artifacts/bench/results.json. Each figure is the median of at least
REPEATS runs (bench_notebooks, bench_checks, bench_grading say how each is taken); bench_kernels
counts the kernels of KERNELS started back to back that failed. These machines
are noisy: compare ratios measured side by side, not seconds from different runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import bench_book
import bench_checks
import bench_class_report
import bench_grading
import bench_kernels
import bench_notebooks

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "artifacts" / "bench" / "results.json"

# name: (goal as words, test of the value)
GOALS = {
    "suite_vs_floor": ("<= 1.0", lambda v: v <= 1.0),
    "slowest_notebook_own_s": ("< 2", lambda v: v < 2),
    "check_ms_median": ("< 50", lambda v: v < 50),
    "widget_update_ms_max": ("<= 60", lambda v: v <= 60),
    "notebook_run_log_lines": ("0", lambda v: v == 0),
    "grading_vs_plain": ("<= 0.6", lambda v: v <= 0.6),
    "grading_speedup_2_jobs": (">= 1.8", lambda v: v >= 1.8),
    "sandbox_cost_s_per_notebook": ("as small as measurable", None),
    "dask_overhead_s_per_task": ("small against a student's grading", None),
    "class_1000_minutes_64_cores": ("< 10", lambda v: v < 10),
    "class_report_1000_s": ("< 5", lambda v: v < 5),
    "book_build_s": ("< 120", lambda v: v < 120),
    "book_build_cpu_s": ("what a 1-core build would take", None),
    "grading_log_lines": ("0", lambda v: v == 0),
    "kernel_stress_failures": ("0", lambda v: v == 0),
    "kernel_stress_log_lines": ("0", lambda v: v == 0),
}


def line(name: str, value: float) -> str:
    """`name: value   (goal ...: met)`, the form every figure is printed in."""
    goal, met = GOALS.get(name, ("", None))
    verdict = "" if met is None else (": met" if met(value) else ": MISSED")
    return f"{name}: {value:g}   (goal {goal}{verdict})" if goal else f"{name}: {value:g}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--kernels", type=int, default=200)
    args = parser.parse_args()
    started = time.perf_counter()
    parts = {"notebooks": bench_notebooks.measure(args.repeats), "checks": bench_checks.measure(),
             "grading": bench_grading.measure(args.students, args.repeats), "class_report": bench_class_report.measure(args.repeats),
             "book": bench_book.measure(args.repeats), "kernels": bench_kernels.measure(args.kernels)}
    figures = {name: value for part in parts.values() for name, value in part.items() if name != "details"}
    for name, value in figures.items():
        print(line(name, value))
    machine = {"platform": platform.platform(terse=True), "python": platform.python_version(), "cores": os.cpu_count(),
               "load_average": os.getloadavg(), "seconds": round(time.perf_counter() - started)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"figures": figures, "machine": machine,
                                   "details": {name: part.get("details", {}) for name, part in parts.items()}}, indent=1))
    print(f"details: {RESULTS.relative_to(REPO)} ({machine['cores']} cores, load {machine['load_average'][0]:.1f}, {machine['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
