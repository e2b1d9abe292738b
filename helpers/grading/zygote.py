"""The zygote: one process per grading slot that has imported what a grading kernel needs, and forks a fresh kernel for each notebook.

Run by path as `python -S zygote.py MODE GRADER [KEPT...]` with the kernels' environment (the kernels'
PYTHONPATH: the shadow `helpers` without reference solutions, then site-packages) and its control
channel on stdin: a Unix socket from the grader (`kernels.Zygote`), JSON messages framed as
multiprocessing.connection frames them. MODE is "sandbox" (inside bubblewrap, as the init of the
sandbox's PID namespace: `--as-pid-1`) or "plain" (`grade --no-sandbox`); GRADER is the pid of the
grading process that started it; KEPT are the sandbox's mounts from the grader's slot (its writable
folder, the io folder, the kernels' lib), which sweeping leaves alone and checks are still in place.
Like `launcher` it is run by path, imports nothing of the course but the kernels' own `helpers`, and
only the standard library before that.

At start it imports PRELOAD (ipykernel, IPython, torch, numpy, matplotlib, ipywidgets, the course's
helpers: what nearly every notebook's set-up cell imports), computing nothing and starting no thread:
it checks that it has only its own thread, as forking needs (torch's thread pools start on first
use). It makes itself non-dumpable, so no process in the sandbox may ptrace it or read its memory,
environment or file descriptors (its control channel among them), and says "ready".

Then, one kernel at a time, for each "launch" it forks a kernel. Its parent is the zygote: in the
sandbox the init of its PID namespace, which no process there can signal; with --no-sandbox a
subreaper (what the kernel leaves running is reparented to it) with whose death the kernel dies.
The kernel closes every file descriptor it inherited, joins a session and a keyring of its own,
takes its working folder and environment from the request, and runs `launcher.main` (the resource
limits, then IPKernelApp on the connection file), exactly as a kernel started by `python -S
launcher.py` does. When the kernel has ended (it exited, or the grader asked the zygote to kill it)
the zygote kills every other process left (in the sandbox, every process in it but itself: what the
student's code left running; with --no-sandbox, its own children) and, in the sandbox, empties /tmp,
/dev/shm and /dev/mqueue (but its mount points: the slot's folders and the runtime's, which may lie in /tmp), removes System V IPC
objects, clears the user keyrings and checks that every mount point is where it was (a kernel
may rename a folder above them), and checks that its own state (resource limits, priority, scheduler,
CPU affinity, hostname: what a kernel of the same uid could change, and the next kernel would inherit) is
what it was at start; then it reports "exited", with whether all is clean. The grader then
removes the notebook's folder; a zygote that is not clean, dies or does not answer is replaced by a
fresh one in a fresh sandbox.

Messages, grader -> zygote: {"launch": {"argv": [launcher's arguments], "cwd": folder, "env": {...}}},
{"signal": N} (to the kernel), {"ping": 0}; zygote -> grader: {"ready": {...}}, {"refused": why},
{"launched": pid}, {"exited": pid, "clean": bool, "left": what was not cleaned}, {"idle": bool}.
"""

import sys

if __name__ == "__main__":
    import launcher  # from this file's folder (in the sandbox: /grader, read-only; it holds launcher.py and this file)

    del sys.path[0]  # that folder is none of the kernel's to import

import ctypes  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402
from multiprocessing.connection import Connection  # noqa: E402

