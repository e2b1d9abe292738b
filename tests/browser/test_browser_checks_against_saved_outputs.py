"""The page is checked against the saved notebook: a widget or plot shown as text is reported.

No browser needed: `inspect_cells` takes one reading of the page (what READ_CELLS returns) and
the notebook as JupyterLab saved it. This is the case the live fixtures cannot stage cheaply: the
widget manager missing, so JupyterLab falls back to the output's text/plain repr.
"""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from notebook_in_browser import WIDGET_VIEW, NotebookReport, inspect_cells, inspect_handed_out


def page_cell(own):
    return {"code": True, "source": "x", "prompt": "[1]:", "own": own, "errors": [], "images": [], "widgets": []}


def saved_with(data):
    cell = new_code_cell("x", execution_count=1, outputs=[new_output("display_data", data=data)])
    return new_notebook(cells=[cell])


def test_widget_saved_but_shown_as_its_text_repr_is_reported():
    saved = saved_with({WIDGET_VIEW: {"model_id": "abc", "version_major": 2, "version_minor": 0},
                        "text/plain": "interactive(children=(IntSlider(value=1),))"})
    shown = [page_cell([{"mime": "text/plain", "widget": False, "text": "interactive(children=(IntSlider(value=1),))"}])]
    report = NotebookReport("t")
    inspect_cells(shown, saved, report)
    assert [(p.cell, p.kind) for p in report.problems] == [(0, "widget not rendered")]
    assert "interactive(children=" in report.problems[0].detail


def test_plot_saved_but_shown_as_its_text_repr_is_reported():
    saved = saved_with({"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 400x300 with 1 Axes>"})
    shown = [page_cell([{"mime": "text/plain", "widget": False, "text": "<Figure size 400x300 with 1 Axes>"}])]
    report = NotebookReport("t")
    inspect_cells(shown, saved, report)
    assert [(p.cell, p.kind) for p in report.problems] == [(0, "image not rendered")]


def test_widget_and_plot_shown_as_saved_pass():
    saved = saved_with({WIDGET_VIEW: {"model_id": "abc", "version_major": 2, "version_minor": 0}, "text/plain": "w"})
    saved.cells[0].outputs.append(new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "f"}))
    shown = [page_cell([{"mime": None, "widget": True, "text": "k 1"}, {"mime": "image/png", "widget": False, "text": ""}])]
    shown[0]["widgets"] = [{"error": False, "width": 300, "height": 40}]
    shown[0]["images"] = [400]
    report = NotebookReport("t")
    inspect_cells(shown, nbformat.from_dict(saved), report)
    assert report.problems == []


def test_a_widget_text_repr_shown_before_the_cell_runs_is_reported():
    saved = saved_with({WIDGET_VIEW: {"model_id": "abc", "version_major": 2, "version_minor": 0},
                        "text/plain": "interactive(children=(Dropdown(description='loss_name', options=('bowl',)),))"})
    shown = [page_cell([{"mime": "text/plain", "widget": False, "text": "interactive(children=(Dropdown(description='loss_name', opt"}])]
    report = NotebookReport("t")
    inspect_handed_out(shown, saved, report)
    assert [(p.cell, p.kind) for p in report.problems] == [(0, "widget shown as its text repr")]


def test_a_stored_widget_without_a_text_repr_shows_nothing_and_passes():
    saved = saved_with({WIDGET_VIEW: {"model_id": "abc", "version_major": 2, "version_minor": 0}})
    report = NotebookReport("t")
    inspect_handed_out([page_cell([{"mime": None, "widget": False, "text": ""}])], saved, report)
    assert report.problems == []


def test_a_figure_shown_below_nine_tenths_of_its_drawn_width_is_reported():
    saved = saved_with({"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 1200x300 with 3 Axes>"})
    shrunk, full = page_cell([{"mime": "image/png", "widget": False, "text": ""}]), page_cell([])
    shrunk["shownWidths"], full["shownWidths"] = [[1190, 848]], [[840, 840]]
    for cell, expected in ((shrunk, [(0, "figure shrunk")]), (full, [])):
        report = NotebookReport("t")
        inspect_handed_out([cell], saved, report)
        assert [(p.cell, p.kind) for p in report.problems] == expected
