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
A cell's output is capped twice: in the kernel, whose print raises OutputLimitExceeded past the
limit (the kernel stays healthy), and here, where a kernel that gets past that is killed.

A cell's error is recorded and execution goes on. A cell that kills the kernel, runs out of
memory, floods output, or that the time limit cannot interrupt, is recorded and the notebook is run again from the start without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import sysconfig
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat
import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from traitlets import Type, default

import helpers
from helpers.grading import bwrap, cgroups, launcher
from helpers.grading.answer_free import write_answer_free_helpers
from helpers.grading.kernels import ForkingProvisioner, Zygote, ZygoteError
from helpers.grading.text import safe_text

TIMEOUT_ERROR = "GraderTimeout"
OUTPUT_ERROR = "OutputLimitExceeded"  # raised in the kernel by launcher.CappedOutStream
MAX_ATTEMPTS = 4

SEED_CELL = "(lambda s: (__import__('random').seed(s), __import__('numpy').random.seed(s), __import__('torch').manual_seed(s)))(0);"
PROBE_TIMEOUT = 5
LAUNCHER = os.path.realpath(launcher.__file__)  # run by path; in the sandbox, bound alone at bwrap.INSIDE
SOCKET_PATH_BYTES = 107  # at most, in a Unix socket's address
MAX_PART_FROM_KERNEL = 16 * 2**20  # a part of a message from a kernel (a cell's whole output is capped at Limits.output_bytes)


@dataclass(frozen=True)
class Limits:
    """What one notebook may use."""

    cell_timeout: float = 60
    notebook_timeout: float = 300
    memory_bytes: int = 3 * 2**30  # address space: torch+numpy+matplotlib map 0.65 GiB, a kernel after notebook 01 peaks at 1.5 GiB
    file_bytes: int = 256 * 2**20
    output_bytes: int = 8 * 2**20  # a cell printing more than this is stopped (the kernel killed)
    sandbox: bool = True  # run the kernel inside bubblewrap (False: `grade --no-sandbox`, only the limits above)
    zygote: bool = True  # fork each kernel from a grading slot's zygote (False: `grade --no-zygote`, a fresh process each)


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


class SandboxUnavailable(RuntimeError):
    """A sandboxed run was asked for where no sandbox can be made (the message says why)."""


NO_SANDBOX = "none (--no-sandbox): the kernels ran as the grader's own user, with only the resource limits"


def sandbox_problem() -> str | None:
    """Why the kernels cannot be sandboxed here (and how to fix it), or None when they can."""
    reason = bwrap.unavailable()
    if reason:
        return reason
    shown = bwrap.exposed([Path(helpers.__file__).resolve().parent])
    if shown:
        return (f"the sandbox would show the kernels the course's helpers with the reference solutions ({shown[0]} lies in "
                "the Python runtime it binds read-only): install the course with `pip install -e .` into a venv outside it")
    return None


def bwrap_or_refuse() -> str:
    """The bwrap that sandboxes a kernel (or a zygote) here; SandboxUnavailable, saying why, when none can."""
    problem = sandbox_problem()
    if problem:
        raise SandboxUnavailable(problem)
    return bwrap.executable()


SANDBOXED = ("bubblewrap: each kernel in an OS sandbox (its copy and the runtime only, no process of the grader's, no network) "
             "that holds nothing an earlier kernel left")
FORKED = "forked from a zygote"
FRESH = "a fresh process"


def sandbox_or_refuse(no_sandbox: bool, remote: bool = False) -> str:
    """What the kernels run in, for every record (the same wherever they run); SandboxUnavailable, saying
    why and how to fix it, when no sandbox can be made.

    `remote`: the kernels run on other machines (Dask workers), where each Session makes its sandbox
    or fails its student's grading with the reason; nothing is tried here.
    """
    if no_sandbox:
        return NO_SANDBOX
    problem = None if remote else sandbox_problem()
    if problem:
        raise SandboxUnavailable(
            f"no OS sandbox can be made for the grading kernels: {problem}. Without one, a hostile notebook can read and change "
            "whatever your user can (the reference solutions, other students' files, the secret): fix that, or pass --no-sandbox "
            "to grade anyway, with only the resource limits between the kernels and your machine.")
    return SANDBOXED


