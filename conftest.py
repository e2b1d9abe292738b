"""Loaded by every pytest run in the repository (unit tests, `make test-notebooks`, the browser tests):
nbval starts its kernels over IPC, never TCP (helpers.notebooks.IpcConnection says why)."""

from helpers.notebooks import nbval_starts_ipc_kernels


def pytest_configure(config):
    nbval_starts_ipc_kernels()
