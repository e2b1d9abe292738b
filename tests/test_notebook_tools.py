"""helpers.notebooks: navigation text and cells, the index, and storing outputs as nbval sees them."""

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session
from jupyter_core.paths import jupyter_runtime_dir

from helpers.notebooks import (
    NAV_MARK,
    AsyncIpcKernelManager,
    IpcKernelManager,
    IpcNotebookClient,
    SlicedPollChannel,
    SlicedPollClient,
    course_notebooks,
    execute,
    index_page,
    is_navigation,
    navigation_text,
    notebook_title,
    with_navigation,
)

REPO = Path(__file__).resolve().parent.parent
TITLES = {"00_a.ipynb": "00 · A", "01_b.ipynb": "01 · B", "02_c.ipynb": "02 · C"}


def test_first_notebook_links_contents_and_next_only():
    assert navigation_text(TITLES, "00_a.ipynb") == f"{NAV_MARK}\n[Contents](index.md) | [01 · B →](01_b.ipynb)"


def test_middle_notebook_links_previous_contents_and_next():
    assert navigation_text(TITLES, "01_b.ipynb").endswith("[← 00 · A](00_a.ipynb) | [Contents](index.md) | [02 · C →](02_c.ipynb)")


def test_last_notebook_has_no_next_link():
    assert navigation_text(TITLES, "02_c.ipynb").endswith("[← 01 · B](01_b.ipynb) | [Contents](index.md)")


def test_with_navigation_replaces_old_links_and_is_idempotent():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 01 · B"), nbformat.v4.new_code_cell("x = 1")]
    once = with_navigation(nb, navigation_text(TITLES, "01_b.ipynb"))
    twice = with_navigation(once, navigation_text(TITLES, "01_b.ipynb"))
    assert [c.source for c in twice.cells] == [c.source for c in once.cells]
    assert len(twice.cells) == 4 and is_navigation(twice.cells[0]) and is_navigation(twice.cells[-1])
    assert notebook_title(twice) == "01 · B"


def test_index_links_each_notebook_in_order_with_its_full_file_name():
    text = index_page(TITLES)
    assert "1. [00 · A](00_a.ipynb) · `00_a.ipynb`\n2. [01 · B](01_b.ipynb) · `01_b.ipynb`\n3. [02 · C](02_c.ipynb) · `02_c.ipynb`" in text


def test_course_notebooks_are_the_numbered_ones_in_order(tmp_path):
    for name in ("01_b.ipynb", "index.ipynb", "00_a.ipynb", "scratch.ipynb"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in course_notebooks(tmp_path)] == ["00_a.ipynb", "01_b.ipynb"]


def test_execute_stores_widget_output_in_the_cell_like_nbval(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        "import ipywidgets as w\nexplorer = w.interact(lambda n=1: print('n is', n), n=w.IntSlider(1, 0, 5))")]
    path = tmp_path / "w.ipynb"
    nbformat.write(nb, path)
    execute(path)
    outputs = nbformat.read(path, as_version=4).cells[0].outputs
    assert any(o.get("text") == "n is 1\n" for o in outputs)
    assert "execution" not in nbformat.read(path, as_version=4).cells[0].metadata


TRANSPORT_NOTEBOOK = Path(__file__).parent / "fixtures" / "kernel_transport.ipynb"  # prints its kernel's transport; stored: ipc


def test_nbval_starts_its_kernels_over_ipc():
    """The repository's conftest.py makes nbval's kernels talk over Unix sockets: no TCP port to lose to another process."""
    run = subprocess.run([sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-n", "0", "-q", "-p", "no:cacheprovider",
                          str(TRANSPORT_NOTEBOOK)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout[-3000:]


def test_execute_starts_its_kernel_over_ipc(tmp_path):
    nb = nbformat.read(TRANSPORT_NOTEBOOK, as_version=4)
    nb.cells[-1].outputs = []
    path = tmp_path / "transport.ipynb"
    nbformat.write(nb, path)
    execute(path)
    assert nbformat.read(path, as_version=4).cells[-1].outputs[0]["text"] == "ipc\n"


def test_ipc_kernels_have_absolute_socket_names_of_their_own():
    """jupyter_client's own IPC default, `kernel-ipc-N` in the current folder, would be shared by two kernels."""
    first, second = IpcKernelManager(kernel_name="python3"), AsyncIpcKernelManager(kernel_name="python3")
    assert first.transport == second.transport == "ipc"
    assert Path(first.ip).is_absolute() and Path(second.ip).is_absolute() and first.ip != second.ip
    assert Path(first.connection_file).parent == Path(jupyter_runtime_dir())


def test_a_runtime_folder_too_long_for_socket_names_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / ("x" * 80)))
    with pytest.raises(ValueError, match="too long a path for the kernel's sockets"):
        IpcKernelManager(kernel_name="python3").connection_file  # noqa: B018 - its default is where the check is


