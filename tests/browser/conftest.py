"""Fixtures for the browser tests: one JupyterLab server over a copy of the course, one Chromium.

Settings (environment variables):
  REQUIRE_BROWSER=1  a missing Chromium, or any skipped browser test, fails the run (CI sets it);
                     otherwise the browser tests are skipped with a message saying how to get one.
  CHROMIUM=PATH      the browser to drive (default: `chromium` or `chromium-browser` on PATH).
  BROWSER_RUN_TIMEOUT=SECONDS  how long one notebook may run (default 600).

Screenshots and the page HTML of every notebook go to artifacts/browser/<notebook>/.
"""

from __future__ import annotations

import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest

from jupyterlab_server import JupyterLabServer, venv_jupyter

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ARTIFACTS = REPO / "artifacts" / "browser"
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER", "") not in ("", "0")
RUN_TIMEOUT_S = float(os.environ.get("BROWSER_RUN_TIMEOUT", "600"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
HOW_TO_GET_CHROMIUM = (
    "no Chromium found: as root, `make test-browser` installs Debian's `chromium` and "
    "`fonts-dejavu-core` itself; otherwise run `sudo apt-get install -y chromium fonts-dejavu-core`, "
    "or set CHROMIUM=/path/to/chromium"
)

_skipped: list[str] = []


def find_chromium() -> str | None:
    """The Chromium to drive: $CHROMIUM, else `chromium` or `chromium-browser` on PATH."""
    if os.environ.get("CHROMIUM"):
        return shutil.which(os.environ["CHROMIUM"])
    return shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    """Under REQUIRE_BROWSER, a skipped browser test is a failure: CI must never skip silently."""
    if REQUIRE_BROWSER and _skipped and exitstatus == 0:
        session.exitstatus = 1
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"REQUIRE_BROWSER=1 and {len(_skipped)} browser test(s) skipped: {_skipped}", red=True)


@pytest.fixture(scope="session")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        if REQUIRE_BROWSER:
            pytest.fail(f"REQUIRE_BROWSER=1 and {HOW_TO_GET_CHROMIUM}", pytrace=False)
        pytest.skip(HOW_TO_GET_CHROMIUM)
    return path


def strip_solutions(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Stand-in for helpers.grading.release.strip_solutions until the grader's release lands.

    Replaces each `# BEGIN SOLUTION` ... `# END SOLUTION` block with `...` at the block's
    indentation and drops outputs, as the student release does.
    """
    import copy
    import re

    block = re.compile(r"^([ \t]*)# BEGIN SOLUTION[^\n]*\n.*?^[ \t]*# END SOLUTION[^\n]*(\n?)", re.M | re.S)
    release = copy.deepcopy(nb)
    for cell in release.cells:
        if cell.cell_type == "code":
            cell.source = block.sub(lambda m: f"{m.group(1)}...{m.group(2)}", cell.source)
            cell.outputs, cell.execution_count = [], None
    return release


@pytest.fixture(scope="session")
def course_copy(tmp_path_factory) -> Path:
    """What the server serves: copies of notebooks/, data/, the test fixtures, and a student release.

    Layout: notebooks/ and data/ as in the repo (so relative data paths work), fixtures/, and
    student/ holding the student release of every notebook (same depth as notebooks/).
    """
    root = tmp_path_factory.mktemp("course")
    for name in ("notebooks", "data"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(FIXTURES, root / "fixtures")
    (root / "student").mkdir()
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        nbformat.write(strip_solutions(nbformat.read(path, as_version=4)), root / "student" / path.name)
    return root


@pytest.fixture(scope="session")
def lab(chromium, course_copy, tmp_path_factory):
    """The JupyterLab server; ended (with every kernel it started) when the session ends."""
    with JupyterLabServer(course_copy, tmp_path_factory.mktemp("jupyter-state"), venv_jupyter()) as server:
        yield server


@pytest.fixture(scope="session")
def browser(chromium):
    """Headless Chromium through Playwright; closed when the session ends, even after a failure."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@contextmanager
def new_page(browser, lab):
    """A fresh browser context (no shared storage) with one page; closed afterwards."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(60_000)
    try:
        yield context.new_page()
    finally:
        context.close()
        lab.remember_children()  # so that stop() ends them even if the shutdown below fails
        lab.shutdown_kernels()


@pytest.fixture
def page(browser, lab):
    with new_page(browser, lab) as page:
        yield page


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """artifacts/browser/, emptied once per session (it is in .gitignore)."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


_started = time.monotonic()


def pytest_terminal_summary(terminalreporter):
    """Report the total time: the issue asks for it, and it is the cost CI pays."""
    terminalreporter.write_line(f"browser tests: {time.monotonic() - _started:.1f} s in all (server, browser and notebooks)")
