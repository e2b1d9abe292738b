"""How fast a check cell answers: each exercise's public check on its reference, median of 21 repeats.

    .venv/bin/python benchmarks/bench_checks.py     (make bench runs it; goal: under 50 ms, so feedback feels instant)
"""

import statistics
import time

import torch

from helpers.checks import EXERCISES, check


def median_ms(exercise_id: str, repeats: int = 21) -> float:
    """Median wall time of one `check` call on the exercise's reference solution."""
    answer = EXERCISES[exercise_id].reference
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        check(exercise_id, answer)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure() -> dict:
    """check_ms_median: the median over every exercise of its check's median latency; and each exercise's."""
    torch.manual_seed(0)
    per_exercise = {exercise_id: round(median_ms(exercise_id), 2) for exercise_id in sorted(EXERCISES)}
    slowest = max(per_exercise, key=per_exercise.get)
    return {"check_ms_median": round(statistics.median(per_exercise.values()), 2),
            "details": {"slowest_check": f"{slowest}: {per_exercise[slowest]} ms", "per_exercise_ms": per_exercise}}


if __name__ == "__main__":
    import json

    print(json.dumps(measure()))
