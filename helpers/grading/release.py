"""The student release: a course folder a learner can use on its own, with no answers in it.

    python -m helpers.grading release --out dist/student     (make student; also writes dist/student.zip)

It holds the stripped notebooks (`strip`), data/, requirements.txt, an environment.yml with the
learner's packages, lab.mk as its Makefile (`make lab` does all set-up), a README for learners, and
the answer-free `helpers` (`answer_free`: no grader, every reference solution's, hidden-case
generator's and grader-only function's body `...`, the public cases' expected results shipped as
data), the copy a graded kernel imports too.
Before anything is written, every file is searched for every solution (the notebooks' solution
regions and the references' bodies, each whole and each of its distinctive lines, whitespace-free;
see `strip.leak_needles`): a hit writes nothing.
"""

from __future__ import annotations

import html
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import nbformat
import yaml

from helpers.checks import SHIPPED_EXAMPLES
from helpers.grading.answer_free import strip_checks, write_answer_free_helpers
from helpers.grading.strip import ReleaseError, leak_needles, squeeze, strings_in, strip_solutions, strip_source
from helpers.notebooks import INDEX

REPO = Path(__file__).resolve().parent.parent.parent
README = Path(__file__).with_name("student_readme.md")
LEARNER_FILES = ("requirements.txt", "pyproject.toml", "helpers/jupyterlab_settings.json")


def notebook_solutions(nb: nbformat.NotebookNode) -> list[list[str]]:
    """The lines of each `# BEGIN SOLUTION` / `# END SOLUTION` region of a notebook."""
    return [region for cell in nb.cells if cell.cell_type == "code" for region in strip_source(cell.source)[1]]


def solution_needles(notebooks: list[Path], references: list[list[str]]) -> set[str]:
    """What the leak search looks for: the notebooks' solution regions and the references' bodies
    (strip.leak_needles; what the released notebooks' cells show is taught)."""
    solved = [nbformat.read(path, as_version=4) for path in notebooks]
    regions = [region for nb in solved for region in notebook_solutions(nb)]
    taught = "\n".join(strip_source(cell.source)[0] for nb in solved for cell in nb.cells)
    return leak_needles(regions + references, taught)


HTML_TAG = re.compile(r"<[^>]*>")


def searchable_text(path: Path) -> str:
    """A file's text as a learner could read it (a notebook's sources and outputs, not its JSON escapes)."""
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        return "\n".join(s for cell in nb.cells for s in [cell.source, *strings_in(cell.get("outputs", []))])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return path.read_bytes().decode("latin-1")  # a binary file: its readable bytes
    if path.suffix == ".html":  # code is split by highlighting tags and escaped (&lt;): its text as shown, too
        return text + "\n" + html.unescape(HTML_TAG.sub("", text))
    return text


def release_statements(notebooks: list[Path]) -> set[str]:
    """What the release's leak search looks for (solution_needles) when it is run over another folder
    made from these notebooks, such as the course's website (helpers/book.py)."""
    with tempfile.TemporaryDirectory(prefix="checks-") as tmp:
        checks = Path(tmp) / "checks"
        shutil.copytree(REPO / "helpers" / "checks", checks, ignore=shutil.ignore_patterns("__pycache__"))
        return solution_needles(notebooks, strip_checks(checks))


def leaks(folder: Path, statements: set[str]) -> list[str]:
    """`file: statement` for each solution statement found in a file of `folder`."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = squeeze(searchable_text(path))
        found += [f"{path.relative_to(folder)}: {piece}" for piece in sorted(statements) if piece in text]
    return found


def publish(staged: Path, out: Path, statements: set[str], what: str) -> None:
    """Move `staged` to `out` (replacing an earlier one there) only when the leak search finds none of `statements`
    in it; else ReleaseError, and nothing is written. The release and the website are published this way."""
    found = leaks(staged, statements)
    if found:
        raise ReleaseError(f"solution code would leak into {what}: " + "; ".join(found[:5]))
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(staged), out)


def learner_environment(course_yml: Path, requirements: Path) -> str:
    """environment.yml for learners: python, pip and the packages of requirements.txt, at the course's versions."""
    from helpers.environment import read_pins

    spec = yaml.safe_load(course_yml.read_text(encoding="utf-8"))
    learner = set(read_pins(requirements)) | {"pytorch", "python", "pip"}
    keep = [dep for dep in spec["dependencies"] if dep.partition("=")[0].lower() in learner]
    lines = ["# conda (conda-forge) environment with the versions of requirements.txt.",
             "#   conda env create -f environment.yml && conda activate pytorch-first-principles",
             "#   pip install --no-deps -e .   then   jupyter lab notebooks",
             f"name: {spec['name']}", "channels:", *(f"  - {c}" for c in spec["channels"]), "dependencies:",
             *(f"  - {dep}" for dep in keep)]
    return "\n".join(lines) + "\n"


def build(out: Path, notebooks_dir: Path = REPO / "notebooks", repo: Path = REPO) -> Path:
    """Write the student course to `out` and `out`.zip; return the zip's path.

    It is assembled in a temporary folder and moved into place only when no solution leaks. An
    existing `out` is replaced only when it is empty or an earlier student release.
    """
    if out.exists() and any(out.iterdir()) and not (out / "helpers" / "checks" / SHIPPED_EXAMPLES.name).is_file():
        raise ReleaseError(f"--out {out} exists and is not an earlier student release; choose a new or empty folder")
    notebooks = sorted(notebooks_dir.glob("*.ipynb"))
    if not notebooks:
        raise ReleaseError(f"no notebooks found in {notebooks_dir}/")
    with tempfile.TemporaryDirectory(prefix="student-", dir=out.parent if out.parent.exists() else None) as tmp:
        stage = Path(tmp) / out.name
        (stage / "notebooks").mkdir(parents=True)
        for path in notebooks:
            try:
                nbformat.write(strip_solutions(nbformat.read(path, as_version=4)), stage / "notebooks" / path.name)
            except ReleaseError as error:
                raise ReleaseError(f"{path}: {error}") from None
        if (notebooks_dir / INDEX).is_file():
            shutil.copy(notebooks_dir / INDEX, stage / "notebooks" / INDEX)
        if (repo / "data").is_dir():
            shutil.copytree(repo / "data", stage / "data")
        removed = write_answer_free_helpers(stage / "helpers")
        for name in LEARNER_FILES[:2]:
            shutil.copy(repo / name, stage / name)
        shutil.copy(repo / "lab.mk", stage / "Makefile")
        (stage / "environment.yml").write_text(learner_environment(repo / "environment.yml", repo / "requirements.txt"), encoding="utf-8")
        shutil.copy(README, stage / "README.md")
        publish(stage, out, solution_needles(notebooks, removed), "the student release")
    return write_zip(out)


def write_zip(folder: Path) -> Path:
    """`folder`.zip, every file under the folder's own name, for a learning platform."""
    archive = folder.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            bundle.write(path, Path(folder.name) / path.relative_to(folder))
    return archive
