"""Execute a notebook with nbclient in a Python process of its own, and time it.

    python benchmarks/run_apart.py NOTEBOOK FOLDER RESULT      (what `execute_apart` runs)

A process per execution shares nothing with the measurements before it, and the lines it writes to
stderr (its kernel's included) are counted, so a run or a shutdown that is not clean shows in the
figures instead of scrolling past the bench's own log. (The hang that led here, 09's and 05's runs
waiting out nbclient's 600 s timeout, was a lost zmq.asyncio wake-up, fixed in helpers.notebooks'
SlicedPollChannel.) The seconds are taken inside that process around `execute()` alone: starting
Python there is not counted.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

TIMEOUT_S = 600  # per cell, nbclient's own timeout


def logged_lines(stderr: str) -> list[str]:
    """The non-empty lines of what a process wrote to stderr: what the benchmarks count as log lines."""
    return [line for line in stderr.splitlines() if line.strip()]


def execute_apart(nb: nbformat.NotebookNode, folder: Path) -> tuple[float, nbformat.NotebookNode, list[str]]:
    """Execute `nb` in `folder` in a fresh Python: (seconds of the execution, the executed notebook, the
    non-empty lines that process and its kernel wrote to stderr)."""
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        source, result = Path(tmp) / "in.ipynb", Path(tmp) / "out.json"
        nbformat.write(nb, source)
        done = subprocess.run([sys.executable, __file__, str(source), str(folder), str(result)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=TIMEOUT_S * 2)
        logged = logged_lines(done.stderr)
        if done.returncode != 0:
            raise RuntimeError(f"executing in its own process failed ({done.returncode}): " + "\n".join(logged[-20:]))
        answer = json.loads(result.read_text())
    return answer["seconds"], nbformat.reads(answer["notebook"], as_version=4), logged


def main(source: str, folder: str, result: str) -> None:
    """In the fresh process: execute the notebook over IPC, then write its seconds and outputs to `result`."""
    from helpers.notebooks import IpcNotebookClient

    nb = nbformat.read(source, as_version=4)
    client = IpcNotebookClient(nb, timeout=TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": folder}})
    started = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - started
    Path(result).write_text(json.dumps({"seconds": seconds, "notebook": nbformat.writes(nb)}))


if __name__ == "__main__":
    main(*sys.argv[1:])
