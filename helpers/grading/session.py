"""Run a notebook's code in a fresh, limited kernel, inside an OS sandbox, on a temporary working copy.

The kernel runs inside bubblewrap (see `bwrap`): its temporary folder is the only writable one and,
with the Python runtime (read-only), all it can see; no other process, no network, no secret. It is
`python -S launcher.py` (no site-packages processing, so the editable course install with the
reference solutions is not importable) with PYTHONPATH = a copy of `helpers` without the
reference solutions (read-only), then the venv's site-packages. Before ipykernel starts, the
launcher (see `launcher`) sets resource limits: address space (the memory limit), file size, CPU
time, no core files. Its environment is built from scratch (no GRADER_SECRET), HOME and TMPDIR
point into the temporary folder, stdout/stderr go to /dev/null, its ZeroMQ sockets are Unix sockets
in a folder next to it, and every output message is counted and dropped.
With `Limits(sandbox=False)` (`grade --no-sandbox`) the same kernel runs without bubblewrap, as the grader's user.
The kernel is forked from its slot's zygote, or started as a fresh process (see `slots`).
A cell's output is capped twice: in the kernel, whose print raises OutputLimitExceeded past the
limit (the kernel stays healthy), and here, where a kernel that gets past that is killed.

A cell's error is recorded and execution goes on. A cell that kills the kernel, runs out of
memory, floods output, or that the time limit cannot interrupt, is recorded and the notebook is run again from the start without it.
What each way a cell can end means is one pure function, `classify`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import nbformat
from nbclient.exceptions import DeadKernelError

from helpers.grading import bwrap, cgroups, launcher
from helpers.grading.folders import remove_tree, socket_folder
from helpers.grading.kernel_client import GuardedClient, LimitedKernelManager
from helpers.grading.kernels import ForkingProvisioner, Zygote
from helpers.grading.limits import Limits
from helpers.grading.slots import Slot, kernel_environment
from helpers.grading.text import safe_text

TIMEOUT_ERROR = "GraderTimeout"
OUTPUT_ERROR = "OutputLimitExceeded"  # raised in the kernel by launcher.CappedOutStream
MAX_ATTEMPTS = 4

SEED = "setup"  # the label of the cell that seeds the kernel's generators, run first
SEED_CELL = "(lambda s: (__import__('random').seed(s), __import__('numpy').random.seed(s), __import__('torch').manual_seed(s)))(0);"
PROBE_TIMEOUT = 5
LAUNCHER = os.path.realpath(launcher.__file__)  # run by path; in the sandbox, bound alone at bwrap.INSIDE


@dataclass
class Fault:
    """Something that went wrong in one cell (or one exercise's grading cell)."""

    where: str  # "code cell 7" (counting code cells from 1) or "exercise 01.3"
    kind: str  # "error", "timeout", "died", "output", "transformed"
    message: str


@dataclass
class Run:
    """What happened when a notebook ran: its faults, and cells skipped after a fatal fault."""

    faults: list[Fault] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    fatal: str | None = None  # why the run stopped early, if it did
    output_bytes: int = 0
    attempts: int = 0
    kernels: list[str] = field(default_factory=list)  # how the kernels were started (FORKED, or a fresh process and why)
    limits: list[str] = field(default_factory=list)  # which limits the kernels ran under (see `cgroups.describe`)
    refused: str | None = None  # why the launcher would not start the kernel (a limit it could not set): not graded



@dataclass(frozen=True)
class CellEnd:
    """How one cell's execution ended, as the grader saw it."""

    reply: dict = field(default_factory=dict)  # the kernel's execute reply ({} when none came)
    died: bool = False  # the kernel died while running it
    out_of_time: bool = False  # the notebook's time ran out while it ran
    flooded: bool = False  # it printed past the output cap, so the grader killed the kernel
    # The kernel died with the zygote it was forked from. Only with --no-sandbox can the notebook kill it; in the sandbox
    # it is the init of a PID namespace no process there may signal, and it dies only when the OOM killer picks it (it
    # shares its kernel's cgroup): the cell that filled the memory is to blame, as for any kernel killed at the limit.
    zygote_died: bool = False


class Then(enum.Enum):
    """What the run does after a cell."""

    GO_ON = "go on"  # the next cell, in the same kernel
    RERUN = "rerun"  # the kernel cannot go on: start again from the top without this cell
    PROBE = "probe"  # the kernel was interrupted: go on if it answers again, else as RERUN


@dataclass(frozen=True)
class Verdict:
    """What one cell's end means: the fault to record against it, what the run does next, and why the whole run
    stops, if it does."""

    fault: Fault | None = None
    then: Then = Then.GO_ON
    fatal: str | None = None
    void: bool = False  # what this attempt recorded is dropped (which cell was at fault is chance)


def classify(label: str, end: CellEnd, limits: Limits) -> Verdict:
    """What the end of the cell `label` means for the run (a pure function: no kernel, no clock)."""
    if end.flooded:  # the grader killed the kernel: the flood, not the death or the clock, stopped the cell
        return Verdict(Fault(label, "output", flood_message(limits)), Then.RERUN)
    if end.died and end.zygote_died and not limits.sandbox:
        # The kernel runs on for some milliseconds after killing its zygote (until the zygote's exit has torn down its
        # memory), so which cells ran, and which cell did it, is chance: none is blamed, and what this attempt recorded
        # is dropped, so the grade does not depend on it.
        return Verdict(None, Then.RERUN, void=True, fatal=(
            "the notebook killed the process its kernel was forked from (the grader's zygote: possible only with "
            "--no-sandbox), so it was not graded"))
    if end.died:  # in the sandbox a zygote dies with its kernel only at their cgroup's memory limit (see `zygote_died`)
        return Verdict(Fault(label, "died", "the kernel died while running it (os._exit, a crash, or the memory limit)"), Then.RERUN)
    if end.out_of_time:
        fatal = f"the notebook time limit ({limits.notebook_timeout:g} s) ran out in {label}"
        return Verdict(Fault(label, "timeout", fatal), Then.RERUN, fatal=fatal)
    if end.reply.get("status") != "error":
        return Verdict()
    name = end.reply.get("ename")
    if name == OUTPUT_ERROR:  # the kernel refused the flood and is still healthy
        return Verdict(Fault(label, "output", flood_message(limits)))
    if name == TIMEOUT_ERROR:
        return Verdict(Fault(label, "timeout", f"it ran longer than the {limits.cell_timeout:g} s limit per cell"), Then.PROBE)
    if name == "MemoryError":  # the kernel may hold on to the memory: start again without it
        return Verdict(Fault(label, "memory", f"it ran out of memory (the limit is {limits.memory_bytes // 2**20} MiB of address space)"),
                       Then.RERUN)
    message = f"{safe_text(end.reply.get('ename', 'Error'), limit=100)}: {safe_text(end.reply.get('evalue', ''), limit=300)}"
    return Verdict(Fault(label, "error", message))


def flood_message(limits: Limits) -> str:
    """The fault of a cell that printed past the output cap."""
    return f"it printed more than {limits.output_bytes // 2**20} MiB of output; it was stopped"


class Session:
    """One notebook's grading run: attempts in fresh kernels until one runs through, within the limits."""

    def __init__(self, code_cells: list[str], workdir: Path, root: Path, limits: Limits, slot: Slot):
        self.code_cells = code_cells
        self.workdir = workdir
        self.root = root
        self.limits = limits
        self.slot = slot  # starts the kernels (forked from its zygote, or fresh processes); root lies in its rw folder
        self.lib = slot.lib
        self.io = slot.io  # files between the grader and the kernel (see `exchange`); its own mount in the sandbox
        self.env = kernel_environment(root, self.lib)
        self.sockets: Path | None = None  # the kernel's connection file and sockets: new for each attempt (see `_attempt`)
        self.bwrap = bwrap.bwrap_or_refuse() if limits.sandbox else None
        if self.bwrap:
            bwrap.hand_over(root)  # as root: the working copy and HOME are the sandbox uid's
        self.group: cgroups.Group | None = None  # a fresh kernel's cgroup (a forked kernel is in its zygote's)
        self.deadline = 0.0
        self.run = Run()
        self.zygote: Zygote | None = None  # the zygote of the current attempt's kernel, if it was forked
        self.exchange({})  # nothing of an earlier notebook's

    def remaining(self) -> float:
        return self.deadline - asyncio.get_running_loop().time()

    async def execute(self, after: Callable[[], list[tuple[str, str]]]) -> Run:
        """Run the code cells, then the (label, source) cells `after()` returns; retry without a fatal cell."""
        self.deadline = asyncio.get_running_loop().time() + self.limits.notebook_timeout
        skip: set[str] = set()
        while self.run.attempts < MAX_ATTEMPTS:
            self.run.attempts += 1
            self.run.fatal = None
            self.run.faults = [f for f in self.run.faults if f.where in skip]
            culprit = await self._attempt(skip, after)
            if culprit is None or self.run.fatal is not None or self.remaining() <= 0:
                break
            skip.add(culprit)
            self.run.skipped.append(culprit)
        return self.run

    def exchange(self, files: dict[str, bytes]) -> None:
        """Make `files` (name: content) the only files in the io folder, while the student's kernel may be running.

        The kernel can write there and may plant symbolic links: old entries are unlinked (never
        followed), each file is written under a fresh name (O_EXCL) and renamed into place.
        """
        if self.io.is_symlink():  # only without the sandbox, where io is no mount of its own
            self.io.unlink()
        self.io.mkdir(exist_ok=True)  # again: without the sandbox the student's code may have deleted it
        for entry in os.scandir(self.io):
            with contextlib.suppress(FileNotFoundError):  # the kernel may be removing it too
                remove_tree(entry.path)
        for name, data in files.items():
            handle, temporary = tempfile.mkstemp(dir=self.io, prefix=".grader-")
            os.fchmod(handle, 0o644)  # readable by the sandbox's uid, which may not be the grader's
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, self.io / name)

    def kernel_command(self, connection_file: str) -> list[str]:
        """The kernel's command line: the launcher with the limits, in the sandbox unless it is off."""
        inside = LAUNCHER if self.bwrap is None else f"{bwrap.INSIDE}/launcher.py"  # nothing else of the checkout is in the sandbox
        argv = [sys.executable, "-S", inside, *self.launcher_arguments(connection_file)]
        if self.bwrap is None:
            return argv
        readonly = {self.lib: self.lib, LAUNCHER: inside}
        return bwrap.command(self.bwrap, self.root, argv, self.env, readonly=readonly, writable=[self.io, self.sockets], chdir=self.workdir,
                             group=self.group)

    def _client(self, sockets: Path) -> GuardedClient:
        """The client of this attempt's kernel: forked by the slot's zygote when it has one, else a fresh process."""
        km = LimitedKernelManager(kernel_name="python3", transport="ipc", connection_file=str(sockets / "connection.json"))
        km.ip = str(sockets / "ipc")
        km.kernel_spec.interrupt_mode = "message"  # a SIGINT would reach bwrap, not the kernel: ask the kernel to interrupt itself
        self.zygote, how = self.slot.zygote(self.limits)
        km.kernel_command = self.kernel_command if self.zygote is None else self.launcher_arguments
        if self.zygote is not None:
            km.kernel_id = str(uuid.uuid4())
            km.provisioner = ForkingProvisioner(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)
            km.provisioner.zygote, km.provisioner.env = self.zygote, self.env
        if how not in self.run.kernels:
            self.run.kernels.append(how)
        if self.zygote is None and self.bwrap:
            self.group = cgroups.Group.make(self.limits.memory_bytes)
        limited = self.zygote.limits if self.zygote is not None else self.limits_applied()
        if limited not in self.run.limits:
            self.run.limits.append(limited)
        nb = nbformat.v4.new_notebook()
        return GuardedClient(
            nb, self.limits.output_bytes, km=km, timeout=int(self.limits.cell_timeout), allow_errors=True,
            interrupt_on_timeout=True, error_on_timeout={"ename": TIMEOUT_ERROR, "evalue": "the time limit interrupted it"},
            startup_timeout=60, shutdown_kernel="immediate", iopub_timeout=2,
            resources={"metadata": {"path": str(self.workdir)}},
        )

    def limits_applied(self) -> str:
        """Which limits a fresh kernel runs under, for the record."""
        if self.bwrap is None:
            return f"rlimits only ({self.limits.memory_bytes // 2**20} MiB of address space per process; no sandbox)"
        return cgroups.describe(self.group, self.limits.memory_bytes)

    def launcher_arguments(self, connection_file: str) -> list[str]:
        """What the launcher is given (the limits, the connection file): in a kernel forked from the zygote, all of its command line."""
        limits = self.limits
        return [str(limits.memory_bytes), str(limits.file_bytes), str(int(limits.notebook_timeout) + 60), str(limits.output_bytes),
                "-f", connection_file]

    async def _attempt(self, skip: set[str], after) -> str | None:
        """One run in a fresh kernel; returns the label of the cell that made it stop, or None."""
        sockets = self.sockets = socket_folder(self.slot.rw)  # new each time: the last kernel could write in the old one
        if self.bwrap:
            bwrap.hand_over(sockets)
        client = self._client(sockets)
        refused = self.workdir / launcher.REFUSED
        refused.unlink(missing_ok=True)
        started = False
        try:
            async with client.async_setup_kernel(cleanup_kc=True, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
                started = True
                for label, source in self._cells(after):
                    if label not in skip and not await self._cell(client, label, source):
                        if label == SEED:
                            self.run.fatal = self.run.fatal or "the grading kernel failed to seed its generators"
                        return label
        except (DeadKernelError, RuntimeError, TimeoutError, asyncio.TimeoutError) as error:
            if not started and refused.is_file() and not refused.is_symlink():  # written by this attempt's launcher, before any cell
                self.run.refused = refused.read_text(errors="replace")[:300]
                self.run.fatal = f"the grader could not start its kernel: {self.run.refused}"
                return None
            if self.run.fatal is None:
                self.run.fatal = f"the kernel could not be started or stopped ({type(error).__name__}: {safe_text(error, limit=500)})"
            return None
        finally:
            self.run.output_bytes += client.total_bytes
            with contextlib.suppress(OSError):  # what stays is emptied with the slot's rw folder
                remove_tree(sockets)
            if self.group is not None:
                self.group.remove()
                self.group = None
        return None

    def _cells(self, after: Callable[[], list[tuple[str, str]]]) -> Iterator[tuple[str, str]]:
        """The (label, source) cells of an attempt, in order: the seed, the code cells, then `after()`'s (asked for only
        once the code cells have run); when `after` cannot write its files, the run's fatal fault says so and none follow."""
        yield SEED, SEED_CELL
        yield from ((f"code cell {i + 1}", source) for i, source in enumerate(self.code_cells))
        try:
            extra = after()
        except OSError as error:
            self.run.fatal = f"the grader could not write the hidden cases ({error})"
            return
        yield from extra

    async def _cell(self, client: GuardedClient, label: str, source: str) -> bool:
        """Execute one cell and record what its end means (see `classify`); whether the kernel goes on."""
        if self.remaining() <= 0:
            self.run.fatal = f"the notebook time limit ({self.limits.notebook_timeout:g} s) ran out before {label}"
            return False
        verdict = classify(label, await self._execute(client, source), self.limits)
        if verdict.void:
            self.run.faults = [fault for fault in self.run.faults if fault.where in self.run.skipped]
            self.exchange({})
        if verdict.fault is not None:
            self.run.faults.append(verdict.fault)
        if verdict.fatal is not None:
            self.run.fatal = verdict.fatal
        if verdict.then is Then.PROBE:
            return await self._responsive(client)
        return verdict.then is Then.GO_ON

    async def _execute(self, client: GuardedClient, source: str) -> CellEnd:
        """Run `source` as the next cell, within the notebook's time left: how it ended."""
        cell = nbformat.v4.new_code_cell(source)
        client.nb.cells.append(cell)
        index = len(client.nb.cells) - 1
        try:
            await asyncio.wait_for(client.async_execute_cell(cell, index, store_history=False), self.remaining())
        except DeadKernelError:
            zygote_died = self.zygote is not None and (self.zygote.broken or "").startswith("it died")
            return CellEnd(died=True, flooded=client.over_cap, zygote_died=zygote_died)
        except asyncio.TimeoutError:
            return CellEnd(out_of_time=True, flooded=client.over_cap)  # a killed kernel never replies: flooded wins
        return CellEnd(client.replies.get(index, {}), flooded=client.over_cap)  # nbclient may see the reply before the death

    async def _responsive(self, client: GuardedClient) -> bool:
        """After an interrupted cell: does the kernel answer a trivial cell again?"""
        saved, client.timeout = client.timeout, PROBE_TIMEOUT
        try:
            cell = nbformat.v4.new_code_cell("pass")
            client.nb.cells.append(cell)
            index = len(client.nb.cells) - 1
            await asyncio.wait_for(client.async_execute_cell(cell, index, store_history=False), PROBE_TIMEOUT + 5)
            return client.replies.get(index, {}).get("status") == "ok"
        except (DeadKernelError, asyncio.TimeoutError):
            return False
        finally:
            client.timeout = saved

