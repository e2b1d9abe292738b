"""helpers.widget_display: widgets are displayed as their view only, without a text/plain fallback."""

import ipywidgets as widgets
from IPython.core.interactiveshell import InteractiveShell
from IPython.display import display
from IPython.utils.capture import capture_output

from helpers import setup
from helpers.widget_display import WIDGET_VIEW, view_only


def displayed(obj) -> list[dict]:
    """The bundles IPython publishes when `obj` is displayed (in a shell, as in a kernel)."""
    InteractiveShell.instance()
    with capture_output() as captured:
        display(obj)
    return [output.data for output in captured.outputs]


def test_a_widget_bundle_loses_its_text_repr_and_keeps_its_view():
    bundle = {WIDGET_VIEW: {"model_id": "abc"}, "text/plain": "interactive(children=(IntSlider(value=1),))"}
    assert view_only(bundle) == {WIDGET_VIEW: {"model_id": "abc"}}


def test_a_bundle_without_a_widget_view_keeps_its_text():
    figure = {"image/png": b"png", "text/plain": "<Figure size 400x300 with 1 Axes>"}
    assert view_only(figure) == figure


def test_after_setup_an_explorer_is_displayed_without_a_text_repr():
    setup(seed=0)
    explorer = widgets.interactive(lambda steps=1: None, steps=widgets.IntSlider(value=3, description="steps"))
    [bundle] = displayed(explorer)
    assert list(bundle) == [WIDGET_VIEW] and bundle[WIDGET_VIEW]["model_id"] == explorer.model_id


def test_other_objects_keep_their_text_repr():
    setup(seed=0)
    assert displayed([1, 2]) == [{"text/plain": "[1, 2]"}]
