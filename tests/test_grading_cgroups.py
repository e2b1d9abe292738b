"""The per-kernel cgroup's arithmetic, on fake cgroup folders (no cgroup, no kernel): see tests/test_grading_os.py for real ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.grading.cgroups import Group

MiB = 2**20
FILES = {  # layout: (usage file, limit file, the page cache's and the tmpfs pages' lines in memory.stat)
    "v1": ("memory.usage_in_bytes", "memory.limit_in_bytes", "total_cache", "total_shmem"),
    "v2": ("memory.current", "memory.max", "file", "shmem"),
}


def fake_group(folder: Path, layout: str, usage: int, cache: int, tmpfs: int = 0) -> Group:
    """A group of `layout` whose processes use `usage` bytes, `cache` of them page cache (`tmpfs` of that in tmpfs files)."""
    usage_file, limit_file, cache_line, tmpfs_line = FILES[layout]
    (folder / usage_file).write_text(f"{usage}\n")
    (folder / limit_file).write_text("max\n" if layout == "v2" else f"{2**63}\n")
    (folder / "memory.stat").write_text(f"anon {usage - cache}\n{cache_line} {cache}\n{tmpfs_line} {tmpfs}\n")
    return Group(layout, {"memory": folder, "pids": folder})


@pytest.mark.parametrize("layout", sorted(FILES))
def test_a_kernels_room_leaves_out_the_page_cache_its_zygote_happened_to_charge(tmp_path, layout):
    group = fake_group(tmp_path, layout, usage=900 * MiB, cache=600 * MiB)
    group.make_room(2048 * MiB)
    assert group.memory_limit() == 300 * MiB + 2048 * MiB  # cache counted, the kernel could hold 2048 + 600 MiB


@pytest.mark.parametrize("layout", sorted(FILES))
def test_with_no_page_cache_charged_a_kernels_room_is_what_the_group_holds_plus_the_limit(tmp_path, layout):
    group = fake_group(tmp_path, layout, usage=350 * MiB, cache=0)
    group.make_room(2048 * MiB)
    assert group.memory_limit() == 350 * MiB + 2048 * MiB


@pytest.mark.parametrize("layout", sorted(FILES))
def test_tmpfs_pages_count_as_held_since_without_swap_they_cannot_be_reclaimed(tmp_path, layout):
    group = fake_group(tmp_path, layout, usage=900 * MiB, cache=600 * MiB, tmpfs=50 * MiB)
    group.make_room(2048 * MiB)
    assert group.memory_limit() == 350 * MiB + 2048 * MiB
