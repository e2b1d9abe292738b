"""The grader's client of a kernel: ZeroMQ sockets that refuse huge messages, a kernel manager that starts the kernel
through `launcher` (in the sandbox), and a notebook client that keeps no output (it counts it, and kills a kernel
that floods past the cap)."""

from __future__ import annotations

import atexit
import os
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Callable

import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from traitlets import Type, default

from helpers.grading import bwrap

MAX_PART_FROM_KERNEL = 16 * 2**20  # a part of a message from a kernel (a cell's whole output is capped at Limits.output_bytes)


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

    @asynccontextmanager
    async def async_setup_kernel(self, **kwargs):
        """nbclient's, but leaving nothing for interpreter exit. nbclient registers its kernel cleanup with `atexit`
        before it starts the kernel, and removes it only once a started kernel's block ends: a kernel that never
        answered (the launcher refused it, it died at start-up) left the cleanup behind, with no kernel manager, to fail
        at exit (an AssertionError in nbclient) and to hold this client until then. Here the cleanup is removed in any
        case, and a kernel that was started but never answered is stopped now, not at exit."""
        try:
            async with super().async_setup_kernel(**kwargs):
                yield
        finally:
            atexit.unregister(self._cleanup_kernel)
            if self.km is not None and self.kc is None:  # started, never connected: nbclient did not clean up after it
                await self._async_cleanup_kernel()
