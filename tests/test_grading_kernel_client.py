"""The grader's client of a kernel: sockets that refuse huge messages, and nothing left behind for interpreter exit."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from helpers.grading.kernel_client import MAX_PART_FROM_KERNEL, LimitedKernelManager
from helpers.grading.record import Status

SOLUTION = Path(__file__).resolve().parent / "fixtures" / "submissions" / "solution" / "01_tensors.ipynb"

# Grades one notebook twice in a fresh slot: first under a limit no kernel can be given (the launcher refuses it, so the
# kernel never answers), then as usual; prints the statuses of each grading.
SMALL_GRADING = """
import sys
from pathlib import Path
from helpers.checks import EXERCISES
from helpers.grading.cases import hidden_cases
from helpers.grading.grade import grade_notebook
from helpers.grading.limits import Limits
from helpers.grading.slots import FreshSlot

data = Path(sys.argv[1]).read_bytes()
cases = {key: hidden_cases(exercise, "a secret") for key, exercise in EXERCISES.items() if key.startswith("01.")}
slot = FreshSlot(Path(sys.argv[2]))
for file_bytes in (2**64, 2**20):
    _, grades = grade_notebook("01_tensors.ipynb", data, cases, Limits(sandbox=False, file_bytes=file_bytes), slot)
    print(sorted({grade.status.value for grade in grades.values()}))
"""


def test_a_grading_whose_kernel_never_started_leaves_nothing_to_fail_at_interpreter_exit(tmp_path):
    done = subprocess.run([sys.executable, "-c", SMALL_GRADING, str(SOLUTION), str(tmp_path / "slot")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    refused, graded = done.stdout.splitlines()
    assert refused == str([Status.NOT_GRADED.value]) and Status.NOT_GRADED.value not in graded
    assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr


def test_the_graders_sockets_to_a_kernel_drop_a_message_over_the_cap(tmp_path):
    import zmq

    client = LimitedKernelManager(kernel_name="python3").client()
    address = f"ipc://{tmp_path}/channel"

    async def received() -> bytes:
        ours = client.context.socket(zmq.PULL)  # as the grader's channels read a kernel's
        ours.bind(address)
        kernel = zmq.Context.instance().socket(zmq.PUSH)
        kernel.connect(address)
        try:
            kernel.send(b"x" * (MAX_PART_FROM_KERNEL + 1))  # the connection is dropped; the kernel's side connects again
            kernel.send(b"small")
            return await asyncio.wait_for(ours.recv(), 10)
        finally:
            kernel.close(linger=0)
            ours.close(linger=0)

    try:
        assert asyncio.run(received()) == b"small"
    finally:
        client.context.destroy(linger=0)