def lost_edge_pair():
    """Two connected zmq.asyncio PAIR sockets, and a function that sends on the first and then consumes the
    second's edge-triggered wake-up (reading its state, as another user of the socket can), so that only a
    poll that looks again finds the message."""
    context = zmq.asyncio.Context()
    sender, receiver = context.socket(zmq.PAIR), context.socket(zmq.PAIR)
    receiver.bind(f"inproc://lost-edge-{id(receiver)}")
    sender.connect(f"inproc://lost-edge-{id(receiver)}")

    def send_and_lose_the_edge(frames: list[bytes]) -> None:
        zmq.Socket.shadow(sender.underlying).send_multipart(frames)
        time.sleep(0.05)  # the message reaches the receiver's queue
        zmq.Socket.shadow(receiver.underlying).get(zmq.EVENTS)

    return context, receiver, send_and_lose_the_edge


def test_a_channel_finds_a_message_whose_wake_up_was_lost_within_a_slice():
    """zmq.asyncio wakes a waiting poll on an edge; lost, jupyter_client's channel waits its whole timeout for a message
    that is there (nbclient: 600 s). SlicedPollChannel looks again every POLL_SLICE_S."""
    session = Session()

    async def wait_for_message(channel_class) -> float:
        context, receiver, send_and_lose_the_edge = lost_edge_pair()
        channel = channel_class(receiver, session)
        waiting = asyncio.ensure_future(channel.get_msg(timeout=3))
        await asyncio.sleep(0.05)  # the wait has begun
        started = time.monotonic()
        send_and_lose_the_edge(session.serialize(session.msg("execute_reply", content={"status": "ok"})))
        message = await waiting
        assert message["content"] == {"status": "ok"}
        context.destroy(linger=0)
        return time.monotonic() - started

    assert asyncio.run(wait_for_message(AsyncZMQSocketChannel)) > 2  # the mechanism, with jupyter_client's own channel
    assert asyncio.run(wait_for_message(SlicedPollChannel)) < 1


def test_nbclient_kernels_are_clients_that_wait_in_slices():
    assert isinstance(AsyncIpcKernelManager(kernel_name="python3").client(), SlicedPollClient)


def test_stopping_an_idle_kernel_sends_it_no_interrupt():
    """jupyter_client interrupts a kernel before asking it to shut down; an idle ipykernel logs that as an ERROR."""
    manager = IpcKernelManager(kernel_name="python3")
    manager.start_kernel()
    signals = []
    sent = manager._async_signal_kernel

    async def record(signum):
        signals.append(signum)
        await sent(signum)

    manager._async_signal_kernel = record
    try:
        client = manager.client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        client.stop_channels()
    finally:
        manager.shutdown_kernel()
    assert not manager.is_alive()
    assert signal.SIGINT not in signals


def test_a_kernel_handles_what_its_client_sent_before_it_is_shut_down(tmp_path):
    """nbclient's Output widget stand-in sends comm messages the busy kernel queues; a shutdown request that
    overtakes them makes ipykernel log errors ("Got events for closed stream", or a failed reply)."""
    client = IpcNotebookClient(nbformat.v4.new_notebook(), kernel_name="python3")
    log_path = tmp_path / "kernel.log"

    async def busy_kernel_with_a_queue():
        with log_path.open("wb") as log:
            async with client.async_setup_kernel(stderr=log):
                client.kc.execute("import time; time.sleep(0.5)")
                for _ in range(200):
                    client.kc.shell_channel.send(client.kc.session.msg("comm_msg", {"comm_id": "none", "data": {}}))

    asyncio.run(busy_kernel_with_a_queue())
    assert log_path.read_text() == ""
