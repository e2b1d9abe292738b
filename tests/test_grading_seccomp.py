"""The sandbox's seccomp filter, installed in a plain process: what it refuses, and what it lets a process do to itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from helpers.grading import seccomp

# Installs the filter in this process (no_new_privs first, as an unprivileged process must), then tries each call.
TRY = """
import ctypes, json, os, resource, sys
libc = ctypes.CDLL(None, use_errno=True)
code = open(sys.argv[1], "rb").read()
class Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]
assert libc.prctl(38, 1, 0, 0, 0) == 0  # PR_SET_NO_NEW_PRIVS
assert libc.prctl(22, 2, ctypes.byref(Program(len(code) // 8, code)), 0, 0) == 0  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
other = int(sys.argv[2])  # a process of the test's own, for the calls that must be refused
def tried(action):
    try:
        action()
        return "done"
    except OSError as error:
        return os.strerror(error.errno)
def call(result):
    if result == -1:
        raise OSError(ctypes.get_errno(), "")
print(json.dumps({
    "nice itself": tried(lambda: os.setpriority(os.PRIO_PROCESS, 0, 1)),
    "nice another": tried(lambda: os.setpriority(os.PRIO_PROCESS, other, 19)),
    "nice a user": tried(lambda: os.setpriority(os.PRIO_USER, 4000000, 19)),  # (nobody's: without the filter it changes nothing)
    "limit itself": tried(lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0))),
    "limit another": tried(lambda: resource.prlimit(other, resource.RLIMIT_CORE, (0, 0))),
    "fork": tried(lambda: os.waitpid(os.fork() or os._exit(0), 0)),
    "keyctl": tried(lambda: call(libc.syscall(250 if os.uname().machine == "x86_64" else 219, 0, -3))),
    "ptrace": tried(lambda: call(libc.ptrace(0, 0, 0, 0))),  # PTRACE_TRACEME, last: a traced process stops at its next signal
}))
"""


@pytest.mark.skipif(seccomp.path() is None, reason=f"no seccomp filter for {os.uname().machine}")
def test_the_filter_refuses_what_a_notebook_never_needs_and_calls_on_other_processes():
    other = subprocess.Popen(["sleep", "60"])
    try:
        done = subprocess.run([sys.executable, "-c", TRY, seccomp.path(), str(other.pid)], capture_output=True, text=True, check=True, timeout=60)
    finally:
        other.kill()
        other.wait()
    refused = os.strerror(1)  # EPERM
    assert json.loads(done.stdout) == {
        "nice itself": "done", "nice another": refused, "nice a user": refused,
        "limit itself": "done", "limit another": refused,
        "ptrace": refused, "keyctl": refused, "fork": "done",
    }


def test_there_is_a_filter_for_x86_64_and_aarch64_only():
    assert seccomp.program("x86_64") and seccomp.program("aarch64") and seccomp.program("riscv64") is None
    assert len(seccomp.program("x86_64")) % 8 == 0 and len(seccomp.program("x86_64")) // 8 < 256  # jumps are 8-bit
