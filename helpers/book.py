"""The course as a static website, readable before any set-up and offline from its folder.

    python -m helpers.book --out dist/book      (make book; preview: python -m http.server -d dist/book)

Sphinx with MyST-NB and the book theme (settings: book/conf.py) turns each notebook into a page
from its stored outputs: nothing is re-executed, strict nbval proves them. The pages are made from
the student release's notebooks (strip.strip_solutions): each exercise shows its `...`, and its
check cell the line a learner sees on running it so ("not attempted yet"; a stored "passed" under a
`...` would not be true of the page). Each page gets a "run it yourself" box under its objectives, with
a link to its student notebook; an explorer (ipywidgets needs a kernel) shows its stored picture and
a line saying it is interactive when the notebook runs; every figure gets alt text. MathJax is the
copy that jupyter-server-mathjax ships, served from the site's folder. The site is assembled in a
temporary folder and moved to `--out` only when the release's leak search finds no solution in any
of its files.
"""

from __future__ import annotations

import argparse
import copy
import re
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import nbformat

from helpers.grading.release import publish, release_statements
from helpers.grading.strip import ReleaseError, is_check_cell, strip_solutions
from helpers.notebooks import INDEX, course_notebooks, is_navigation
from helpers.widget_display import WIDGET_VIEW

REPO = Path(__file__).resolve().parent.parent
CONF = REPO / "book"
STUDENT = "student"  # the folder of the site that holds each page's student notebook
EXPLORER_NOTE = ('<p class="explorer-note">This explorer is interactive when the notebook runs '
                 "(see “Run it yourself” above); here it shows its stored picture.</p>")
TITLE_CALL = re.compile(r"""(?:set_title|suptitle|plt\.title|title=)\(?\s*f?(["'])(.+?)\1""")
SENTENCE_END = re.compile(r"(?<=[.?!:])\s")
CHECKED = re.compile(r"""\bcheck\(\s*["'](\d\d\.\d+)["']\s*,\s*(\w+)""")


def run_box(name: str) -> str:
    """The "run it yourself" box of the page for notebook `name`: how to run it, and its student notebook."""
    return f"""```{{admonition}} Run it yourself
:class: tip
This page shows the notebook as it ran for the course's tests; its exercises are left for you. To run
it: clone the course and type `make lab` (it installs everything and opens JupyterLab), or unpack the
student bundle your instructor hands out (an instructor makes it with `make student`) and type
`make lab` in it. {{download}}`Download this notebook <{STUDENT}/{name}>` (the student copy).
```"""


def plain(markdown: str) -> str:
    """Markdown (or a title's TeX) as plain words for alt text: no emphasis, code ticks, math marks or link targets."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return " ".join(re.sub(r"[*`$#>\\{}]", "", text).split())


def introduction(prose: str) -> str:
    """The paragraph that introduces a figure (the last one of the prose before it, headings left out),
    cut after the sentence that reaches 40 characters."""
    paragraphs = [p for p in re.split(r"\n\s*\n", prose) if p.strip() and not p.lstrip().startswith("#")]
    text = plain(paragraphs[-1]) if paragraphs else ""
    sentences = SENTENCE_END.split(text)
    kept = ""
    for sentence in sentences:
        kept = f"{kept} {sentence}".strip()
        if len(kept) >= 40:
            break
    return kept


def python_string(literal: str) -> str:
    """A string literal's text as written in code: `\\n` a line break (a space here), `\\\\` one backslash."""
    return literal.replace("\\\\", "\0").replace("\\n", " ").replace("\0", "\\")


def figure_alt(cell, prose: str) -> str:
    """Alt text for the figures of a code cell: the titles its code gives them (a value computed when it
    runs becomes "…"), with the paragraph before the cell when the titles say little on their own."""
    titles = [plain(re.sub(r"\{[^}]*\}", "…", python_string(match.group(2)))) for match in TITLE_CALL.finditer(cell.source)]
    said = "; ".join(dict.fromkeys(titles))
    if len(re.findall(r"[A-Za-z]{3,}", said)) >= 3:
        return f"Figure: {said}"
    about = introduction(prose) or "the code above"
    return f"Figure: {said} ({about})" if said else f"Figure for: {about}"


def unattempted_outputs(cell: nbformat.NotebookNode, count: int | None) -> list:
    """What a check cell shows when its exercise still holds `...`: the check's own "not attempted" line."""
    from helpers.checks import check  # imports torch: only a build that has check cells pays for it

    found = CHECKED.search(cell.source)
    if found is None:
        return []
    exercise_id, name = found.groups()

    def placeholder(*args, **kwargs):
        ...

    placeholder.__name__ = placeholder.__qualname__ = name
    result = check(exercise_id, placeholder)
    return [nbformat.v4.new_output("execute_result", {"text/plain": repr(result), "text/html": result._repr_html_()},
                                   execution_count=count)]


