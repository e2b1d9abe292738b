"""The JupyterLab server the browser tests start: its kernels talk over IPC, and it leaves no process behind, neither it nor a kernel."""

from __future__ import annotations

import json
import urllib.request

from jupyterlab_server import JupyterLabServer, descendants, is_alive, venv_jupyter


def test_stopping_the_server_ends_it_and_its_kernels(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "state").mkdir()
    with JupyterLabServer(tmp_path / "root", tmp_path / "state", venv_jupyter()) as server:
        request = urllib.request.Request(server.url("api/kernels"), data=json.dumps({"name": "python3"}).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=60).close()
        pids = [server.process.pid, *descendants(server.process.pid)]
        assert len(pids) >= 2, "the kernel process should be running below the server"
    assert [pid for pid in pids if is_alive(pid)] == []


def test_the_servers_kernels_talk_over_ipc_with_sockets_in_its_runtime_folder(tmp_path):
    """Over TCP a kernel's port can be taken by another process before the kernel binds it (helpers.notebooks.IpcConnection)."""
    (tmp_path / "root").mkdir()
    (tmp_path / "state").mkdir()
    with JupyterLabServer(tmp_path / "root", tmp_path / "state", venv_jupyter()) as server:
        request = urllib.request.Request(server.url("api/kernels"), data=json.dumps({"name": "python3"}).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as reply:
            kernel_id = json.load(reply)["id"]
        connection = json.loads((server.runtime_dir / f"kernel-{kernel_id}.json").read_text())
        assert connection["transport"] == "ipc"
        assert connection["ip"] == str(server.runtime_dir / f"kernel-{kernel_id}-ipc")
    assert not server.runtime_dir.exists()
