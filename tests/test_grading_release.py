"""The student release (`make student`): a course folder a learner can use, with no answers in it.

The checks of the release agree with the course's (tests/exercise_contract.py); here: what the
folder holds, that no solution's code is in any of its files, and that a leak writes nothing.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import shutil
import textwrap
import zipfile
from pathlib import Path

import nbformat
import pytest
import torch
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers.checks import EXERCISES
from helpers.environment import read_pins
from helpers.grading.__main__ import main
from helpers.grading.release import build, solution_needles
from helpers.grading.strip import ReleaseError, squeeze

REPO = Path(__file__).resolve().parent.parent


def course_solution_statements() -> set[str]:
    """Every computing statement of every solution: the notebooks' marked regions and the references' bodies."""
    references = []
    for exercise in EXERCISES.values():
        body = ast.parse(textwrap.dedent(inspect.getsource(exercise.reference))).body[0].body
        references.append([line for node in body if not isinstance(node, ast.Expr) for line in ast.unparse(node).splitlines()])
    return solution_needles(sorted((REPO / "notebooks").glob("*.ipynb")), references)


def readable_text(path: Path) -> str:
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        return "\n".join(cell.source + json.dumps(cell.get("outputs", []), ensure_ascii=False) for cell in nb.cells)
    return path.read_bytes().decode("utf-8", errors="replace")


def test_the_release_is_a_course_folder_a_learner_can_use(student_course):
    names = {str(p.relative_to(student_course)) for p in student_course.rglob("*") if p.is_file()}
    for needed in ("Makefile", "README.md", "requirements.txt", "environment.yml", "pyproject.toml",
                   "helpers/__init__.py", "helpers/checks/core.py", "helpers/checks/public_examples.pt",
                   "helpers/jupyterlab_settings.json", "notebooks/index.md", "notebooks/01_tensors.ipynb"):
        assert needed in names, needed
    assert (student_course / "Makefile").read_text() == (REPO / "lab.mk").read_text()
    assert not any(name.startswith("helpers/grading") or name == "helpers/notebooks.py" for name in names)
    if (REPO / "data").is_dir():
        assert {p.name for p in (student_course / "data").iterdir()} == {p.name for p in (REPO / "data").iterdir()}


def test_no_reference_solution_code_is_in_any_file_of_the_release(student_course):
    statements = course_solution_statements()
    assert "torch.randint(1,7,(n,))" in statements and "returntorch.randint(1,7,(n,))" in statements  # the search knows what to look for
    for path in (p for p in student_course.rglob("*") if p.is_file()):
        text = squeeze(readable_text(path))
        found = [s for s in statements if s in text]
        assert not found, f"{path.relative_to(student_course)} holds solution code: {found[:3]}"


def test_check_modules_keep_judges_but_not_references_hidden_case_generators_or_grader_only_code(student_course):
    for exercise in EXERCISES.values():
        source = (student_course / "helpers" / "checks" / f"nb{exercise.id[:2]}.py").read_text()
        functions = {node.name: node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}
        module = importlib.import_module(exercise.reference.__module__)
        grader_only = [value for value in vars(module).values() if getattr(value, "grader_only", False)]
        for function in (exercise.reference, exercise.hidden_cases, *grader_only):
            body = [n for n in functions[function.__name__].body
                    if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str))]
            assert len(body) == 1 and isinstance(body[0], ast.Expr) and body[0].value.value is Ellipsis, function.__name__
        assert exercise.judge.__name__ in functions


def test_shipped_examples_are_plain_data_for_every_exercise(student_course):
    shipped = torch.load(student_course / "helpers" / "checks" / "public_examples.pt", weights_only=True)
    assert sorted(shipped) == sorted(EXERCISES)
    for key, (cases, expected, derived) in shipped.items():
        assert len(cases) == len(expected) == len(EXERCISES[key].public_cases())
        assert all(len(results) == len(cases) for results in derived.values()), key
    assert sorted(shipped["08.3"][2]) == ["train_mistakes"]  # what 08.3's judge derives with grader-only code


def test_the_learners_environment_has_the_learners_packages_at_the_courses_versions(student_course):
    spec = yaml.safe_load((student_course / "environment.yml").read_text())
    pins = {dep.partition("=")[0]: dep.partition("=")[2] for dep in spec["dependencies"]}
    learner = read_pins(REPO / "requirements.txt")
    assert pins.pop("python") == "3.11" and pins.pop("pip") == ""
    assert pins == {("pytorch" if name == "torch" else name): version for name, version in learner.items()}


def test_the_zip_holds_the_same_files_under_the_folders_name(student_course):
    with zipfile.ZipFile(student_course.with_suffix(".zip")) as bundle:
        zipped = set(bundle.namelist())
    on_disk = {f"student/{p.relative_to(student_course)}" for p in student_course.rglob("*") if p.is_file()}
    assert zipped == on_disk


def test_a_solution_shown_in_another_notebook_refuses_the_release_and_writes_nothing(tmp_path, capsys):
    notebooks = tmp_path / "notebooks"
    shutil.copytree(REPO / "notebooks", notebooks)
    nbformat.write(new_notebook(cells=[new_markdown_cell("# 99 · Spoiler"),
                                       new_code_cell("# the answer to 01.4:\nreturn low + (high - low) * torch.rand(n)")]),
                   notebooks / "99_spoiler.ipynb")
    assert main(["release", "--notebooks", str(notebooks), "--out", str(tmp_path / "out")]) == 1
    assert "99_spoiler.ipynb" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.zip").exists()


def test_an_existing_folder_that_is_not_a_release_is_never_replaced(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.tex").write_text("years of work")
    with pytest.raises(ReleaseError, match="not an earlier student release"):
        build(tmp_path / "out")
    assert (tmp_path / "out" / "thesis.tex").read_text() == "years of work"


def test_releasing_again_replaces_an_earlier_release(tmp_path, student_course):
    shutil.copytree(student_course, tmp_path / "out")  # the release this test run built once, as last term's
    (tmp_path / "out" / "stale.txt").write_text("from last term")
    build(tmp_path / "out")
    assert not (tmp_path / "out" / "stale.txt").exists()
    assert (tmp_path / "out" / "helpers" / "checks" / "public_examples.pt").is_file()
