"""How fast a check cell answers: each exercise's public check on its reference, median of repeats.

    make bench     (the goal: well under 50 ms per check, so feedback feels instant)
"""

import statistics
import time

import torch

from helpers.checks import EXERCISES, check

GOAL_MS = 50.0


def median_ms(exercise_id: str, repeats: int = 21) -> float:
    """Median wall time of one `check` call on the exercise's reference solution."""
    answer = EXERCISES[exercise_id].reference
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        check(exercise_id, answer)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    torch.manual_seed(0)
    slowest = 0.0
    print(f"{'exercise':<10}{'median ms':>10}")
    for exercise_id in sorted(EXERCISES):
        ms = median_ms(exercise_id)
        slowest = max(slowest, ms)
        print(f"{exercise_id:<10}{ms:>10.2f}")
    print(f"slowest {slowest:.2f} ms; goal < {GOAL_MS:.0f} ms: {'met' if slowest < GOAL_MS else 'MISSED'}")
    return 0 if slowest < GOAL_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
