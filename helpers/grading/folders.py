"""The grader's folders that a kernel can write in: where a kernel's Unix sockets go, and how such a folder is emptied or
removed whatever the kernel left there (links never followed, permissions taken away, trees of any depth)."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

SOCKET_PATH_BYTES = 107  # at most, in a Unix socket's address


def holds_sockets(folder: Path | str) -> bool:
    """Whether the Unix sockets of a kernel, in a new folder made in `folder` (see `socket_folder`), have paths
    short enough for a socket's address."""
    return len(str(folder)) + len("/k-12345678/ipc-10") <= SOCKET_PATH_BYTES


def socket_folder(near: Path) -> Path:
    """A new folder for one kernel's connection file and Unix sockets: in `near` (a slot's rw folder, emptied after
    each notebook and removed with the slot even when its process is killed), or in /tmp where that path is too long for
    a socket."""
    for parent in (near, Path("/tmp")):
        if holds_sockets(parent):
            return Path(tempfile.mkdtemp(prefix="k-", dir=parent))
    raise ValueError(f"{near} is too long a path for the kernel's Unix sockets, and /tmp is not there")


def remove_tree(path: Path | str) -> None:
    """Remove `path` and what a kernel may have left in it: links removed, never followed; folders it made
    unreadable or unwritable; a tree of any depth (each folder's entries are moved up into `path` before the
    folder is removed, so neither recursion nor path length grows with depth). OSError if something stays."""
    try:
        os.unlink(path)  # a file or a link (never followed)
        return
    except FileNotFoundError:
        return
    except (IsADirectoryError, PermissionError):  # Linux says EISDIR for a folder, POSIX allows EPERM
        pass
    top = open_folder(path)
    try:
        while names := os.listdir(top):
            for name in names:
                try:
                    os.unlink(name, dir_fd=top)
                except (IsADirectoryError, PermissionError):
                    folder = open_folder(name, top)
                    try:
                        for entry in os.listdir(folder):
                            os.rename(entry, uuid.uuid4().hex, src_dir_fd=folder, dst_dir_fd=top)
                    finally:
                        os.close(folder)
                    os.rmdir(name, dir_fd=top)
    finally:
        os.close(top)
    os.rmdir(path)


def open_folder(path: Path | str, dir_fd: int | None = None) -> int:
    """A readable descriptor of the folder `path` (in `dir_fd`), never through a link, made readable and
    writable for its owner first (a kernel may have taken its permissions away); OSError if it is no folder."""
    handle = os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
    try:
        os.chmod(f"/proc/self/fd/{handle}", 0o700)  # that folder itself, whatever its name now leads to
        return os.open(f"/proc/self/fd/{handle}", os.O_RDONLY | os.O_DIRECTORY)
    finally:
        os.close(handle)


def empty(folder: Path, trash: Path) -> None:
    """Take everything out of `folder` (a mount point of the sandbox, which stays): each entry is first renamed
    into `trash` (outside the sandbox, so gone from it at once, however deep), then removed. OSError if it cannot."""
    os.chmod(folder, 0o700)  # the kernel may have taken its permissions away
    trash.mkdir(exist_ok=True)
    for entry in os.scandir(folder):
        os.rename(entry.path, trash / f"{uuid.uuid4().hex}")
    remove_tree(trash)