def page_notebook(student: nbformat.NotebookNode, course: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The notebook a page is made from: the student copy without its navigation cells (the theme links
    the pages), the run box under the objectives, the check cells' stored messages, each explorer as a
    note under its stored picture, alt text on every figure."""
    page = copy.deepcopy(student)
    page.metadata.pop("widgets", None)
    stored = {cell.get("id"): cell for cell in course.cells}
    cells, prose = [], ""
    for cell in page.cells:
        if is_navigation(cell):
            continue
        if cell.cell_type == "markdown":
            prose = cell.source
        elif is_check_cell(cell):
            cell.outputs = unattempted_outputs(cell, stored[cell.get("id")].execution_count)
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("display_data", {"text/html": EXPLORER_NOTE})
                            if WIDGET_VIEW in output.get("data", {}) else output for output in cell.outputs]
            if any("image/png" in output.get("data", {}) for output in cell.outputs):
                cell.metadata["mystnb"] = {"image": {"alt": figure_alt(cell, prose)}}
        cells.append(cell)
        if len(cells) == 1:  # the title cell: motivation, objectives, prerequisites
            cells.append(nbformat.v4.new_markdown_cell(run_box(name), id="run-it-yourself"))
    page.cells = cells
    return page


def contents_page(index: Path, names: list[str]) -> str:
    """The site's home page: the course's contents page, and the table of contents the theme navigates."""
    text = index.read_text(encoding="utf-8") if index.is_file() else "# PyTorch from first principles\n"
    toctree = "\n".join(["", "```{toctree}", ":hidden:", ":maxdepth: 1", "", *names, "```", ""])
    return text.rstrip() + "\n" + toctree


def stage(notebooks: list[Path], source: Path) -> None:
    """Write what Sphinx reads to `source`: a page notebook per notebook, its student copy, the home page."""
    (source / STUDENT).mkdir(parents=True)
    for path in notebooks:
        course = nbformat.read(path, as_version=4)
        try:
            student = strip_solutions(course)
        except ReleaseError as error:
            raise ReleaseError(f"{path}: {error}") from None
        nbformat.write(student, source / STUDENT / path.name)
        nbformat.write(page_notebook(student, course, path.name), source / path.name)
    (source / INDEX).write_text(contents_page(notebooks[0].parent / INDEX, [p.name for p in notebooks]), encoding="utf-8")


def sphinx_build(source: Path, site: Path, doctrees: Path) -> None:
    """Run Sphinx's html builder with book/conf.py; any warning (a broken link, a bad figure) fails."""
    from sphinx.cmd.build import build_main

    with warnings.catch_warnings():  # the pinned extensions' notes to each other about Sphinx's next API
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        status = build_main(["-b", "html", "-q", "-W", "--keep-going", "-c", str(CONF), "-d", str(doctrees), str(source), str(site)])
    if status:
        raise RuntimeError(f"sphinx-build failed (exit {status}); its messages are above")


def copy_mathjax(site: Path) -> None:
    """MathJax into the site's _static/mathjax (book/conf.py's mathjax_path), so no page needs a CDN.
    Left out: the SVG output's fonts (2.9 MB), which nothing loads (the package ships no SVG output)."""
    import jupyter_server_mathjax

    mathjax = Path(jupyter_server_mathjax.__file__).with_name("static")
    shutil.copytree(mathjax, site / "_static" / "mathjax", ignore=lambda folder, names: ["SVG"] if Path(folder).match("jax/output") else [])


def build(out: Path, notebooks_dir: Path = REPO / "notebooks") -> Path:
    """Build the website of the notebooks in `notebooks_dir` into `out`; return `out`. An existing `out`
    is replaced only when it is empty or an earlier website."""
    if out.exists() and any(out.iterdir()) and not (out / "searchindex.js").is_file():
        raise ReleaseError(f"--out {out} exists and is not an earlier website; choose a new or empty folder")
    notebooks = course_notebooks(notebooks_dir)
    if not notebooks:
        raise ReleaseError(f"no notebooks found in {notebooks_dir}/")
    with tempfile.TemporaryDirectory(prefix="book-") as tmp:
        source, site = Path(tmp) / "source", Path(tmp) / "site"
        stage(notebooks, source)
        sphinx_build(source, site, Path(tmp) / "doctrees")
        copy_mathjax(site)
        publish(site, out, release_statements(notebooks), "the website")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.book", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist" / "book", help="the site's folder (replaced)")
    args = parser.parse_args(argv)
    try:
        out = build(args.out.resolve())
    except (ReleaseError, RuntimeError) as error:
        print(f"make book: {error}", file=sys.stderr)
        return 1
    print(f"the course's website is in {out}; preview: python -m http.server -d {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
