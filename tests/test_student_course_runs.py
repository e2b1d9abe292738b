"""A fresh copy of the student release sets itself up and runs, as a learner's machine would.

Its own `make setup` (lab.mk) builds its .venv from its requirements.txt; then every notebook runs
top to bottom in that venv's kernel with every check cell saying "not attempted yet", and with the
course's solution cells pasted back into it, every check passes. Slow (a venv and two runs of the
course), so one test does it all.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from helpers.grading.strip import is_check_cell
from helpers.notebooks import IPC_KERNELS_ARGUMENT

REPO = Path(__file__).resolve().parent.parent
SOLUTION_MARK = "# BEGIN SOLUTION"
pytestmark = pytest.mark.slow  # a fresh venv with torch installed: `make test-slow`


def clean_environment(home: Path) -> dict[str, str]:
    """What a learner's shell would have: no venv of ours, no PYTHONPATH, no plotting backend."""
    keep = {key: value for key, value in os.environ.items() if key in ("PATH", "LANG", "TMPDIR", "PIP_INDEX_URL", "PIP_CONFIG_FILE")}
    keep["PATH"] = os.pathsep.join(p for p in keep.get("PATH", "/usr/bin:/bin").split(os.pathsep) if ".venv" not in p)
    return {**keep, "HOME": str(home), "JUPYTER_PLATFORM_DIRS": "1"}


def run_all(course: Path, env: dict[str, str], out: Path) -> dict[str, nbformat.NotebookNode]:
    """Execute every notebook of `course` with its own venv's Jupyter; the executed notebooks by name.

    Every cell takes seconds, so the timeout is short: now and then (1 start in 10-30 here) nbclient's
    kernel_info request after a kernel starts gets no reply and it waits the whole timeout, then goes on.
    """
    names = sorted(p.name for p in (course / "notebooks").glob("*.ipynb"))
    subprocess.run([str(course / ".venv" / "bin" / "jupyter"), "nbconvert", "--to", "notebook", "--execute",
                    "--ExecutePreprocessor.timeout=120", IPC_KERNELS_ARGUMENT, "--output-dir", str(out), *names],
                   cwd=course / "notebooks", env=env, check=True, capture_output=True, timeout=1800)
    return {name: nbformat.read(out / name, as_version=4) for name in names}


def check_outputs(nb: nbformat.NotebookNode) -> list[str]:
    """The text each check cell showed."""
    return ["".join(o.get("data", {}).get("text/plain", "") + o.get("text", "") for o in cell.outputs)
            for cell in nb.cells if is_check_cell(cell)]


def errors(nb: nbformat.NotebookNode) -> list[str]:
    return [f"{o.get('ename')}: {o.get('evalue')}" for cell in nb.cells if cell.cell_type == "code"
            for o in cell.outputs if o.output_type == "error" or o.get("name") == "stderr"]


def test_a_fresh_copy_of_the_student_release_sets_up_runs_and_passes_with_the_solutions(student_course, tmp_path):
    fresh = tmp_path / "course"
    shutil.copytree(student_course, fresh)
    env = clean_environment(tmp_path / "home")
    (tmp_path / "home").mkdir()
    setup = subprocess.run(["make", "setup"], cwd=fresh, env=env, capture_output=True, text=True, timeout=1800)
    assert setup.returncode == 0, setup.stdout[-2000:] + setup.stderr[-2000:]

    as_handed_out = run_all(fresh, env, tmp_path / "run-1")
    for name, nb in as_handed_out.items():
        assert errors(nb) == [], (name, errors(nb))
        assert all("not attempted yet" in text for text in check_outputs(nb)), (name, check_outputs(nb))
    assert sum(len(check_outputs(nb)) for nb in as_handed_out.values()) >= 5

    for path in sorted((REPO / "notebooks").glob("*.ipynb")):  # the course's solutions, pasted back
        solved = nbformat.read(fresh / "notebooks" / path.name, as_version=4)
        for cell, original in zip(solved.cells, nbformat.read(path, as_version=4).cells, strict=True):
            if SOLUTION_MARK in original.source:
                cell.source = original.source
        nbformat.write(solved, fresh / "notebooks" / path.name)
    solved = run_all(fresh, env, tmp_path / "run-2")
    for name, nb in solved.items():
        assert errors(nb) == [], (name, errors(nb))
        for text in check_outputs(nb):
            assert re.match(r"✓ \d\d\.\d+ passed", text), (name, text)
