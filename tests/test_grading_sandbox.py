"""The grading kernel: limited, seeded, without the secret or the reference solutions."""

from __future__ import annotations

import asyncio
import json

import torch

from helpers.grading.cases import SECRET_VARIABLE
from helpers.grading.sandbox import Limits, Session

PROBE = """
import json, os, resource, sys, torch
facts = {
    "memory": resource.getrlimit(resource.RLIMIT_AS)[0],
    "file_size": resource.getrlimit(resource.RLIMIT_FSIZE)[0],
    "environment": dict(os.environ),
    "no_site": sys.flags.no_site,
    "first_random": torch.rand(1).item(),
    "x": x,
}
try:
    import helpers.checks.nb01
    facts["references"] = True
except ImportError:
    facts["references"] = False
open(OUT, "w").write(json.dumps(facts))
"""


def test_a_cell_error_is_recorded_and_the_kernel_is_limited_seeded_and_has_no_secret(tmp_path, monkeypatch):
    monkeypatch.setenv(SECRET_VARIABLE, "sandbox-secret")
    workdir = tmp_path / "notebooks"
    workdir.mkdir()
    out = tmp_path / "facts.json"
    cells = ["x = 1", "1 / 0", "x += 1", f"OUT = {str(out)!r}\n" + PROBE]
    limits = Limits(cell_timeout=60, notebook_timeout=120, memory_bytes=2 * 2**30)
    run = asyncio.run(Session(cells, workdir, tmp_path, limits).execute(lambda: []))
    assert [(f.where, f.kind) for f in run.faults] == [("code cell 2", "error")]
    assert "ZeroDivisionError" in run.faults[0].message
    facts = json.loads(out.read_text())
    assert facts["x"] == 2  # the cells after the error ran
    assert facts["memory"] == limits.memory_bytes and facts["file_size"] == limits.file_bytes
    assert SECRET_VARIABLE not in facts["environment"] and "sandbox-secret" not in json.dumps(facts)
    assert facts["no_site"] and facts["references"] is False
    torch.manual_seed(0)
    assert facts["first_random"] == torch.rand(1).item()  # the kernel was seeded before the student's cells


def test_a_print_flood_is_stopped_in_the_kernel_even_under_except_exception_and_the_rest_still_runs(tmp_path):
    workdir = tmp_path / "notebooks"
    workdir.mkdir()
    out = tmp_path / "after.txt"
    flood = "try:\n    while True:\n        print('x' * 100_000)\nexcept Exception:\n    pass"
    cells = [flood, f"print('small')\nopen({str(out)!r}, 'w').write('ran')"]
    limits = Limits(cell_timeout=60, notebook_timeout=120, memory_bytes=2 * 2**30, output_bytes=2**20)
    run = asyncio.run(Session(cells, workdir, tmp_path, limits).execute(lambda: []))
    assert [(f.where, f.kind) for f in run.faults] == [("code cell 1", "output")]
    assert run.attempts == 1 and run.skipped == []  # the kernel stayed healthy: no rerun
    assert out.read_text() == "ran"  # and the next cell may print again