def capped_context() -> zmq.asyncio.Context:
    """A ZeroMQ context whose sockets refuse a message part over MAX_PART_FROM_KERNEL (ZMQ_MAXMSGSIZE: the kernel's
    connection is dropped before the part is read), so a kernel cannot grow the grader by sending a huge message."""
    context = zmq.asyncio.Context()
    context.setsockopt(zmq.MAXMSGSIZE, MAX_PART_FROM_KERNEL)
    return context


class CappedKernelClient(AsyncKernelClient):
    """The grader's client of a kernel: its sockets (shell, iopub, stdin, heartbeat) refuse huge messages."""

    @default("context")
    def _context_default(self) -> zmq.asyncio.Context:
        self._created_context = True  # so the client destroys it when it stops, as it does its own
        return capped_context()


class LimitedKernelManager(AsyncKernelManager):
    """Starts ipykernel through `launcher` with the given limits (in the sandbox), whatever the kernelspec says;
    every socket it and its client read from the kernel refuses huge messages (`capped_context`)."""

    kernel_command: Callable[[str], list[str]]  # the connection file -> the command line (set by Session)
    client_factory = Type(CappedKernelClient, klass=AsyncKernelClient)

    @default("context")
    def _context_default(self) -> zmq.asyncio.Context:
        self._created_context = True
        return capped_context()

    def format_kernel_cmd(self, extra_arguments=None):
        bwrap.hand_over(Path(self.connection_file))  # written just now, 0600: as root, the sandbox's uid must read it
        return self.kernel_command(os.path.realpath(self.connection_file))


class GuardedClient(NotebookClient):
    """A NotebookClient that keeps no outputs (it counts them) and records each cell's reply."""

    def __init__(self, nb, output_cap: int, **kw):
        super().__init__(nb, **kw)
        self.output_cap = output_cap
        self.total_bytes = 0
        self.cell_bytes = 0
        self.over_cap = False
        self.replies: dict[int, dict] = {}
        self.on_cell_start = self._start_cell
        self.on_cell_executed = self._record_reply

    def _start_cell(self, cell, cell_index):
        self.cell_bytes, self.over_cap = 0, False

    def _record_reply(self, cell, cell_index, execute_reply):
        self.replies[cell_index] = (execute_reply or {}).get("content", {})

    def output(self, outs, msg, display_id, cell_index):
        size = len(str(msg.get("content", "")))
        self.cell_bytes += size
        self.total_bytes += size
        if self.cell_bytes > self.output_cap and not self.over_cap:
            self.over_cap = True
            self.interrupt()
        return None

    def interrupt(self) -> None:
        """Kill the kernel now: a flood of output fills its buffers, and the run restarts without the cell."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None:
            try:
                process.kill()
            except OSError:
                pass

    def handle_comm_msg(self, outs, msg, cell_index):
        self.output(outs, msg, None, cell_index)


def answer_free_lib(lib: Path) -> Path:
    """`lib`, made to hold the answer-free `helpers` (see `answer_free`) that a kernel imports."""
    write_answer_free_helpers(lib / "helpers")
    return lib


def kernel_environment(root: Path, lib: Path, home: Path | None = None) -> dict[str, str]:
    """The kernel's whole environment: nothing of the grader's (no secret), one thread, a private HOME,
    and no GPU: grading runs on the CPU (so results do not depend on the card, and a CUDA context,
    which maps far more address space than the memory limit allows, is never made; the sandbox has
    no GPU device anyway)."""
    home = home or root / "home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": os.path.dirname(sys.executable) + os.pathsep + "/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join([str(lib), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]),
        "HOME": str(home),
        "TMPDIR": str(home),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "LANG": "C.UTF-8",
        "CUDA_VISIBLE_DEVICES": "",
    }


def holds_sockets(folder: Path | str) -> bool:
    """Whether the Unix sockets of a kernel, in a new folder made in `folder` (see `socket_folder`), have paths
    short enough for a socket's address."""
    return len(str(folder)) + len("/k-12345678/ipc-10") <= SOCKET_PATH_BYTES


