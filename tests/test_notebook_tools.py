"""helpers.notebooks: navigation text and cells, the index, and storing outputs as nbval sees them."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_core.paths import jupyter_runtime_dir

from helpers.notebooks import (
    NAV_MARK,
    AsyncIpcKernelManager,
    IpcKernelManager,
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
