"""Fixtures for the browser tests: one JupyterLab server over a copy of the course, one Chromium.

Settings (REQUIRE_BROWSER, CHROMIUM, BROWSER_RUN_TIMEOUT) are described in browser_session.py.
Screenshots and the page HTML of every notebook go to artifacts/browser/<notebook>/.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from browser_session import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    FIXTURES,
    HOW_TO_GET_CHROMIUM,
    REPO,
    REPORTS,
    REQUIRE_BROWSER,
    find_chromium,
    new_page,
)
from helpers.grading.strip import strip_solutions
from jupyterlab_server import JupyterLabServer, descendants, is_alive, venv_jupyter

_skipped: list[str] = []
_started = time.monotonic()


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    """Fail the run when a process the tests started outlived them, or (REQUIRE_BROWSER) on a skip.

    Session fixtures (server, browser) are finalised by now, so any process still below this one
    is a leak; it is reported, then ended.
    """
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
    say = reporter.write_line if reporter is not None else print
    leftovers = [pid for pid in descendants(os.getpid()) if is_alive(pid)]
    if leftovers:
        commands = [Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:120] for pid in leftovers]
        say(f"processes left running by the browser tests, now killed: {commands}", red=True)
        for pid in leftovers:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        session.exitstatus = 1
    if REQUIRE_BROWSER and _skipped and session.exitstatus == 0:
        say(f"REQUIRE_BROWSER=1 and {len(_skipped)} browser test(s) skipped: {_skipped}", red=True)
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    """Each notebook's time and counts, and the total: the cost CI pays for this suite."""
    for report in REPORTS:
        terminalreporter.write_line(report.summary().splitlines()[0])
    terminalreporter.write_line(f"browser tests: {time.monotonic() - _started:.1f} s in all (server, browser and notebooks)")


@pytest.fixture(scope="session")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        if REQUIRE_BROWSER:
            pytest.fail(f"REQUIRE_BROWSER=1 and {HOW_TO_GET_CHROMIUM}", pytrace=False)
        pytest.skip(HOW_TO_GET_CHROMIUM)
    return path


@pytest.fixture(scope="session")
def course_copy(tmp_path_factory) -> Path:
    """What the server serves: copies of notebooks/, data/, the test fixtures, and a student release.

    Layout: notebooks/ and data/ as in the repo (so relative data paths work), fixtures/, and
    student/ holding the student release of every notebook (same depth as notebooks/), made by
    the instructors' own release code (helpers.grading.strip, as `make student` does).
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
    survivors = [pid for pid in server.pids if is_alive(pid)]
    assert not survivors, f"kernel processes outlived the JupyterLab server: {survivors}"


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

