"""Kernels forked from a grading slot's zygote: a fresh kernel for each notebook, nothing passed from one student to the next."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

import pytest

from helpers.grading.limits import Limits
from helpers.grading.session import Run, Session
from helpers.grading.slots import FORKED, FRESH, Slot

# Student A's notebook leaves what it can behind: a module attribute (json is already imported by the
# zygote), an environment variable, files in /tmp and HOME, and a process in a session of its own.
LEAVE = """
import json, os, subprocess
json.LEFT_BY_A = "a"
os.environ["LEFT_BY_A"] = "a"
open("/tmp/left-by-a", "w").write("a")
open(os.path.join(os.environ["HOME"], "left-by-a"), "w").write("a")
subprocess.Popen(["sleep", "297"], start_new_session=True)
"""

# Student B's notebook, in the same slot, looks for each.
FIND = """
import json, os
def cmdline(pid):
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read()
    except OSError:
        return b""
found = {
    "module": hasattr(json, "LEFT_BY_A"),
    "environment": "LEFT_BY_A" in os.environ,
    "tmp": os.path.exists("/tmp/left-by-a"),
    "home": os.path.exists(os.path.join(os.environ["HOME"], "left-by-a")),
    "process": any(cmdline(p) == b"sleep\\x00297\\x00" for p in os.listdir("/proc") if p.isdigit()),
}
open("found.json", "w").write(json.dumps(found))
"""


def grade_in(slot: Slot, cells: list[str], sandbox: bool) -> tuple[Run, dict | None]:
    """Run `cells` as one notebook in `slot`, as the grader does: its run, and what it wrote to found.json."""
    root = Path(tempfile.mkdtemp(prefix="grade-", dir=slot.rw))
    workdir = root / "notebooks"
    workdir.mkdir()
    limits = Limits(cell_timeout=60, notebook_timeout=120, sandbox=sandbox)
    try:
        run = asyncio.run(Session(cells, workdir, root, limits, slot).execute(lambda: []))
        found = workdir / "found.json"
        return run, json.loads(found.read_text()) if found.exists() else None
    finally:
        slot.finish_notebook()


@pytest.mark.parametrize("sandbox", [True, False], ids=["sandbox", "no-sandbox"])
def test_nothing_one_student_leaves_in_a_forked_kernel_reaches_the_next_students_kernel(tmp_path, sandbox):
    slot = Slot(tmp_path / "slot")
    try:
        first, _ = grade_in(slot, [LEAVE], sandbox)
        zygote = slot.current
        second, found = grade_in(slot, [FIND], sandbox)
        assert slot.current is zygote is not None  # the same zygote forked both kernels
    finally:
        slot.stop()
    assert first.faults == second.faults == [] and first.kernels == second.kernels == [FORKED]
    left = {"module": False, "environment": False, "home": False, "process": False}
    if sandbox:  # without it /tmp is the machine's, as for any kernel run with --no-sandbox
        left["tmp"] = False
    assert {key: found[key] for key in left} == left


def test_a_zygote_that_cannot_start_leaves_the_slot_to_fresh_kernels_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr("helpers.grading.kernels.ZYGOTE", str(tmp_path / "missing-zygote.py"))
    slot = Slot(tmp_path / "slot")
    try:
        run, _ = grade_in(slot, ["x = 1"], sandbox=False)
    finally:
        slot.stop()
    assert run.faults == [] and len(run.kernels) == 1 and run.kernels[0].startswith(f"{FRESH} (no zygote: the zygote could not be started")


def test_a_kernel_that_kills_itself_costs_a_fresh_kernel_from_the_same_zygote(tmp_path):
    slot = Slot(tmp_path / "slot")
    try:
        run, found = grade_in(slot, ["import os\nos._exit(3)", FIND], sandbox=True)
        zygote = slot.current
        assert grade_in(slot, ["x = 1"], sandbox=True)[0].kernels == [FORKED] and slot.current is zygote
    finally:
        slot.stop()
    assert [(f.where, f.kind) for f in run.faults] == [("code cell 1", "died")]
    assert run.attempts == 2 and run.kernels == [FORKED] and found is not None  # the second attempt ran without the fatal cell
