"""How the course's widgets are displayed: as their view only, with no text fallback.

IPython displays a widget as two representations: its view (drawn by JupyterLab's widget
manager) and a `text/plain` repr, `interactive(children=(Dropdown(description='loss', ...`, for
front ends that cannot draw it. A notebook handed out with its outputs stored is untrusted, and
JupyterLab draws no widget view from an untrusted file: it shows that text instead, under the
explorer's stored picture, where it looks broken. Without the fallback the output stays empty
until the learner runs the cell, and then shows the controls.

The kernel itself leaves the text out, so the stored notebook holds exactly what a re-run
produces, and nbval keeps comparing every other output strictly.
"""

from __future__ import annotations

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def view_only(bundle: dict) -> dict:
    """`bundle` without its text/plain entry when it carries a widget view."""
    if WIDGET_VIEW in bundle:
        bundle = {mime: data for mime, data in bundle.items() if mime != "text/plain"}
    return bundle


def display_view_only(widget) -> None:
    """Display `widget` as its view alone (IPython calls this instead of adding a text/plain repr)."""
    from IPython.display import display

    bundle = widget._repr_mimebundle_() if callable(widget._repr_mimebundle_) else {"text/plain": repr(widget)}  # closed: no view
    display(view_only(bundle), raw=True)


def show_widgets_as_views_only() -> None:
    """From now on every widget displayed in this kernel carries its view and no text repr (idempotent)."""
    from ipywidgets import Widget

    Widget._ipython_display_ = display_view_only
