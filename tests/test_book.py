"""The course's website (helpers/book.py, make book): built once into a temporary folder, then read as files.

Pages are found from notebooks/ (a new notebook needs no change here). The browser's view of the same
site (console, requests, math, search, phone width) is tests/browser/test_browser_book.py.
"""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from helpers import book
from helpers.grading.release import leaks, release_statements
from helpers.grading.strip import MARKER, is_check_cell, strip_solutions
from helpers.notebooks import course_notebooks, notebook_title
from helpers.widget_display import WIDGET_VIEW

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = course_notebooks(REPO / "notebooks")
NETWORK = re.compile(r"^(https?:)?//", re.IGNORECASE)
# What a browser fetches when it shows a page (an <a href> is only followed when clicked).
LOADED = {("script", "src"), ("img", "src"), ("iframe", "src"), ("source", "src"), ("video", "src"), ("audio", "src"),
          ("link", "href"), ("embed", "src"), ("object", "data")}
CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)""")


class Page(HTMLParser):
    """What the tests read from one HTML page: its tags with their attributes, its ids and its text."""

    def __init__(self, path: Path):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.ids: set[str] = set()
        self.text_parts: list[str] = []
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if attributes.get("id"):
            self.ids.add(attributes["id"])

    def handle_data(self, data):
        self.text_parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return book.build(tmp_path_factory.mktemp("book") / "book")


def pages(site: Path) -> list[Path]:
    """The site's pages (all at its top; _static holds the theme's own Jinja templates, which no page links)."""
    return sorted(site.glob("*.html"))


@functools.cache
def parsed(path: Path) -> Page:
    return Page(path)


def page_of(site: Path, notebook: Path) -> Page:
    return parsed(site / f"{notebook.stem}.html")


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_each_notebook_has_a_page_with_its_objectives_then_a_run_box_and_its_student_notebook(site, notebook):
    course = nbformat.read(notebook, as_version=4)
    page = page_of(site, notebook)
    text = page.text
    assert words(notebook_title(course)) in text
    objectives, box = text.find("Learning objectives"), text.find("Run it yourself")
    assert 0 <= objectives < box, "the run-it-yourself box comes right under the learning objectives"
    assert "make lab" in text and "make student" in text
    downloads = [attrs["href"] for tag, attrs in page.tags if tag == "a" and attrs.get("href", "").endswith(notebook.name)
                 and "download" in attrs.get("class", "")]
    assert len(downloads) == 1, downloads
    offered = nbformat.read(site / unquote(downloads[0]), as_version=4)
    assert offered == strip_solutions(course), "the download is the student release's notebook"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_each_page_links_the_previous_the_contents_and_the_next_page(site, notebook):
    links = {attrs.get("href") for tag, attrs in page_of(site, notebook).tags if tag == "a"}
    at = NOTEBOOKS.index(notebook)
    neighbours = NOTEBOOKS[max(at - 1, 0):at] + NOTEBOOKS[at + 1:at + 2]
    assert {f"{n.stem}.html" for n in neighbours} <= links
    assert "index.html" in links


def test_the_home_page_lists_every_notebook_in_course_order(site):
    hrefs = [attrs["href"] for tag, attrs in parsed(site / "index.html").tags if tag == "a" and "href" in attrs]
    listed = [href for href in dict.fromkeys(hrefs) if re.fullmatch(r"\d\d_\w+\.html", href)]
    assert listed == [f"{n.stem}.html" for n in NOTEBOOKS]


def test_every_internal_link_and_image_resolves(site):
    broken = []
    for path in pages(site):
        for tag, attrs in parsed(path).tags:
            for name in ("href", "src"):
                target = attrs.get(name)
                if not target or NETWORK.match(target) or target.startswith(("mailto:", "data:", "javascript:")):
                    continue
                url = urlsplit(target)
                file = (path.parent / unquote(url.path)).resolve() if url.path else path
                if not file.is_file():
                    broken.append(f"{path.name}: <{tag} {name}={target}>")
                elif url.fragment and file.suffix == ".html" and url.fragment not in parsed(file).ids:
                    broken.append(f"{path.name}: <{tag} {name}={target}> (no such anchor)")
    assert not broken, broken[:10]


def test_no_reference_solution_or_marker_is_in_any_file_of_the_site(site):
    assert leaks(site, release_statements(NOTEBOOKS)) == []
    marked = [p.name for p in site.rglob("*") if p.is_file() and p.suffix in (".html", ".js", ".ipynb")
              and MARKER.search(p.read_text(encoding="utf-8", errors="replace"))]
    assert not marked


def test_the_leak_search_reads_a_page_as_it_is_shown(tmp_path):
    """Highlighted code is split by tags and escaped: the search must still find a solution in it."""
    (tmp_path / "page.html").write_text('<pre><span class="n">probs</span> <span class="o">=</span> '
                                        '<span class="n">logits</span><span class="o">.</span>softmax(dim=<span class="mi">1</span>)'
                                        ' <span class="o">&gt;</span> <span class="mf">0.5</span></pre>', encoding="utf-8")
    assert leaks(tmp_path, {"probs=logits.softmax(dim=1)>0.5"})


def test_no_page_loads_anything_from_the_network(site):
    loaded = []
    for path in pages(site):
        for tag, attrs in parsed(path).tags:
            for name in ("src", "href", "data"):
                if (tag, name) in LOADED and NETWORK.match(attrs.get(name) or ""):
                    loaded.append(f"{path.name}: <{tag} {name}={attrs[name]}>")
            loaded += [f"{path.name}: style url({url})" for url in CSS_URL.findall(attrs.get("style") or "") if NETWORK.match(url)]
    for css in site.rglob("*.css"):
        loaded += [f"{css.name}: url({url})" for url in CSS_URL.findall(css.read_text(encoding="utf-8")) if NETWORK.match(url)]
    assert not loaded, loaded[:10]


def test_every_page_with_math_loads_the_mathjax_served_from_the_site(site):
    with_math = [path for path in pages(site) if any("math" in (attrs.get("class") or "").split() for tag, attrs in parsed(path).tags)]
    assert len(with_math) >= len(NOTEBOOKS) // 2, "most notebooks have math"
    for path in with_math:
        mathjax = [attrs["src"] for tag, attrs in parsed(path).tags if tag == "script" and "MathJax.js" in attrs.get("src", "")]
        assert mathjax and (site / urlsplit(mathjax[0]).path).is_file(), path.name


def test_every_figure_has_alt_text_in_words(site):
    missing = [f"{path.name}: {attrs.get('src')} alt={attrs.get('alt')!r}" for path in pages(site)
               for tag, attrs in parsed(path).tags if tag == "img"
               and (not (attrs.get("alt") or "").strip() or "_images/" in attrs["alt"] or attrs["alt"].endswith(".png"))]
    assert not missing, missing[:10]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_headings_start_at_one_title_and_never_skip_a_level(site, notebook):
    """In the page's article (the theme's print-only copy of the title is hidden on screen)."""
    html = (site / f"{notebook.stem}.html").read_text(encoding="utf-8")
    article = html[html.index("<article"):html.index("</article>")]
    levels = [int(level) for level in re.findall(r"<h([1-6])[\s>]", article)]
    assert levels.count(1) == 1 and levels[0] == 1, levels
    assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), levels


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_explorers_show_their_stored_picture_and_say_they_are_interactive_when_run(site, notebook):
    course = nbformat.read(notebook, as_version=4)
    explorers = [cell for cell in course.cells if cell.cell_type == "code"
                 and any(WIDGET_VIEW in output.get("data", {}) for output in cell.outputs)]
    html = (site / f"{notebook.stem}.html").read_text(encoding="utf-8")
    assert html.count('class="explorer-note"') == len(explorers)
    assert "widget-view" not in html and "@jupyter-widgets" not in html
    for note in re.finditer('class="explorer-note"', html):
        assert "<img" in html[max(0, note.start() - 3000):note.start()], "the note follows the explorer's picture"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_check_cells_say_not_attempted_under_each_stripped_exercise(site, notebook):
    course = nbformat.read(notebook, as_version=4)
    ids = [re.search(r"""check\(\s*["'](\d\d\.\d+)""", cell.source).group(1) for cell in course.cells if is_check_cell(cell)]
    text = page_of(site, notebook).text
    for exercise_id in ids:
        assert f"{exercise_id} not attempted yet" in text, exercise_id
        assert f"{exercise_id} passed" not in text, exercise_id


def test_an_existing_folder_that_is_not_a_site_is_never_replaced(tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    assert book.main(["--out", str(tmp_path)]) == 1
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
