"""Kernel stress: start and stop many kernels back to back, the way nbval does, and count the failures.

    .venv/bin/python benchmarks/bench_kernels.py [--kernels 200] [--transport ipc|tcp]

Each kernel is nbval's own RunningKernel (started as `make test-notebooks` starts it: helpers.notebooks
makes nbval use IPC, as the repository's conftest.py does), in the notebooks' folder, except that its
stderr is kept (nbval throws it away); it runs one cell, its output is checked, and it is stopped. A kernel fails when it does not start, does not
answer within TIMEOUT_S, or prints the wrong thing. `--transport tcp` leaves nbval's own TCP start,
for comparison. Figures:
  kernel_stress_failures    kernels that failed, of KERNELS (goal 0);
  kernel_stress_log_lines   lines the kernels wrote to stderr, and warnings or errors logged or warned
                            in this process while they ran (goal 0: a clean shutdown writes no ZMQ
                            error or traceback, and over IPC no "running over TCP without encryption").
Prints one JSON object (figures and details) on stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import TextIO

from nbval.kernel import CURRENT_ENV_KERNEL_NAME, RunningKernel, start_new_kernel

from helpers.notebooks import nbval_starts_ipc_kernels

REPO = Path(__file__).resolve().parent.parent
TIMEOUT_S = 60  # per kernel: start, one cell, stop take about a second on 2 cores


class Recorder(logging.Handler):
    """Keeps every warning or error logged while the kernels run."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name}: {record.getMessage()}")


def start_like_nbval(folder: Path, stderr: TextIO) -> RunningKernel:
    """nbval's RunningKernel, started by nbval's own functions as RunningKernel.__init__ does, with the kernel's stderr kept."""
    kernel = RunningKernel.__new__(RunningKernel)
    kernel.km, kernel.kc = start_new_kernel(startup_timeout=TIMEOUT_S, kernel_name=CURRENT_ENV_KERNEL_NAME, stderr=stderr, cwd=str(folder))
    kernel._ensure_iopub_up()
    return kernel


def one_kernel(folder: Path, stderr: TextIO) -> str | None:
    """Start a kernel as nbval does, run one cell and stop it; None when all went well, else what went wrong."""
    try:
        kernel = start_like_nbval(folder, stderr)
    except Exception as error:  # noqa: BLE001 - any failure to start is what this counts
        return f"start: {type(error).__name__}: {error}"
    try:
        msg_id = kernel.execute_cell_input("print(6 * 7)", allow_stdin=False)
        printed = ""
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            msg = kernel.get_message("iopub", timeout=max(deadline - time.monotonic(), 0.1))
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                printed += msg["content"]["text"]
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        return None if printed == "42\n" else f"printed {printed!r}"
    except Exception as error:  # noqa: BLE001
        return f"run: {type(error).__name__}: {error}"
    finally:
        kernel.stop()


def measure(kernels: int = 200, transport: str = "ipc") -> dict:
    """Start and stop `kernels` kernels one after another; failures, log lines and seconds per kernel."""
    if transport == "ipc":
        nbval_starts_ipc_kernels()
    recorder = Recorder()
    logging.getLogger().addHandler(recorder)
    failures: list[str] = []
    seconds: list[float] = []
    try:
        with warnings.catch_warnings(record=True) as warned, tempfile.TemporaryFile("w+") as stderr:
            for _ in range(kernels):
                started = time.perf_counter()
                failure = one_kernel(REPO / "notebooks", stderr)
                seconds.append(time.perf_counter() - started)
                if failure:
                    failures.append(failure)
            stderr.seek(0)
            written = [line.rstrip() for line in stderr if line.strip()]
    finally:
        logging.getLogger().removeHandler(recorder)
    logged = written + recorder.lines + [f"{w.category.__name__}: {w.message}" for w in warned]
    return {"kernel_stress_failures": len(failures), "kernel_stress_log_lines": len(logged),
            "details": {"kernels": kernels, "transport": transport, "failures": failures[:20], "log": logged[:20],
                        "seconds_median": round(statistics.median(seconds), 3), "seconds_max": round(max(seconds), 3)}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kernels", type=int, default=200)
    parser.add_argument("--transport", choices=("ipc", "tcp"), default="ipc")
    args = parser.parse_args()
    print(json.dumps(measure(args.kernels, args.transport), indent=1))


if __name__ == "__main__":
    main()