# What nearly every course notebook imports (see the notebooks' set-up cells), and what ipykernel
# imports to start: none of it starts a thread or computes anything at import. Not the matplotlib
# inline backend itself: importing it outside a running IPython would skip its hook into the kernel
# (it is loaded, as in a fresh kernel, when the notebook first draws; what it imports is here).
PRELOAD = [
    "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.iostream", "ipykernel.comm", "ipykernel.debugger",
    "IPython", "IPython.core.interactiveshell", "IPython.core.pylabtools", "IPython.core.debugger", "IPython.core.completerlib",
    "IPython.core.oinspect", "IPython.core.logger", "IPython.extensions.storemagic", "IPython.display",
    "zmq", "zmq.eventloop.zmqstream", "tornado.ioloop", "tornado.gen", "tornado.locks", "tornado.queues", "tornado.platform.asyncio",
    "jupyter_client.session", "sqlite3", "pdb", "faulthandler",
    "numpy", "torch", "torch.nn", "torch.nn.functional", "torch.optim", "torch.utils.data", "torch._dynamo",
    "matplotlib", "matplotlib.pyplot", "matplotlib.figure", "matplotlib.ticker", "matplotlib.backends.backend_agg",
    "PIL.Image", "PIL.PngImagePlugin", "PIL.BmpImagePlugin", "PIL.GifImagePlugin", "PIL.JpegImagePlugin", "PIL.PpmImagePlugin",
    "ipywidgets",
    "helpers", "helpers.checks", "helpers.graphs", "helpers.plotting",
]
EXTENSIONS = ["ipywidgets"]  # imported above, so their import-time hook into a running kernel is run as an extension instead
MAX_MESSAGE_FROM_GRADER = 1 << 20  # bytes of one message a zygote reads from the grader's channel
SWEEP_SECONDS = 20  # to kill what a kernel left running; past it the sandbox is reported unclean (and replaced)
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 1, 4, 36
KEYCTL = {"x86_64": 250, "aarch64": 219}.get(os.uname().machine)  # the keyctl system call's number
KEYCTL_JOIN_SESSION_KEYRING, KEYCTL_CLEAR, KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING = 1, 7, -4, -5
IPC_RMID = 0
STATE: dict = {}  # the zygote's own state when it started (see `own_state`), which every kernel it forks inherits
MOUNTS: set[str] = set()  # in the sandbox: its mount points when the zygote started, which must stay as they are
EMPTIED = ["/tmp", "/dev/shm", "/dev/mqueue"]  # in the sandbox: every place its kernels may write, but their working copy

libc = ctypes.CDLL(None, use_errno=True)


def prctl(option: int, value: int) -> None:
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}, {value}) failed")


def keyctl(*args: int) -> int:
    """The keyctl system call (-1 where there is none); its errors are ignored: keyrings are a kernel option."""
    if KEYCTL is None:
        return -1
    return libc.syscall(KEYCTL, *(ctypes.c_long(arg) for arg in args))


def threads() -> int:
    return len(os.listdir("/proc/self/task"))


def preload() -> list[str]:
    """Import PRELOAD; the modules that could not be imported (a kernel will fail on them as it would anyway)."""
    missing = []
    for name in PRELOAD:
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 - any failure: the notebook meets it again in its own kernel
            missing.append(name)
    return missing


def send(control: Connection, message: dict) -> None:
    control.send_bytes(json.dumps(message).encode())