def socket_folder(near: Path) -> Path:
    """A new folder for one kernel's connection file and Unix sockets: in `near` (the grader's scratch, which
    the grader removes even when a worker is killed), or in /tmp where that path is too long for a socket."""
    for parent in (near, Path("/tmp")):
        if holds_sockets(parent):
            return Path(tempfile.mkdtemp(prefix="k-", dir=parent))
    raise ValueError(f"{near} is too long a path for the kernel's Unix sockets, and /tmp is not there")


def remove_tree(path: Path | str) -> None:
    """Remove `path` and what a kernel may have left in it: links removed, never followed; folders it made
    unreadable or unwritable; a tree of any depth (each folder's entries are moved up into `path` before the
    folder is removed, so neither recursion nor path length grows with depth). OSError if something stays."""
    try:
        os.unlink(path)  # a file or a link (never followed)
        return
    except FileNotFoundError:
        return
    except (IsADirectoryError, PermissionError):  # Linux says EISDIR for a folder, POSIX allows EPERM
        pass
    top = open_folder(path)
    try:
        while names := os.listdir(top):
            for name in names:
                try:
                    os.unlink(name, dir_fd=top)
                except (IsADirectoryError, PermissionError):
                    folder = open_folder(name, top)
                    try:
                        for entry in os.listdir(folder):
                            os.rename(entry, uuid.uuid4().hex, src_dir_fd=folder, dst_dir_fd=top)
                    finally:
                        os.close(folder)
                    os.rmdir(name, dir_fd=top)
    finally:
        os.close(top)
    os.rmdir(path)


def open_folder(path: Path | str, dir_fd: int | None = None) -> int:
    """A readable descriptor of the folder `path` (in `dir_fd`), never through a link, made readable and
    writable for its owner first (a kernel may have taken its permissions away); OSError if it is no folder."""
    handle = os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
    try:
        os.chmod(f"/proc/self/fd/{handle}", 0o700)  # that folder itself, whatever its name now leads to
        return os.open(f"/proc/self/fd/{handle}", os.O_RDONLY | os.O_DIRECTORY)
    finally:
        os.close(handle)


def empty(folder: Path, trash: Path) -> None:
    """Take everything out of `folder` (a mount point of the sandbox, which stays): each entry is first renamed
    into `trash` (outside the sandbox, so gone from it at once, however deep), then removed. OSError if it cannot."""
    os.chmod(folder, 0o700)  # the kernel may have taken its permissions away
    trash.mkdir(exist_ok=True)
    for entry in os.scandir(folder):
        os.rename(entry.path, trash / f"{uuid.uuid4().hex}")
    remove_tree(trash)


