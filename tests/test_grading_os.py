"""What the grading sandbox stops at the operating system: host root, the seccomp filter's system calls, memory and
processes over a kernel's limit (cgroups), and a kernel that changes its zygote for the next student.

Each attack is a fixture of tests/fixtures/make_fixtures.py (OS_CELLS; the whole hostile class is graded in
tests/test_grading_hostile.py); here each runs alone, in a grading slot as the grader runs it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from fixtures.make_fixtures import OS_CELLS

from helpers.checks import EXERCISES
from helpers.grading import bwrap, cgroups, launcher
from helpers.grading.cases import hidden_cases
from helpers.grading.grade import grade_notebook
from helpers.grading.limits import Limits
from helpers.grading.record import ExerciseGrade, NotebookRecord, Status
from helpers.grading.session import Run, Session
from helpers.grading.slots import Slot

SUBMISSIONS = Path(__file__).resolve().parent / "fixtures" / "submissions"
NAME = "01_tensors.ipynb"
CGROUPS = pytest.mark.skipif(bool(cgroups.unavailable()), reason=f"no per-kernel cgroup here: {cgroups.unavailable()}")


def run_in(slot: Slot, cells: list[str], **limits) -> Run:
    """Run `cells` as one notebook in `slot`, as the grader does."""
    root = Path(tempfile.mkdtemp(prefix="grade-", dir=slot.rw))
    workdir = root / "notebooks"
    workdir.mkdir()
    try:
        return asyncio.run(Session(cells, workdir, root, Limits(cell_timeout=60, notebook_timeout=120, **limits), slot).execute(lambda: []))
    finally:
        slot.finish_notebook()


def grade_fixture(category: str, slot: Slot, **limits) -> tuple[NotebookRecord, dict[str, ExerciseGrade]]:
    """The notebook record and exercise grades of the fixture submission `category`, graded in `slot`."""
    cases = {key: hidden_cases(exercise, "os-secret") for key, exercise in EXERCISES.items()}
    data = (SUBMISSIONS / category / NAME).read_bytes()
    return grade_notebook(NAME, data, cases, Limits(cell_timeout=60, notebook_timeout=120, **limits), slot=slot)


@pytest.fixture
def slot(tmp_path):
    slot = Slot(tmp_path / "slot")
    yield slot
    slot.stop()


def test_a_sandboxed_kernel_cannot_write_sysctls_or_dev_trace_make_keys_rename_the_host_or_unshare(slot):
    run = run_in(slot, [OS_CELLS["owns_the_machine"]])
    assert [(f.where, f.kind) for f in run.faults] == [("code cell 1", "error")]
    assert "found no way to own the machine" in run.faults[0].message


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid is dropped only when the grader is root")
def test_as_root_the_sandbox_runs_as_an_unprivileged_host_uid(tmp_path):
    bwrap.hand_over(tmp_path)
    line = bwrap.command(bwrap.executable(), tmp_path, ["/bin/sleep", "7.25"], {"PATH": "/usr/bin:/bin"})
    sandbox = subprocess.Popen(line)
    try:
        for _ in range(100):  # its processes, as the host sees them
            uids = [host_uid(pid) for pid in os.listdir("/proc") if pid.isdigit() and command_line(pid) == b"/bin/sleep\x007.25\x00"]
            if uids:
                break
            time.sleep(0.05)
    finally:
        sandbox.kill()
        sandbox.wait()
    assert uids == [65534]  # not 0: nothing in the sandbox is the host's root


def command_line(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def host_uid(pid: str) -> int:
    return int(next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("Uid:")).split()[1])


@pytest.mark.parametrize("seccomp", [True, False], ids=["seccomp", "zygote-check-alone"])
def test_a_kernel_that_changes_its_zygote_costs_the_next_student_nothing(slot, monkeypatch, seccomp):
    if not seccomp:  # the zygote's own check must retire it (the filter would refuse the attack)
        monkeypatch.setattr(bwrap.seccomp, "path", lambda: None)
    attack, _ = grade_fixture("poisons_zygote", slot)
    poisoned = slot.current
    _, right = grade_fixture("solution", slot)
    assert all(grade.points == grade.max_points for grade in right.values()), right
    assert any("could not change its zygote" in problem for problem in attack.problems) == seccomp
    assert (slot.current is poisoned) == seccomp  # without the filter the change was seen and the zygote replaced


def test_the_launcher_refuses_to_start_a_kernel_whose_limit_it_cannot_set(tmp_path):
    code = ("import resource, sys\n"
            f"sys.path.insert(0, {os.path.dirname(launcher.__file__)!r})\n"
            "import launcher\n"
            "resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))  # what a kernel could do to its zygote\n"
            "launcher.limit(3 * 2**30, 2**20, 60)\n"
            "print('started')")
    done = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode != 0 and "started" not in done.stdout
    assert "address space limit could not be set" in (tmp_path / launcher.REFUSED).read_text()


def test_a_notebook_whose_kernel_the_launcher_refused_is_not_graded_and_says_why(slot):
    _, grades = grade_fixture("solution", slot, file_bytes=2**64)  # a limit no kernel can be given
    assert {grade.status for grade in grades.values()} == {Status.NOT_GRADED}
    assert all("file size limit could not be set" in grade.message for grade in grades.values()), grades


@CGROUPS
@pytest.mark.parametrize("zygote", [True, False], ids=["forked", "fresh"])
def test_one_kernel_cannot_hold_more_than_its_memory_limit_over_several_processes(slot, zygote):
    run = run_in(slot, [OS_CELLS["hogs_memory"]], memory_bytes=3 * 2**29, zygote=zygote)
    assert [f.where for f in run.faults] == ["code cell 1"], run.faults
    assert "could not hold" in run.faults[0].message or run.faults[0].kind == "died"
    assert run.limits[0].startswith("cgroup v")


@CGROUPS
def test_one_kernel_cannot_run_six_hundred_processes(slot):
    run = run_in(slot, [OS_CELLS["forks_processes"]])
    assert [(f.where, f.kind) for f in run.faults] == [("code cell 1", "error")], run.faults
    assert "could start only" in run.faults[0].message


BUSY_FOR_TWO_SECONDS = (
    "import resource, subprocess, sys\n"
    "spin = 'import time\\nend = time.monotonic() + 2\\nwhile time.monotonic() < end: pass'\n"
    "busy = [subprocess.Popen([sys.executable, '-S', '-c', spin]) for _ in range(4)]\n"
    "for process in busy:\n"
    "    process.wait()\n"
    "used = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "raise RuntimeError(f'cpu seconds {used.ru_utime + used.ru_stime:.2f}')"
)


@CGROUPS
@pytest.mark.skipif(cgroups.CPU not in cgroups.hierarchy()[1], reason="no usable cpu controller here: CPU time is per process")
def test_one_kernels_processes_share_one_cpu(slot):
    """Four processes busy for 2 s of wall time get about 2 s of CPU in all, not up to 4 s on two cores."""
    run = run_in(slot, [BUSY_FOR_TWO_SECONDS], zygote=False)
    assert [f.where for f in run.faults] == ["code cell 1"], run.faults
    used = float(run.faults[0].message.split("cpu seconds ")[1].split()[0])
    assert used < 3.0, run.faults[0].message
    assert "1 CPU per kernel" in run.limits[0], run.limits
