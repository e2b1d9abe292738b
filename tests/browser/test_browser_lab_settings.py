"""What a learner's JupyterLab shows before any notebook runs: no news prompt, a contents page that opens clean."""

from __future__ import annotations

import json
import urllib.request

from browser_session import REPO


def test_the_courses_settings_turn_off_the_news_and_update_prompt(lab):
    """`make` installs helpers/jupyterlab_settings.json as an app-level override; the server applies it."""
    with urllib.request.urlopen(lab.url("lab/api/settings/@jupyterlab/apputils-extension:notification"), timeout=30) as reply:
        defaults = {key: spec.get("default") for key, spec in json.load(reply)["schema"]["properties"].items()}
    shipped = json.loads((REPO / "helpers" / "jupyterlab_settings.json").read_text())["@jupyterlab/apputils-extension:notification"]
    # JupyterLab's own defaults are "none" (ask) and true; the override replaces them
    assert {key: defaults[key] for key in shipped} == shipped == {"fetchNews": "false", "checkForUpdates": False}


def test_the_contents_page_opens_without_being_marked_changed(page, lab):
    """index.ipynb carries the kernelspec JupyterLab writes, so opening it changes nothing to save."""
    page.goto(lab.url("lab/tree/notebooks/index.ipynb?reset"))
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
    page.wait_for_timeout(1500)  # give a metadata update from the kernel time to mark the document
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
    assert "jp-mod-dirty" not in (tab.get_attribute("class") or ""), "index.ipynb is marked changed on open"