class Slot:
    """A grading slot's space and zygote, kept from notebook to notebook (and student to student): `folder/lib`, the
    kernels' `helpers` without reference solutions (read-only in the sandbox); `folder/io`, the grader's files for the
    kernel (a mount of its own); `folder/rw`, the sandbox's one writable folder, where each notebook's working copy and
    each kernel's sockets are made; and the zygote (see `kernels` and `zygote`), started when first needed and replaced
    when it breaks. After each notebook (`finish_notebook`) the zygote has swept its sandbox, and rw and io are emptied.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.lib = answer_free_lib(folder / "lib")
        self.io = folder / "io"
        self.rw = folder / "rw"
        self.io.mkdir()
        self.rw.mkdir()
        bwrap.hand_over(self.rw, self.io)  # as root: the sandbox's uid's
        self.current: Zygote | None = None
        self.unusable: str | None = None  # why no zygote can be used here (it failed to start)
        self.retired: str | None = None  # why this slot must not grade another student (its folders could not be emptied)

    def zygote(self, limits: Limits) -> tuple[Zygote | None, str]:
        """A zygote ready to fork a kernel in the sandbox `limits` asks for, and FORKED; or None, and why not."""
        if not limits.zygote:
            return None, f"{FRESH} (--no-zygote)"
        if self.unusable:
            return None, f"{FRESH} (no zygote: {self.unusable})"
        sandboxed = limits.sandbox
        if self.current is not None and self.current.sandboxed == sandboxed and self.current.usable():
            return self.current, FORKED
        self.stop()
        path = bwrap_or_refuse() if sandboxed else None
        zygote = Zygote(rw=self.rw, io=self.io, lib=self.lib, env=self.zygote_environment(sandboxed), bwrap_path=path,
                        log=self.folder / "zygote.log", memory=limits.memory_bytes)
        try:
            zygote.start()
        except ZygoteError as error:
            self.unusable = str(error)
            return None, f"{FRESH} (no zygote: {self.unusable})"
        self.current = zygote
        return zygote, FORKED

    def zygote_environment(self, sandboxed: bool) -> dict[str, str]:
        """The zygote's environment: the kernels' (see `kernel_environment`), its HOME in its own /tmp (emptied before
        its first kernel; with --no-sandbox a folder of the slot), matplotlib's inline backend, as ipykernel sets it."""
        home = Path("/tmp") if sandboxed else self.folder / "zygote"
        env = kernel_environment(home, self.lib, home=home)
        env.update(MPLCONFIGDIR=str(home / "matplotlib"), MPLBACKEND="module://matplotlib_inline.backend_inline")
        return env

    def finish_notebook(self) -> None:
        """After a notebook: the zygote idle and its sandbox swept (else it is stopped, sandbox and all), then rw and io
        emptied. What cannot be emptied retires the slot (see `retired`); the notebook's grade stands."""
        if self.current is not None and not self.current.settle():
            self.stop()
        try:
            empty(self.rw, self.folder / "trash")
            empty(self.io, self.folder / "trash")
        except OSError as error:
            self.stop()
            self.retired = f"its folders could not be emptied ({type(error).__name__}: {error})"

    def stop(self) -> None:
        if self.current is not None:
            self.current.stop()
            self.current = None


