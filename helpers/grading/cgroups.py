"""Per-kernel limits on memory (its tmpfs included) and on the number of processes, through Linux control groups.

The resource limits (rlimits) the launcher sets are per process: four processes of one kernel may
each use the whole memory limit, and a /tmp or /dev/shm file is memory no rlimit counts. A cgroup
counts them all: every process of the sandbox (the zygote and the one kernel it runs, or a fresh
kernel) is put in one group before bwrap starts, and the kernel's pages, tmpfs files among them, are
charged to it. At its memory limit the Linux kernel's OOM killer ends a process of the group; at
its process limit fork fails (EAGAIN). Where the `cpu` controller can be used too, the group gets one
CPU's worth of time in all, however many processes it starts, so one kernel cannot slow the kernels
graded beside it until their cells run past their time limits.

`Group.make(memory, processes)` makes one, in either layout, behind one interface:
- cgroups v2 (one hierarchy, `memory.max`, `pids.max`), where the grader may make child groups
  with the memory and pids controllers (root, or a group systemd delegated to the user);
- cgroups v1 (`memory.limit_in_bytes` under the `memory` hierarchy, `pids.max` under `pids`), as on
  machines that mount v1 for those controllers (the course's CI machine).
It returns None where neither can be made; `unavailable()` says why. The grader then keeps the
rlimits alone, and each record says which applied (`describe`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import time
import uuid
from pathlib import Path

PROCESSES = 256  # per kernel, threads included (pids counts tasks): ipykernel and torch need a few dozen
CONTROLLERS = ("memory", "pids")  # required: without both, no group
CPU = "cpu"  # optional: where it cannot be used, groups are made without a CPU cap (and the record says so)
CPU_PERIOD_US = 100_000  # one CPU: a quota of a whole period per period


def own_groups() -> dict[str, str]:
    """This process's cgroup per v1 controller name, and "" for the v2 hierarchy: {controller: path}."""
    found = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        for name in names.split(",") if names else [""]:
            found[name] = path
    return found


def mounts() -> dict[str, str]:
    """Where each hierarchy is mounted: {v1 controller: mount point} and {"": the v2 mount point}."""
    found = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        dash = fields.index("-")
        kind, options = fields[dash + 1], fields[dash + 3].split(",")
        if kind == "cgroup2":
            found.setdefault("", fields[4])
        elif kind == "cgroup":
            for name in (*CONTROLLERS, CPU):
                if name in options:
                    found.setdefault(name, fields[4])
    return found


def write(path: Path, value: str) -> None:
    with open(path, "w") as file:
        file.write(value)


class Group:
    """One kernel's cgroup: a folder per hierarchy ({controller: folder}; v2: the same folder for both)."""

    def __init__(self, layout: str, folders: dict[str, Path]):
        self.layout = layout  # "v1" or "v2"
        self.folders = folders

    @classmethod
    def make(cls, memory: int, processes: int = PROCESSES) -> Group | None:
        """A new group limited to `memory` bytes and `processes` tasks, or None where none can be made here."""
        layout, parents = hierarchy()
        if layout is None:
            return None
        name = f"grader-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        group = cls(layout, {controller: parent / name for controller, parent in parents.items()})
        try:
            for folder in set(group.folders.values()):
                folder.mkdir()
            group.limit_memory(memory)
            write(group.file("pids", "pids.max"), str(processes))
            if CPU in group.folders:
                group.limit_cpu()
        except OSError:
            group.remove()
            return None
        return group

    def file(self, controller: str, name: str) -> Path:
        return self.folders[controller] / name

    def join_files(self) -> list[str]:
        """The files a process writes "0" to, to join the group (before it starts the sandbox)."""
        return sorted({str(folder / "cgroup.procs") for folder in self.folders.values()})

    def limit_memory(self, memory: int) -> None:
        """Set the memory limit (swap included, where the machine accounts it)."""
        if self.layout == "v2":
            write(self.file("memory", "memory.max"), str(memory))
            with contextlib.suppress(OSError):
                write(self.file("memory", "memory.swap.max"), "0")
            return
        swap = self.file("memory", "memory.memsw.limit_in_bytes")
        if swap.exists() and memory > self.memory_limit():  # memory + swap may never be below memory alone
            write(swap, str(memory))
            write(self.file("memory", "memory.limit_in_bytes"), str(memory))
        else:
            write(self.file("memory", "memory.limit_in_bytes"), str(memory))
            if swap.exists():
                write(swap, str(memory))

    def limit_cpu(self) -> None:
        """One CPU's worth of time per period for all the group's processes together."""
        if self.layout == "v2":
            write(self.file(CPU, "cpu.max"), f"{CPU_PERIOD_US} {CPU_PERIOD_US}")
        else:
            write(self.file(CPU, "cpu.cfs_period_us"), str(CPU_PERIOD_US))
            write(self.file(CPU, "cpu.cfs_quota_us"), str(CPU_PERIOD_US))

    def memory_limit(self) -> int:
        name = "memory.max" if self.layout == "v2" else "memory.limit_in_bytes"
        text = self.file("memory", name).read_text().strip()
        return 2**63 if text == "max" else int(text)

    def memory_held(self) -> int:
        """What the group's processes hold now: its usage less the page cache the Linux kernel may reclaim at the limit
        (file pages; not tmpfs pages, which are the cache's too but, with no swap, stay). Whether a file's pages are
        charged here depends on whether they were cached already, by whom."""
        usage, cache, shmem = ("memory.current", "file", "shmem") if self.layout == "v2" else (
            "memory.usage_in_bytes", "total_cache", "total_shmem")
        stat = dict(line.split() for line in self.file("memory", "memory.stat").read_text().splitlines())
        return int(self.file("memory", usage).read_text()) - int(stat.get(cache, 0)) + int(stat.get(shmem, 0))

    def make_room(self, memory: int) -> None:
        """Set the limit to what the group holds now plus `memory`: room for exactly `memory` more, whatever page cache
        happened to be charged here (counted, it would be room on top that the kernel reclaims and gives away)."""
        self.limit_memory(self.memory_held() + memory)

    def processes(self) -> list[int]:
        found = set()
        for path in self.join_files():
            with contextlib.suppress(OSError, ValueError):
                found |= {int(pid) for pid in Path(path).read_text().split()}
        return sorted(found)

    def remove(self, timeout: float = 5) -> None:
        """Kill what is left in the group, then remove it (a group is removed only once empty)."""
        deadline = time.monotonic() + timeout
        for folder in set(self.folders.values()):
            while folder.exists():
                for pid in self.processes():
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                try:
                    folder.rmdir()
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.01)


