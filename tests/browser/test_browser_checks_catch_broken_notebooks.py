"""Tests of the browser test: the same check that runs on the course catches each kind of breakage.

fixtures/working.ipynb has a text output, a plot, and an `interact` slider driving a plot and a
text; fixtures/broken.ipynb breaks one thing per cell (stderr, an image that cannot decode, a widget
whose front-end does not exist, a slider whose output never changes, an exception, and a cell that
Run All never reaches because of it).
"""

from __future__ import annotations

import pytest

from browser_session import REPORTS, new_page
from notebook_in_browser import check_notebook


def run_fixture(browser, lab, course_copy, artifacts, name):
    with new_page(browser, lab) as page:
        report = check_notebook(page, lab.url(f"lab/tree/fixtures/{name}?reset"), course_copy / "fixtures" / name,
                                artifacts / f"fixture-{name.removesuffix('.ipynb')}", change_timeout_s=8)
    REPORTS.append(report)
    return report


@pytest.fixture(scope="module")
def broken(browser, lab, course_copy, artifacts):
    return run_fixture(browser, lab, course_copy, artifacts, "broken.ipynb")


def problems_of(report, kind):
    return [p for p in report.problems if p.kind == kind]


def test_working_notebook_passes_with_its_plots_widget_and_slider_checked(browser, lab, course_copy, artifacts):
    report = run_fixture(browser, lab, course_copy, artifacts, "working.ipynb")
    assert report.problems == [], report.summary()
    # The checks had something to check: 3 cells run (the empty one is exempt), the plot and the
    # interact's plot as images, the interact as a widget, its slider moved.
    assert (report.code_cells, report.executed, report.images, report.widgets, report.controls_moved) == (3, 3, 2, 1, 1)
    assert report.screenshots and all(p.stat().st_size > 0 for p in report.screenshots)


def test_exception_in_a_cell_is_reported(broken):
    assert any("ZeroDivisionError" in p.detail for p in problems_of(broken, "error or stderr output")), broken.summary()


def test_stderr_output_is_reported(broken):
    assert any("a warning on stderr" in p.detail for p in problems_of(broken, "error or stderr output")), broken.summary()


def test_image_that_does_not_render_is_reported(broken):
    assert [p.cell for p in problems_of(broken, "image not rendered")] == [2], broken.summary()


def test_widget_that_fails_to_render_is_reported(broken):
    assert [p.cell for p in problems_of(broken, "widget not rendered")] == [3], broken.summary()


def test_widget_whose_output_ignores_its_slider_is_reported(broken):
    assert [p.cell for p in problems_of(broken, "widget output unchanged")] == [4], broken.summary()


def test_cell_after_the_exception_is_reported_as_not_executed(broken):
    assert [p.cell for p in problems_of(broken, "not executed")] == [6], broken.summary()
