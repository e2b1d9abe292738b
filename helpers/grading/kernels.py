"""The grader's side of the zygote (see `zygote`): starting one in its sandbox, and kernels forked from it.

`Zygote` starts the zygote (in bubblewrap as the init of the sandbox's PID namespace, or as a plain
process with --no-sandbox), talks to it over a Unix socket that is its stdin (no file in the
sandbox leads to it, and the zygote is not dumpable, so no kernel can reach it), and tracks the one
kernel it runs at a time. `ForkingProvisioner` is the jupyter_client kernel provisioner that launches
a kernel by asking the zygote, polls it and kills it through the zygote (interrupts go by message,
as in every grading kernel). `ForkedKernel` is that kernel as jupyter_client sees a kernel process.

A zygote that dies (its kernel dies with it), does not answer, refuses, or reports that it could not
clean its sandbox after a kernel, is `broken`: the grader stops it and starts a fresh one, in a fresh
sandbox, for the next kernel.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

from jupyter_client.provisioning import LocalProvisioner

from helpers.grading import bwrap, cgroups, launcher, zygote

ZYGOTE = os.path.realpath(zygote.__file__)  # run by path; in the sandbox, bound alone at bwrap.INSIDE (with the launcher)
LAUNCHER = os.path.realpath(launcher.__file__)
START_TIMEOUT = 120  # seconds for a zygote to import torch and the rest (on a busy machine)
ANSWER_TIMEOUT = 30  # seconds for a zygote to answer a launch or a ping
SETTLE_TIMEOUT = zygote.SWEEP_SECONDS + 10  # seconds for a zygote to report a killed kernel's end, its sandbox swept
MAX_MESSAGE_FROM_ZYGOTE = 1 << 16  # bytes of one message the grader reads from a zygote's channel


class ZygoteError(RuntimeError):
    """The zygote could not be started, or it died or misbehaved (the message says how)."""


class ForkedKernel:
    """A kernel forked by the zygote, as jupyter_client sees a kernel's process: poll, wait, send_signal, kill."""

    stdin = stdout = stderr = None

    def __init__(self, owner: Zygote, pid: int):
        self.owner = owner
        self.pid = pid  # in the sandbox's PID namespace: never signalled from here
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.owner.pump(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("forked kernel", timeout)
            self.owner.pump(0.05)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            self.owner.signal(signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class Zygote:
    """One zygote and its sandbox: the sandbox's one writable folder `rw`, `io` (a mount of its own), the
    kernels' `lib` (read-only), and the zygote's environment `env` (the kernels' without a notebook's HOME).

    In the sandbox, where the machine allows, the zygote and its kernel run in a cgroup (`group`) whose memory
    limit is what the zygote holds once ready (its page cache left out) plus `memory`, the kernels' limit."""

    def __init__(self, *, rw: Path, io: Path, lib: Path, env: dict[str, str], bwrap_path: str | None, log: Path,
                 memory: int = 3 * 2**30):
        self.rw, self.io, self.lib, self.env = rw, io, lib, env
        self.bwrap_path = bwrap_path  # None: --no-sandbox
        self.log = log  # the zygote's stderr, outside the sandbox
        self.process: subprocess.Popen | None = None
        self.channel: Connection | None = None
        self.kernel: ForkedKernel | None = None
        self.broken: str | None = "not started"
        self.answer: dict | None = None
        self.ready: dict = {}
        self.memory = memory
        self.group: cgroups.Group | None = None

    @property
    def sandboxed(self) -> bool:
        return self.bwrap_path is not None

    def command(self) -> list[str]:
        mode = "sandbox" if self.sandboxed else "plain"
        if not self.sandboxed:
            return [sys.executable, "-S", ZYGOTE, mode, str(os.getpid())]
        argv = [sys.executable, "-S", f"{bwrap.INSIDE}/zygote.py", mode, str(os.getpid()), str(self.rw), str(self.io), str(self.lib)]
        readonly = {self.lib: self.lib, LAUNCHER: f"{bwrap.INSIDE}/launcher.py", ZYGOTE: f"{bwrap.INSIDE}/zygote.py"}
        return bwrap.command(self.bwrap_path, self.rw, argv, self.env, readonly=readonly, writable=[self.io], chdir=self.rw,
                             options=["--as-pid-1", "--mqueue", "/dev/mqueue"], group=self.group)

    @property
    def limits(self) -> str:
        """Which limits its kernels run under, for the record."""
        if not self.sandboxed:
            return f"rlimits only ({self.memory // 2**20} MiB of address space per process; no sandbox)"
        return cgroups.describe(self.group, self.memory)

    def start(self) -> None:
        """Start the zygote and wait until it has imported everything; ZygoteError if it does not come up."""
        self.stop()
        if self.sandboxed:
            self.group = cgroups.Group.make(self.memory)  # its imports fit in the kernels' limit; raised once it is ready
        ours, theirs = socket.socketpair()
        try:
            with self.log.open("wb") as log:
                self.process = subprocess.Popen(
                    self.command(), stdin=theirs, stdout=subprocess.DEVNULL, stderr=log, cwd=self.rw, start_new_session=True,
                    env=self.env if not self.sandboxed else {"PATH": "/usr/bin:/bin"})
        finally:
            theirs.close()
        self.channel = Connection(ours.detach())
        self.broken = None
        self.answer = None
        started = time.monotonic()
        while self.answer is None and self.broken is None:
            if time.monotonic() - started > START_TIMEOUT:
                self.fail(f"it did not come up in {START_TIMEOUT} s")
                break
            self.pump(1)
        if self.broken is None and "ready" not in (self.answer or {}):
            self.fail(f"it refused: {(self.answer or {}).get('refused', self.answer)}")
        if self.broken is not None:
            reason = self.broken
            self.stop()
            raise ZygoteError(f"the zygote could not be started: {reason}{self.said()}")
        self.ready = self.answer["ready"]
        self.answer = None
        if self.group is not None:
            self.group.make_room(self.memory)

    def said(self) -> str:
        """The end of what the zygote wrote to its stderr, if anything."""
        try:
            text = self.log.read_bytes()[-600:].decode(errors="replace").strip()
        except OSError:
            return ""
        return f" (it said: {' '.join(text.split())})" if text else ""

    def fail(self, why: str) -> None:
        """Mark the zygote broken: its kernel, if any, is dead; it is replaced before the next kernel."""
        if self.broken is None:
            self.broken = why
        if self.kernel is not None and self.kernel.returncode is None:
            self.kernel.returncode = -signal.SIGKILL
        self.kernel = None

    def pump(self, timeout: float) -> None:
        """Take in what the zygote has said, waiting up to `timeout` seconds for the first message."""
        if self.channel is None or self.broken is not None:
            return
        try:
            while self.channel.poll(timeout):
                timeout = 0
                self.take(json.loads(self.channel.recv_bytes(MAX_MESSAGE_FROM_ZYGOTE)))
        except (EOFError, OSError, ValueError) as error:
            code = self.process.poll() if self.process else None
            self.fail(f"it died (exit code {code})" if isinstance(error, EOFError) else f"its channel failed ({error})")

    def take(self, message: dict) -> None:
        if "exited" in message:
            if self.kernel is not None:
                self.kernel.returncode = -signal.SIGKILL
                self.kernel = None
            if not message.get("clean", False):
                self.fail(f"its sandbox could not be cleaned after a kernel: {message.get('left')}")
        else:
            self.answer = message

    def ask(self, message: dict) -> dict | None:
        """Send a request and wait for its answer (None, with the zygote broken, when none comes)."""
        if self.channel is None or self.broken is not None:
            return None
        self.answer = None
        try:
            self.channel.send_bytes(json.dumps(message).encode())
        except OSError as error:
            self.fail(f"its channel failed ({error})")
            return None
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while self.answer is None and self.broken is None:
            if time.monotonic() > deadline:
                self.fail(f"it did not answer {next(iter(message))!r} in {ANSWER_TIMEOUT} s")
                return None
            self.pump(0.5)
        answer, self.answer = self.answer, None
        return answer

    def usable(self) -> bool:
        """Whether a kernel can be launched now: alive, not broken, idle (waiting for a killed kernel's end)."""
        if self.broken is not None or self.process is None or self.process.poll() is not None:
            return False
        if self.kernel is not None:
            self.kernel.kill()
            deadline = time.monotonic() + SETTLE_TIMEOUT
            while self.kernel is not None and self.broken is None:
                if time.monotonic() > deadline:
                    self.fail(f"its kernel did not end within {SETTLE_TIMEOUT} s of being killed")
                    return False
                self.pump(0.2)
        return self.broken is None

    def launch(self, argv: list[str], cwd: str, env: dict[str, str]) -> ForkedKernel:
        """Fork a kernel running the launcher with `argv`, in `cwd`, with `env`; ZygoteError if the zygote cannot."""
        if not self.usable():
            raise ZygoteError(f"the zygote is not usable: {self.broken}")
        answer = self.ask({"launch": {"argv": argv, "cwd": cwd, "env": env}})
        if answer is None or "launched" not in answer:
            self.fail(f"it refused to launch a kernel: {(answer or {}).get('refused', self.broken)}")
            raise ZygoteError(f"the zygote could not launch a kernel: {self.broken}")
        self.kernel = ForkedKernel(self, int(answer["launched"]))
        return self.kernel

    def signal(self, signum: int) -> None:
        if self.channel is not None and self.broken is None:
            try:
                self.channel.send_bytes(json.dumps({"signal": int(signum)}).encode())
            except OSError as error:
                self.fail(f"its channel failed ({error})")

    def settle(self) -> bool:
        """After a notebook: wait until no kernel runs and the sandbox has been swept; False (broken) if that fails."""
        if not self.usable():
            return False
        answer = self.ask({"ping": 0})
        return bool(answer and answer.get("idle")) and self.broken is None

    def stop(self) -> None:
        """Stop the zygote (and its sandbox, every process in it)."""
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()  # bwrap, or the plain zygote (its kernel dies with it)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                pass
            self.process = None
        if self.group is not None:
            self.group.remove()
            self.group = None
        self.fail("stopped")
        self.kernel = None


class ForkingProvisioner(LocalProvisioner):
    """A kernel provisioner that launches the kernel by asking the zygote, and polls, signals and kills it through it.

    `zygote` and `env` (the kernel's whole environment) are set before the kernel is started. The
    connection file is written as for any local kernel; the launcher's arguments are the manager's
    kernel command (see `kernel_client.LimitedKernelManager`).
    """

    zygote: Zygote | None = None
    env: dict[str, str] | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs):
        assert self.zygote is not None and self.env is not None
        self.process = self.zygote.launch(cmd, str(kwargs.get("cwd") or os.getcwd()), self.env)
        self.pid, self.pgid = self.process.pid, None  # no process group here: signals go through the zygote
        self.cwd = kwargs.get("cwd")
        return self.connection_info

    async def wait(self) -> int | None:
        ret = 0
        if self.process:
            while await self.poll() is None:
                await asyncio.sleep(0.02)
            ret = self.process.returncode
            self.process = None
        return ret
