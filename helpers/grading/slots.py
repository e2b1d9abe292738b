"""A grading slot: the folders a notebook's kernels work in, kept from notebook to notebook (and student to student),
and how its kernels start: forked from the slot's zygote (`Slot`), or each a fresh process (`FreshSlot`).

A slot in `folder` holds `folder/lib`, the kernels' `helpers` without reference solutions (read-only in the sandbox);
`folder/io`, the grader's files for the kernel (a mount of its own); `folder/rw`, the sandbox's one writable folder,
where each notebook's working copy and each kernel's sockets are made. After each notebook (`finish_notebook`) rw and
io are emptied.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

from helpers.grading import bwrap
from helpers.grading.answer_free import write_answer_free_helpers
from helpers.grading.folders import empty
from helpers.grading.kernels import Zygote, ZygoteError
from helpers.grading.limits import Limits

FORKED = "forked from a zygote"
FRESH = "a fresh process"


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


class Slot:
    """A slot whose kernels are forked from its zygote (see `kernels` and `zygote`), started when first needed and
    replaced when it breaks. After each notebook (`finish_notebook`) the zygote has swept its sandbox."""

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
        path = bwrap.bwrap_or_refuse() if sandboxed else None
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
        """Stop the zygote, if one runs (its sandbox and kernel go with it)."""
        if self.current is not None:
            self.current.stop()
            self.current = None


class FreshSlot(Slot):
    """A slot without a zygote: each kernel is a fresh process (grading outside a grading process: the tests, a caller
    of `grade.grade_files`), its working folders in `folder`, as a zygote slot's are."""

    def zygote(self, limits: Limits) -> tuple[Zygote | None, str]:
        """No zygote, ever: each kernel starts as a fresh process."""
        return None, f"{FRESH} (no grading slot)"
