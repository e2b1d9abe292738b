"""How long `make book` takes to build the course's website, with the packages installed (make's set-up done).

    .venv/bin/python benchmarks/bench_book.py     (make bench runs it; goal: under 2 minutes on 2 cores)

Each run is `python -m helpers.book` into a fresh temporary folder, as `make book` runs it: wall seconds
(what a maintainer waits) and the CPU seconds of that process (user + system, which a busy machine
changes less than the wall time). The median of `repeats` runs of each.
"""

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def one_build() -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one `python -m helpers.book --out <fresh folder>`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory(prefix="bench-book-") as tmp:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "helpers.book", "--out", str(Path(tmp) / "book")], cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(repeats: int = 3) -> dict:
    """book_build_s and book_build_cpu_s: the medians over `repeats` builds."""
    runs = [one_build() for _ in range(repeats)]
    return {"book_build_s": round(statistics.median(wall for wall, _ in runs), 1),
            "book_build_cpu_s": round(statistics.median(cpu for _, cpu in runs), 1),
            "details": {"runs_wall_cpu_s": [(round(w, 1), round(c, 1)) for w, c in runs], "cores": os.cpu_count()}}


if __name__ == "__main__":
    import json

    print(json.dumps(measure()))
