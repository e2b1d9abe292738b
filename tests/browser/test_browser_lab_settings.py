"""What a learner's JupyterLab shows before any notebook runs: no news prompt, a contents page without a kernel."""

from __future__ import annotations

import json
import urllib.request

from browser_session import REPO
from helpers.notebooks import course_notebooks


def test_the_courses_settings_turn_off_the_news_and_update_prompt(lab):
    """`make` installs helpers/jupyterlab_settings.json as an app-level override; the server applies it."""
    with urllib.request.urlopen(lab.url("lab/api/settings/@jupyterlab/apputils-extension:notification"), timeout=30) as reply:
        defaults = {key: spec.get("default") for key, spec in json.load(reply)["schema"]["properties"].items()}
    shipped = json.loads((REPO / "helpers" / "jupyterlab_settings.json").read_text())["@jupyterlab/apputils-extension:notification"]
    # JupyterLab's own defaults are "none" (ask) and true; the override replaces them
    assert {key: defaults[key] for key in shipped} == shipped == {"fetchNews": "false", "checkForUpdates": False}


def test_the_contents_page_opens_as_a_rendered_page_that_starts_no_kernel(page, lab):
    """index.md opens rendered (the shipped defaultViewers setting), links every notebook, and starts no kernel."""
    page.goto(lab.url("lab/tree/notebooks/index.md?reset"))
    rendered = page.locator(".jp-RenderedMarkdown", has_text="contents")
    rendered.first.wait_for(timeout=120_000)
    page.wait_for_timeout(3000)  # time for a kernel or a "Select Kernel" dialog to appear, if either would
    assert page.locator(".jp-Dialog").count() == 0, page.locator(".jp-Dialog").first.inner_text()
    assert page.locator(".jp-FileEditor").count() == 0, "index.md opened in the text editor, not rendered"
    with urllib.request.urlopen(lab.url("api/sessions"), timeout=30) as reply:
        sessions = [s["path"] for s in json.load(reply)]
    assert not any(path.endswith("index.md") for path in sessions), sessions
    links = rendered.first.locator("a[href*='.ipynb']")
    assert links.count() == len(course_notebooks(REPO / "notebooks"))
