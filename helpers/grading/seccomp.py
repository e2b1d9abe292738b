"""The seccomp filter of the grading sandbox: system calls a notebook never needs are refused (EPERM).

bwrap installs it (`--seccomp FD`) on every process in the sandbox, the zygote and its kernels among
them. It allows everything but: debugging and reading other processes (ptrace, process_vm_*), the
kernel's keyrings (so no key outlives a kernel), mounting and namespaces (mount, the new mount API,
unshare, setns, pivot_root), loading code into the Linux kernel (bpf, kexec_*, *_module),
perf_event_open, userfaultfd (a tool of kernel exploits), the machine's names, swap and reboot; and
it allows setpriority, prlimit64 and ioprio_set only on the calling process itself (pid 0), so a
kernel cannot change its zygote's priority or limits for the next student.

The filter is a classic BPF program written here, not built with a library: libseccomp's Python
bindings (`seccomp`, `pyseccomp`) are not on conda-forge at a current version, which environment.yml
takes every package from, and a deny list of a few dozen numbers on two architectures is short.
Any other architecture's system calls (i386 or x32 on an x86_64 machine) are refused whole.
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
import struct
import tempfile

# Linux's audit architecture ids, and the system call numbers (from the kernel's unistd headers).
ARCHITECTURES = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
REFUSED = {  # name: (x86_64, aarch64)
    "ptrace": (101, 117), "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "keyctl": (250, 219), "add_key": (248, 217), "request_key": (249, 218),
    "mount": (165, 40), "umount2": (166, 39), "pivot_root": (155, 41), "open_tree": (428, 428), "move_mount": (429, 429),
    "fsopen": (430, 430), "fsconfig": (431, 431), "fsmount": (432, 432), "fspick": (433, 433), "mount_setattr": (442, 442),
    "unshare": (272, 97), "setns": (308, 268),
    "perf_event_open": (298, 241), "bpf": (321, 280), "userfaultfd": (323, 282),
    "kexec_load": (246, 104), "kexec_file_load": (320, 294),
    "init_module": (175, 105), "finit_module": (313, 273), "delete_module": (176, 106),
    "sethostname": (170, 161), "setdomainname": (171, 162), "swapon": (167, 224), "swapoff": (168, 225), "reboot": (169, 142),
}
ONLY_ON_ITSELF = {  # name: ((x86_64, aarch64), the arguments that must be 0: which process, or "this one")
    "setpriority": ((141, 140), (0, 1)),  # (PRIO_PROCESS, 0): not a process group, not every process of the user
    "prlimit64": ((302, 261), (0,)),
    "ioprio_set": ((251, 30), (0, 1)),  # (IOPRIO_WHO_PROCESS = 1 is refused too: only 0 = self passes)
}
X32_BIT = 0x40000000

LD_W_ABS, JEQ_K, JGE_K, RET_K = 0x20, 0x15, 0x35, 0x06  # BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, ...|BPF_JGE|BPF_K, BPF_RET|BPF_K
ALLOW, REFUSE = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM
NR, ARCH = 0, 4  # offsets in struct seccomp_data; its args[i] at 16 + 8 * i (the low 32 bits first: little-endian)


def program(machine: str | None = None) -> bytes | None:
    """The filter for this machine's architecture as bwrap reads it (struct sock_filter[]), or None where there is none."""
    machine = machine or os.uname().machine
    if machine not in ARCHITECTURES:
        return None
    column = 0 if machine == "x86_64" else 1
    steps: list[tuple[int, str | int, str | int, int]] = [(LD_W_ABS, 0, 0, ARCH), (JEQ_K, 0, "refuse", ARCHITECTURES[machine]),
                                                         (LD_W_ABS, 0, 0, NR)]
    if machine == "x86_64":
        steps.append((JGE_K, "refuse", 0, X32_BIT))
    for numbers in REFUSED.values():
        steps.append((JEQ_K, "refuse", 0, numbers[column]))
    for numbers, arguments in ONLY_ON_ITSELF.values():
        steps.append((JEQ_K, 0, 2 * len(arguments), numbers[column]))  # not this call: past its checks (which end in a return)
        for index, argument in enumerate(arguments):
            steps.append((LD_W_ABS, 0, 0, 16 + 8 * argument))
            steps.append((JEQ_K, "allow" if index == len(arguments) - 1 else 0, "refuse", 0))
    labels = {"allow": len(steps), "refuse": len(steps) + 1}
    steps += [(RET_K, 0, 0, ALLOW), (RET_K, 0, 0, REFUSE)]
    code = b""
    for here, (op, true, false, k) in enumerate(steps):
        jumps = [labels[target] - here - 1 if isinstance(target, str) else target for target in (true, false)]
        code += struct.pack("=HBBI", op, *jumps, k)
    return code


@functools.cache
def path() -> str | None:
    """A file holding this machine's filter, or None where there is none: one file per user and filter in the temporary
    folder, written once and kept (every grading process reads it; a stale or foreign copy is replaced)."""
    code = program()
    if code is None:
        return None
    name = os.path.join(tempfile.gettempdir(), f"grader-seccomp-{os.geteuid()}-{hashlib.sha256(code).hexdigest()[:16]}.bpf")
    try:
        found = os.stat(name, follow_symlinks=False)
        if stat.S_ISREG(found.st_mode) and found.st_uid == os.geteuid() and not found.st_mode & 0o022:
            with open(name, "rb") as file:
                if file.read() == code:
                    return name
    except OSError:
        pass
    handle, temporary = tempfile.mkstemp(prefix=".grader-seccomp-", dir=tempfile.gettempdir())
    with os.fdopen(handle, "wb") as out:
        out.write(code)
    os.replace(temporary, name)
    return name
