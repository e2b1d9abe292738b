"""requirements.txt and environment.yml pin the same exact versions; CI runs the README's command."""

import re
from pathlib import Path

import yaml

from helpers.environment import read_pins

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"torch": "pytorch"}  # PyPI name -> conda-forge name, where they differ


def conda_pins() -> dict[str, str]:
    spec = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pins = {}
    for dep in spec["dependencies"]:
        assert isinstance(dep, str), "environment.yml takes its packages from conda-forge, not a pip: section"
        name, _, version = dep.partition("=")
        pins[name.lower()] = version
    return pins


def test_every_requirement_is_an_exact_pin():
    lines = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    lines = [line for line in lines if line]
    assert lines and all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[\w.]+", line) for line in lines), lines
    assert len(read_pins(ROOT / "requirements.txt")) == len(lines)


def test_torch_is_pinned_to_the_courses_release():
    assert read_pins(ROOT / "requirements.txt")["torch"] == "2.13.0"


def test_environment_yml_pins_the_same_versions_as_requirements():
    pip_pins = {CONDA_NAMES.get(name, name): version for name, version in read_pins(ROOT / "requirements.txt").items()}
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
