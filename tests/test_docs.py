"""The README is the front page and docs/ holds the rest: every link between them leads to a file and a
heading that exist, every page is reachable from the README, and each page links to the others."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file's headings (outside code blocks)."""
    found, in_code = set(), False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and re.match(r"#{1,6} ", line):
            found.add(slug(line.lstrip("#")))
    return found


def local_links(path: Path) -> list[str]:
    """The targets of a Markdown file's links to this repository (web addresses left out)."""
    return [target for target in LINK.findall(path.read_text(encoding="utf-8")) if not re.match(r"[a-z]+:", target)]


@pytest.mark.parametrize("path", [README, *PAGES], ids=lambda p: p.name)
def test_every_link_leads_to_a_file_and_heading_that_exist(path):
    for target in local_links(path):
        file, _, anchor = target.partition("#")
        goal = (path.parent / file).resolve() if file else path
        assert goal.exists(), f"{path.name}: {target} leads nowhere"
        if anchor and goal.suffix == ".md":
            assert anchor in anchors(goal), f"{path.name}: {target}: {goal.name} has no such heading"


def test_the_readme_links_every_docs_page():
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in local_links(README)}
    assert PAGES and set(PAGES) <= linked, sorted(p.name for p in set(PAGES) - linked)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_each_docs_page_links_back_to_the_readme_and_to_the_other_pages(path):
    linked = {(path.parent / target.partition("#")[0]).resolve() for target in local_links(path) if target.partition("#")[0]}
    assert {README, *PAGES} - {path} <= linked


def test_the_front_page_says_how_to_start_and_test():
    text = README.read_text(encoding="utf-8")
    assert "make lab" in text and "make test" in text
