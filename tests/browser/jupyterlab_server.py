"""One JupyterLab server for the browser tests: isolated, on 127.0.0.1, over a copy of the course.

Why a copy: JupyterLab autosaves, and running a notebook would rewrite the sources with new
outputs. Why isolated directories: the learner's own JupyterLab settings, workspaces or running
servers must neither change what the test sees nor be changed by it.

Every process the server starts (it, and each kernel it launches in a session of its own) is
ended by `JupyterLabServer.stop`, which the context manager calls even when the test failed.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from helpers.notebooks import IPC_KERNELS_ARGUMENT

# Windowing off keeps every cell in the DOM, so each cell's prompt, outputs and screenshot are there
# to read (JupyterLab 4 may virtualise them). The news and update prompt is turned off by the
# settings the course ships (helpers/jupyterlab_settings.json, installed by make), as a learner gets it.
USER_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (children, grandchildren, ...), read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def is_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class JupyterLabServer:
    """A `jupyter lab` process serving `root`, with its own config, runtime, settings and workspaces.

    Use as a context manager: entering starts it and waits until it answers, leaving ends it and
    every kernel it started. `url(path)` gives an address with the token.
    """

    def __init__(self, root: Path, state_dir: Path, jupyter: Path, start_timeout: float = 120):
        self.root, self.state_dir, self.jupyter = root, state_dir, jupyter
        self.start_timeout = start_timeout
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.process: subprocess.Popen | None = None
        self.pids: set[int] = set()  # every process seen below the server, ended at stop
        self.log_path = state_dir / "jupyterlab.log"
        # Kernel sockets live in the runtime folder: a short path of its own, since a Unix socket's
        # path may not exceed 107 bytes (a pytest tmp_path and `kernel-<uuid>-ipc-N` together do).
        self.runtime_dir = Path(tempfile.mkdtemp(prefix="lab-"))

    def url(self, path: str = "") -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{sep}token={self.token}"

    def environment(self) -> dict[str, str]:
        """The server's environment: isolated Jupyter directories, and the settings above."""
        dirs = {name: self.state_dir / name for name in ("config", "settings", "workspaces")} | {"runtime": self.runtime_dir}
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        for filename, values in USER_SETTINGS.items():
            plugin_dir, _, file = filename.rpartition("/")
            target = dirs["settings"] / plugin_dir
            target.mkdir(parents=True, exist_ok=True)
            (target / file).write_text(json.dumps(values))
        env = dict(os.environ)
        env.update(
            JUPYTER_CONFIG_DIR=str(dirs["config"]),
            JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
            JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
            JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
            JUPYTER_PLATFORM_DIRS="1",
        )
        env.pop("MPLBACKEND", None)  # it would reach the kernel and turn inline plots off
        return env

    def start(self) -> None:
        command = [
            str(self.jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
            "--port-retries=0", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}", IPC_KERNELS_ARGUMENT,
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        log = self.log_path.open("w")
        # A session of its own: stop() can signal the whole group, whatever happens to the test.
        self.process = subprocess.Popen(
            command, cwd=self.root, env=self.environment(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        raise RuntimeError(f"jupyter lab did not answer within {self.start_timeout:.0f} s:\n{self.log_tail()}")

    def remember_children(self) -> None:
        """Note every process below the server now (kernels run in sessions of their own)."""
        if self.process is not None:
            self.pids.update(descendants(self.process.pid))

    def shutdown_kernels(self) -> None:
        """End every running kernel now, so that one per notebook does not pile up until the end."""
        with urllib.request.urlopen(self.url("api/kernels"), timeout=30) as response:
            kernels = json.load(response)
        for kernel in kernels:
            request = urllib.request.Request(self.url(f"api/kernels/{kernel['id']}"), method="DELETE")
            urllib.request.urlopen(request, timeout=60).close()

    def stop(self) -> None:
        """Shut the server down politely, then signal whatever is left of it and its kernels; remove its runtime folder."""
        try:
            self.end_processes()
        finally:
            shutil.rmtree(self.runtime_dir, ignore_errors=True)

    def end_processes(self) -> None:
        """Shut the server down politely, then signal whatever is left of it and its kernels."""
        if self.process is None:
            return
        self.remember_children()
        if self.process.poll() is None:
            try:
                request = urllib.request.Request(self.url("api/shutdown"), method="POST")
                urllib.request.urlopen(request, timeout=10).close()
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in [self.process.pid, *self.pids]:
                try:
                    os.killpg(pid, sig) if pid == self.process.pid else os.kill(pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and any(is_alive(p) for p in self.pids):
                time.sleep(0.1)
            if self.process.poll() is None:
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    continue
            if not any(is_alive(p) for p in self.pids):
                break

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> "JupyterLabServer":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def venv_jupyter() -> Path:
    """The `jupyter` next to the running Python: the server and its kernels use this venv."""
    return Path(sys.executable).with_name("jupyter")