def become_kernel(request: dict, plain: bool, zygote: int) -> None:
    """In the forked kernel: leave the zygote's state behind and run the launcher, as `python -S launcher.py` would."""
    if plain:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the zygote (in the sandbox, the PID namespace's end sees to it)
        if os.getppid() != zygote:
            os._exit(1)
    prctl(PR_SET_DUMPABLE, 1)  # as any process: the zygote's non-dumpable flag is its own
    os.setsid()
    keyctl(KEYCTL_JOIN_SESSION_KEYRING, 0)  # a session keyring of its own, not the zygote's
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # the control channel, the pidfds: nothing of the zygote's stays open
    signal.signal(signal.SIGINT, signal.default_int_handler)  # the zygote ignores it; a kernel is interrupted by it
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    import random
    import tempfile

    tempfile.tempdir = None  # computed again from TMPDIR
    random.seed()  # fresh entropy, as in a fresh process (the grader seeds every generator before the student's cells)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    extensions = [f"--IPKernelApp.extensions={name}" for name in EXTENSIONS if name in sys.modules]
    launcher.main([*request["argv"], *extensions])


def fork_kernel(request: dict, plain: bool) -> tuple[int, int]:
    """Fork a kernel; (its pid, a pidfd on it)."""
    zygote = os.getpid()
    kernel = os.fork()
    if kernel == 0:
        code = 1
        try:
            become_kernel(request, plain, zygote)
            import atexit

            atexit._run_exitfuncs()  # as the end of a kernel's own process would
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        except BaseException:  # noqa: BLE001 - the kernel process ends here, whatever happened
            code = 1
        finally:
            os._exit(code)
    return kernel, os.pidfd_open(kernel)


def reap() -> None:
    """Reap every child that has ended (as the sandbox's init, every orphan in it is one)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def others(plain: bool) -> list[int]:
    """The other processes in the sandbox's PID namespace; with --no-sandbox, the zygote's children (a subreaper's:
    what its kernel left running is reparented to it)."""
    me = os.getpid()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        if plain:
            try:
                with open(f"/proc/{name}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) != me:
                        continue
            except (OSError, ValueError, IndexError):
                continue
        found.append(int(name))
    return found


def remove(path: str) -> None:
    """Remove a file or a whole folder, whatever its permissions (the zygote has the same uid as what wrote it)."""
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, 0o700)
            for entry in os.scandir(path):
                remove(entry.path)
            os.rmdir(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass


def clear(folder: str, spared: set[str]) -> None:
    """Remove everything in `folder` but the spared paths and the folders on the way to them (cleared in turn)."""
    for entry in os.scandir(folder):
        if entry.path in spared:
            continue
        if entry.is_dir(follow_symlinks=False) and any(path.startswith(entry.path + "/") for path in spared):
            clear(entry.path, spared)
        else:
            remove(entry.path)


def mount_points() -> set[str]:
    """Every mount point of the sandbox: its runtime's read-only binds among them, which lie in /tmp where the
    course's checkout (and so its venv) does, and which sweeping must neither remove nor let a kernel move."""
    with open("/proc/self/mountinfo") as table:
        return {re.sub(r"\\([0-7]{3})", lambda code: chr(int(code.group(1), 8)), line.split()[4]) for line in table}


def own_state() -> dict:
    """What the zygote passes on to each kernel it forks that a kernel of the same uid could change in it: its resource
    limits (prlimit), priority (setpriority), scheduler and CPU affinity (sched_set*), and the hostname."""
    limits = {name: resource.getrlimit(getattr(resource, name)) for name in dir(resource) if name.startswith("RLIMIT_")}
    return {"resource limits": limits, "priority": os.getpriority(os.PRIO_PROCESS, 0),
            "scheduler": (os.sched_getscheduler(0), os.sched_getparam(0).sched_priority),
            "CPU affinity": sorted(os.sched_getaffinity(0)), "hostname": os.uname().nodename}


def changed_state() -> str:
    """How the zygote's own state differs from STATE ("" when it does not)."""
    now = own_state()
    changed = [name for name in STATE if now[name] != STATE[name]]
    return f"the zygote's own {', '.join(changed)} changed" if changed else ""


def identity(path: str) -> tuple[int, int]:
    found = os.stat(path, follow_symlinks=False)
    return found.st_dev, found.st_ino


def remove_ipc() -> None:
    """Remove every System V shared memory segment, message queue and semaphore set of the sandbox's IPC namespace."""
    for kind, control in (("shm", lambda ident: libc.shmctl(ident, IPC_RMID, None)),
                          ("msg", lambda ident: libc.msgctl(ident, IPC_RMID, None)),
                          ("sem", lambda ident: libc.semctl(ident, 0, IPC_RMID))):
        try:
            with open(f"/proc/sysvipc/{kind}") as table:
                lines = table.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            control(int(line.split()[1]))


def sweep(plain: bool, kept: dict[str, tuple[int, int]]) -> str:
    """After a kernel: kill whatever it left running and, in the sandbox, empty the places it could write to
    besides its working copy; what could not be cleaned ("" when all was)."""
    deadline = time.monotonic() + SWEEP_SECONDS
    while True:
        reap()
        left = others(plain)
        if not left:
            break
        if time.monotonic() > deadline:
            return f"{len(left)} process(es) could not be killed"
        for pid in left if plain else [-1]:  # -1: every process in the namespace but its init, the zygote
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.001)
    changed = changed_state()
    if changed:
        return changed
    if plain:
        return ""  # the kernel's own folders are the grader's to remove; /tmp is the machine's
    mounts = mount_points()
    if mounts != MOUNTS:
        return f"the sandbox's mounts changed ({', '.join(sorted(mounts ^ MOUNTS)[:3])})"
    try:
        for folder in EMPTIED:
            if os.path.isdir(folder):
                clear(folder, set(kept) | mounts)
        remove_ipc()
    except (OSError, RecursionError) as error:
        return f"the sandbox could not be emptied ({type(error).__name__}: {error})"
    for path, found in kept.items():
        try:
            if identity(path) != found:
                return f"{path} is not the folder it was"
        except OSError as error:
            return f"{path} is gone ({error})"
    for keyring in (KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING):
        keyctl(KEYCTL_CLEAR, keyring)
    return ""