class Session:
    """One notebook's grading run: attempts in fresh kernels until one runs through, within the limits."""

    def __init__(self, code_cells: list[str], workdir: Path, root: Path, limits: Limits, slot: Slot | None = None):
        self.code_cells = code_cells
        self.workdir = workdir
        self.root = root
        self.limits = limits
        self.slot = slot  # a grading slot: its zygote forks the kernels (root lies in its rw folder), else fresh processes
        if slot is None:
            self.lib = answer_free_lib(root / "lib")
            self.io = root / "io"  # files between the grader and the kernel (see `exchange`); its own mount in the sandbox
            self.io.mkdir()
        else:
            self.lib, self.io = slot.lib, slot.io
        self.env = kernel_environment(root, self.lib)
        self.sockets: Path | None = None  # the kernel's connection file and sockets: new for each attempt (see `_attempt`)
        self.bwrap = bwrap_or_refuse() if limits.sandbox else None
        if self.bwrap:
            bwrap.hand_over(root)  # as root: the working copy, HOME (and without a slot the io folder) are the sandbox uid's
        self.group: cgroups.Group | None = None  # a fresh kernel's cgroup (a forked kernel is in its zygote's)
        self.deadline = 0.0
        self.run = Run()
        self.zygote: Zygote | None = None  # the zygote of the current attempt's kernel, if it was forked
        if slot is not None:
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
        """The client of this attempt's kernel: forked by the slot's zygote when there is one, else a fresh process."""
        km = LimitedKernelManager(kernel_name="python3", transport="ipc", connection_file=str(sockets / "connection.json"))
        km.ip = str(sockets / "ipc")
        km.kernel_spec.interrupt_mode = "message"  # a SIGINT would reach bwrap, not the kernel: ask the kernel to interrupt itself
        self.zygote, how = self.slot.zygote(self.limits) if self.slot is not None else (None, f"{FRESH} (no grading slot)")
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
        near = self.root.parent if self.slot is None else self.slot.rw  # in the slot: in the sandbox's writable folder
        sockets = self.sockets = socket_folder(near)  # new each time: the last kernel could write in the old one
        if self.bwrap:
            bwrap.hand_over(sockets)
        client = self._client(sockets)
        refused = self.workdir / launcher.REFUSED
        refused.unlink(missing_ok=True)
        started = False
        try:
            async with client.async_setup_kernel(cleanup_kc=True, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
                started = True
                if await self._cell(client, "setup", SEED_CELL) is not None:
                    self.run.fatal = self.run.fatal or "the grading kernel failed to seed its generators"
                    return "setup"
                cells = [(f"code cell {i + 1}", source) for i, source in enumerate(self.code_cells)]
                for label, source in cells:
                    if label not in skip and await self._cell(client, label, source) is not None:
                        return label
                try:
                    extra = after()
                except OSError as error:
                    self.run.fatal = f"the grader could not write the hidden cases ({error})"
                    return None
                for label, source in extra:
                    if label not in skip and await self._cell(client, label, source) is not None:
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
            with contextlib.suppress(OSError):  # in the slot, emptied with its rw folder; else in the grader's scratch
                remove_tree(sockets)
            if self.group is not None:
                self.group.remove()
                self.group = None
        return None

    def _flooded(self, label: str) -> None:
        """Record that `label` printed past the output cap and so had its kernel killed."""
        self._fault(label, "output", f"it printed more than {self.limits.output_bytes // 2**20} MiB of output; it was stopped")

    async def _cell(self, client: GuardedClient, label: str, source: str) -> str | None:
        """Execute one cell; record its fault; return `label` when the kernel cannot go on."""
        if self.remaining() <= 0:
            self.run.fatal = f"the notebook time limit ({self.limits.notebook_timeout:g} s) ran out before {label}"
            return label
        cell = nbformat.v4.new_code_cell(source)
        client.nb.cells.append(cell)
        index = len(client.nb.cells) - 1
        try:
            await asyncio.wait_for(client.async_execute_cell(cell, index, store_history=False), self.remaining())
        except DeadKernelError:
            if client.over_cap:
                self._flooded(label)
            elif self.zygote is not None and (self.zygote.broken or "").startswith("it died"):
                # Only possible with --no-sandbox. The kernel runs on for some milliseconds after killing its zygote
                # (until the zygote's exit has torn down its memory), so which cells ran, and which cell did it, is
                # chance: none is blamed, and what this attempt recorded is dropped, so the grade does not depend on it.
                self.run.fatal = ("the notebook killed the process its kernel was forked from (the grader's zygote: possible only "
                                  "with --no-sandbox), so it was not graded")
                self.run.faults = [fault for fault in self.run.faults if fault.where in self.run.skipped]
                self.exchange({})
            else:
                self._fault(label, "died", "the kernel died while running it (os._exit, a crash, or the memory limit)")
            return label
        except asyncio.TimeoutError:
            if client.over_cap:  # the killed kernel never replied: the flood, not the clock, stopped it
                self._flooded(label)
                return label
            self.run.fatal = f"the notebook time limit ({self.limits.notebook_timeout:g} s) ran out in {label}"
            self._fault(label, "timeout", self.run.fatal)
            return label
        if client.over_cap:  # nbclient may see the reply before it notices the kernel is gone
            self._flooded(label)
            return label
        reply = client.replies.get(index, {})
        if reply.get("status") == "error":
            if reply.get("ename") == OUTPUT_ERROR:  # the kernel refused the flood and is still healthy
                self._flooded(label)
                return None
            if reply.get("ename") == TIMEOUT_ERROR:
                self._fault(label, "timeout", f"it ran longer than the {self.limits.cell_timeout:g} s limit per cell")
                return None if await self._responsive(client) else label
            if reply.get("ename") == "MemoryError":  # the kernel may hold on to the memory: start again without it
                self._fault(label, "memory", f"it ran out of memory (the limit is {self.limits.memory_bytes // 2**20} MiB of address space)")
                return label
            self._fault(label, "error", f"{safe_text(reply.get('ename', 'Error'), limit=100)}: {safe_text(reply.get('evalue', ''), limit=300)}")
        return None

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

    def _fault(self, where: str, kind: str, message: str) -> None:
        self.run.faults.append(Fault(where, kind, message))
