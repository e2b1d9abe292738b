"""setup() seeds and picks a device; the environment report compares pins with what is installed."""

import random

import numpy as np
import torch

from helpers.environment import EnvironmentReport, PackageRow, environment_report, public_version, read_pins, setup


def test_setup_makes_every_generator_repeat():
    setup(seed=3)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    setup(seed=3)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


def test_setup_returns_a_torch_device_this_machine_has():
    device = setup(seed=0)
    assert isinstance(device, torch.device)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if expected == "cpu" and torch.backends.mps.is_available():
        expected = "mps"
    assert device.type == expected


def test_public_version_drops_the_build_tag():
    assert public_version("2.13.0+cpu") == "2.13.0"
    assert public_version("2.4.6") == "2.4.6"


def test_read_pins_takes_exact_pins_and_skips_comments(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("# comment\ntorch==2.13.0  # the course's\nNumPy==2.4.6\nloose>=1\n\n")
    assert read_pins(path) == {"torch": "2.13.0", "numpy": "2.4.6"}


def test_report_names_a_one_line_fix_for_each_mismatch(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_text("torch==2.13.0\nnumpy==0.0.1\nnot-a-real-package-xyz==1.0\n")
    report = environment_report(path)
    rows = {row.name: row for row in report.packages}
    assert rows["torch"].ok and rows["torch"].fix == ""
    assert not rows["numpy"].ok and rows["numpy"].fix == 'pip install "numpy==0.0.1"'
    assert rows["not-a-real-package-xyz"].installed is None
    assert not report.ok
    text = str(report)
    assert "✗  numpy" in text and 'pip install "numpy==0.0.1"' in text and "missing" in text
    assert "run each command in the fix column" in text and text.splitlines()[-len(rows) - 3].rstrip().endswith("fix")


def test_report_lists_python_torch_and_accelerators():
    report = environment_report()
    for key in ("Python", "torch", "CUDA", "MPS (Apple GPU)", "CPU threads", "device setup() picks"):
        assert key in report.facts
    assert report.ok, str(report)  # the test environment is the pinned one


def test_report_checks_the_learners_packages_only():
    """A learner who installed requirements.txt alone gets True: test tools are not asked for."""
    names = {row.name for row in environment_report().packages}
    assert "torch" in names and "ipywidgets" in names
    assert not names & {"pytest", "nbval", "playwright", "nbclient", "tqdm"}


def test_report_renders_html_with_escaped_text():
    report = EnvironmentReport({"a<b": "c"}, [PackageRow("x", "1", None)])
    html = report._repr_html_()
    assert "a&lt;b" in html and "missing" in html and "the fix column" in html


def test_a_package_that_matches_has_an_empty_fix_cell_not_an_empty_code_box():
    html = EnvironmentReport({"a": "b"}, [PackageRow("torch", "2.13.0", "2.13.0+cpu")])._repr_html_()
    assert "<code></code>" not in html and "<td style='text-align:left'></td>" in html


def test_make_test_gpu_refuses_at_once_on_a_machine_without_cuda():
    """It must never pass by skipping everything: without CUDA it exits 1 before running anything."""
    import subprocess
    import sys
    from pathlib import Path

    import pytest

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU: make test-gpu runs the suite here")
    repo = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-m", "helpers.environment"], cwd=repo, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "make test-gpu needs a CUDA GPU" in result.stderr and "CPU-only build" in result.stderr
    assert "RuntimeWarning" not in result.stderr, result.stderr
    planned = subprocess.run(["make", "--no-print-directory", "-n", "-o", ".venv/.installed-dev", "test-gpu"], cwd=repo, capture_output=True, text=True,
                             timeout=60, check=True).stdout.splitlines()  # what it would run, set-up left out
    assert planned[0].endswith(" -m helpers.environment"), "the check must come first: " + "; ".join(planned)
