"""helpers.widget_display: widgets are displayed as their view only, without a text/plain fallback."""

import ipywidgets as widgets

from helpers import setup
from helpers.widget_display import WIDGET_VIEW, show_widgets_as_views_only, view_only


def test_a_widget_bundle_loses_its_text_repr_and_keeps_its_view():
    bundle = {WIDGET_VIEW: {"model_id": "abc"}, "text/plain": "interactive(children=(IntSlider(value=1),))"}
    assert view_only(bundle) == {WIDGET_VIEW: {"model_id": "abc"}}


def test_a_bundle_without_a_widget_view_keeps_its_text():
    figure = {"image/png": b"png", "text/plain": "<Figure size 400x300 with 1 Axes>"}
    assert view_only(figure) == figure


def test_after_setup_a_displayed_widget_carries_no_text_repr():
    setup(seed=0)
    bundle = widgets.IntSlider(value=3, description="steps")._repr_mimebundle_()
    assert WIDGET_VIEW in bundle and "text/plain" not in bundle


def test_showing_views_only_twice_wraps_once():
    show_widgets_as_views_only()
    once = widgets.Widget._repr_mimebundle_
    show_widgets_as_views_only()
    assert widgets.Widget._repr_mimebundle_ is once
