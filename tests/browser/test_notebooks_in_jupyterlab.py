"""Every course notebook, run in JupyterLab in headless Chromium as a learner runs it.

One test per notebooks/*.ipynb, named after it: a new notebook is covered without a change here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from browser_session import ARTIFACTS, REPO, REPORTS, RUN_TIMEOUT_S
from notebook_in_browser import check_notebook

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_cleanly_in_jupyterlab(notebook: Path, page, lab, course_copy, artifacts):
    """Runs all cells: no error or stderr, every cell run, plots and widgets shown, widgets respond."""
    relative = f"notebooks/{notebook.name}"
    report = check_notebook(page, lab.url(f"lab/tree/{relative}?reset"), course_copy / relative,
                            artifacts / notebook.stem, run_timeout_s=RUN_TIMEOUT_S)
    REPORTS.append(report)
    if report.problems:  # pytest.fail: the summary alone, not pytest's repr of the report
        pytest.fail(report.summary() + f"\nscreenshots: {ARTIFACTS / notebook.stem}", pytrace=False)
