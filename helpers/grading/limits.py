"""What one notebook's grading may use: time, memory, file size, output; and whether its kernels run in the sandbox and
are forked from a zygote."""

from __future__ import annotations

from dataclasses import dataclass


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