def serve(control: Connection, plain: bool, kept: dict[str, tuple[int, int]]) -> None:
    """Answer the grader's requests, one kernel at a time, until it closes the channel."""
    kernel = pidfd = None
    while True:
        watched = [control.fileno()] + ([pidfd] if pidfd is not None else [])
        readable, _, _ = select.select(watched, [], [], 1.0)
        while True:  # reap orphans now and then (but not the kernel, whose end is seen through its pidfd)
            try:
                found = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                break
            if found is None or found.si_pid == kernel:
                break
            os.waitpid(found.si_pid, 0)
        if pidfd is not None and pidfd in readable:
            os.close(pidfd)
            left = sweep(plain, kept)
            send(control, {"exited": kernel, "clean": not left, "left": left})
            kernel = pidfd = None
            continue
        if control.fileno() not in readable:
            continue
        try:
            message = json.loads(control.recv_bytes(MAX_MESSAGE_FROM_GRADER))
        except (EOFError, OSError, ValueError):
            return  # the grader is gone: so is the sandbox (its init exits)
        if "launch" in message:
            if kernel is not None:
                send(control, {"refused": "a kernel is still running"})
                continue
            try:
                kernel, pidfd = fork_kernel(message["launch"], plain)
            except OSError as error:
                send(control, {"refused": f"the kernel could not be forked ({error})"})
                continue
            send(control, {"launched": kernel})
        elif "signal" in message:
            if pidfd is not None:
                try:
                    signal.pidfd_send_signal(pidfd, int(message["signal"]))
                except ProcessLookupError:
                    pass
        elif "ping" in message:
            send(control, {"idle": kernel is None})


def main(argv: list[str]) -> None:
    started = time.monotonic()
    mode, grader = argv[0], int(argv[1])
    kept = {os.path.normpath(path): identity(path) for path in argv[2:]}
    plain = mode == "plain"
    control = Connection(os.dup(0))
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)  # stderr stays: the grader keeps it, outside the sandbox, in case the zygote fails to start
    os.close(null)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    prctl(PR_SET_DUMPABLE, 0)
    if plain:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the grading process
        prctl(PR_SET_CHILD_SUBREAPER, 1)  # what a kernel leaves running is reparented to it, to be killed
        if os.getppid() != grader:
            return
    elif os.getpid() != 1:
        send(control, {"refused": "it is not the init of the sandbox's PID namespace (bwrap --as-pid-1)"})
        return
    missing = preload()
    if threads() != 1:
        send(control, {"refused": f"it has {threads()} threads after its imports: forking it would not be safe"})
        return
    if not hasattr(os, "pidfd_open"):
        send(control, {"refused": "this Python or Linux has no pidfd_open (Linux 5.3 and Python 3.9 are needed)"})
        return
    STATE.update(own_state())
    if not plain:
        MOUNTS.update(mount_points())
    left = sweep(plain, kept)  # nothing has run yet: this checks that it can
    if left:
        send(control, {"refused": left})
        return
    send(control, {"ready": {"seconds": round(time.monotonic() - started, 3), "modules": len(sys.modules), "missing": missing}})
    serve(control, plain, kept)


if __name__ == "__main__":
    main(sys.argv[1:])
