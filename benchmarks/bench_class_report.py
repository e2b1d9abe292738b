"""How long the class report takes to build: report.html for a class of 1,000 synthetic records.

    .venv/bin/python benchmarks/bench_class_report.py     (make bench runs it; goal: under 5 s)

Each synthetic learner answers each exercise at random (seeded): passed, partial, failed with one of the
exercise's catalogued mistakes (helpers.checks.catalogue), not attempted, or not handed in. Both wall
time and this process's CPU time are reported (CPU time does not depend on what else the machine runs).
"""

import random
import statistics
import time

from helpers.checks import EXERCISES
from helpers.checks.catalogue import all_entries
from helpers.grading import class_report
from helpers.grading.record import ExerciseGrade, Status, StudentRecord

STATUSES = (Status.PASSED, Status.PARTIAL, Status.FAILED, Status.NOT_ATTEMPTED, Status.NOT_SUBMITTED)


def synthetic_records(students: int = 1000, seed: int = 0) -> list[StudentRecord]:
    """`students` records as the grader writes them, each exercise's status and mistake drawn at random."""
    rng = random.Random(seed)
    owned = {key: [e.id for e in all_entries() if e.owner in (key, key[:2])] or ["values-differ"] for key in EXERCISES}
    records = []
    for number in range(students):
        exercises = {}
        for key, exercise in EXERCISES.items():
            status = rng.choice(STATUSES)
            mistake = rng.choice(owned[key]) if status in (Status.PARTIAL, Status.FAILED) else ""
            points = exercise.points if status == Status.PASSED else exercise.points / 2 if status == Status.PARTIAL else 0
            exercises[key] = ExerciseGrade(key, status, points, exercise.points, "…", mistake=mistake,
                                           case_mistakes=[mistake, "timeout" if status == Status.FAILED and rng.random() < 0.05 else ""])
        records.append(StudentRecord(f"learner-{number:04d}", exercises, [], [], [], total=sum(g.points for g in exercises.values()),
                                     max=sum(e.points for e in EXERCISES.values()), versions={}, tests_hash="", graded_at=""))
    return records


def measure(repeats: int = 3, students: int = 1000) -> dict:
    """class_report_1000_s: median wall seconds to build the page for 1,000 records; its CPU seconds in the details."""
    records = synthetic_records(students)
    feedback = {record.student: f"{record.student}.md" for record in records}
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        size = len(class_report.page(records, feedback))
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {"class_report_1000_s": round(statistics.median(walls), 2),
            "details": {"cpu_s_median": round(statistics.median(cpus), 2), "page_bytes": size, "students": students}}


if __name__ == "__main__":
    import json

    print(json.dumps(measure()))