@functools.cache
def hierarchy() -> tuple[str | None, dict[str, Path]]:
    """("v2" or "v1", {controller: the folder this process's groups go in}), or (None, {}) where no group can be made."""
    return layout()[:2]


@functools.cache
def layout() -> tuple[str | None, dict[str, Path], str]:
    """(layout, parents, "") where groups can be made here, else (None, {}, why not): tried once per process."""
    if not os.path.isfile("/proc/self/cgroup"):
        return None, {}, "this system has no cgroups (not Linux)"
    found, own = mounts(), own_groups()
    if "" in found:
        parent = Path(found[""] + own.get("", "/"))
        controllers = set((parent / "cgroup.controllers").read_text().split()) if (parent / "cgroup.controllers").exists() else set()
        if set(CONTROLLERS) <= controllers:
            why = enable_v2(parent)
            if not why:
                with_cpu = CPU in controllers and not enable_v2(parent, (*CONTROLLERS, CPU))
                return "v2", {name: parent for name in (*CONTROLLERS, CPU) if name != CPU or with_cpu}, ""
            v2_why = why
        else:
            v2_why = f"the cgroup v2 hierarchy at {found['']} has no {' and '.join(sorted(set(CONTROLLERS) - controllers))} controller here"
    else:
        v2_why = "no cgroup v2 hierarchy is mounted"
    if all(name in found for name in CONTROLLERS):
        parents = {name: Path(found[name] + own.get(name, "/")) for name in CONTROLLERS}
        if all(os.access(parent, os.W_OK) for parent in parents.values()):
            cpu = Path(found[CPU] + own.get(CPU, "/")) if CPU in found else None
            return "v1", parents | ({CPU: cpu} if cpu and os.access(cpu, os.W_OK) else {}), ""
        return None, {}, f"{v2_why}, and this user may not make v1 cgroups in {', '.join(map(str, parents.values()))} (grade as root)"
    return None, {}, f"{v2_why}, and the v1 memory and pids hierarchies are not both mounted"


def enable_v2(parent: Path, controllers: tuple[str, ...] = CONTROLLERS) -> str:
    """Let groups made in `parent` use `controllers` (memory and pids); why not, or "" when done.

    A v2 group with processes cannot hand controllers to its children: the grader first moves itself
    into a leaf group of its own (as systemd's delegation expects)."""
    control = parent / "cgroup.subtree_control"
    wanted = " ".join(f"+{name}" for name in controllers)
    try:
        write(control, wanted)
        return ""
    except OSError as error:
        first = error
    try:
        leaf = parent / "grader-main"
        leaf.mkdir(exist_ok=True)
        write(leaf / "cgroup.procs", "0")
        write(control, wanted)
        return ""
    except OSError as error:
        return (f"the grader may not use the memory and pids controllers of its cgroup v2 group {parent} ({first}; {error}): "
                "grade as root, or in a delegated group (`systemd-run --user --scope -p Delegate=yes python -m helpers.grading ...`)")


def unavailable() -> str | None:
    """Why no per-kernel cgroup can be made here, or None when one can."""
    return layout()[2] or None


def describe(group: Group | None, memory: int) -> str:
    """Which limits a kernel ran under, for its record."""
    if group is None:
        return f"rlimits only ({memory // 2**20} MiB of address space per process; no cgroup: {unavailable() or 'it could not be made'})"
    cpu = "1 CPU" if CPU in group.folders else "CPU time per process only (no usable cpu controller)"
    return (f"cgroup {group.layout}: {memory // 2**20} MiB of memory (its tmpfs included), {PROCESSES} processes and {cpu} per kernel; "
            "rlimits per process")
