"""What the browser tests share: settings, paths, the browser's flags, and a fresh page.

Settings (environment variables):
  REQUIRE_BROWSER=1  a missing Chromium, or any skipped browser test, fails the run (CI sets it);
                     otherwise the browser tests are skipped with a message saying how to get one.
  CHROMIUM=PATH      the browser to drive (default: `chromium` or `chromium-browser` on PATH).
  BROWSER_RUN_TIMEOUT=SECONDS  how long one notebook may run (default 600).
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

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

REPORTS: list = []  # the NotebookReport of each notebook checked, for the summary at the end


def find_chromium() -> str | None:
    """The Chromium to drive: $CHROMIUM, else `chromium` or `chromium-browser` on PATH."""
    if os.environ.get("CHROMIUM"):
        return shutil.which(os.environ["CHROMIUM"])
    return shutil.which("chromium") or shutil.which("chromium-browser")


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
