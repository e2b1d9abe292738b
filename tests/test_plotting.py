"""helpers.plotting: one histogram per sample, with the source density when given; the explorers' live figure."""

import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from helpers.plotting import LiveFigure, normal_density, show_distributions  # noqa: E402


def test_normal_density_peaks_at_the_mean_with_the_right_height():
    assert math.isclose(normal_density(torch.tensor(0.0)).item(), 1 / math.sqrt(2 * math.pi), rel_tol=1e-6)
    assert math.isclose(normal_density(torch.tensor(5.0), mean=5.0, std=2.0).item(), 1 / (2 * math.sqrt(2 * math.pi)), rel_tol=1e-6)


def test_one_axis_per_sample_titled_by_name(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda: None)
    plt.close("all")
    show_distributions({"floats": torch.rand(100), "ints": torch.randint(1, 7, (100,))})
    axes = plt.gcf().axes
    assert [ax.get_title() for ax in axes] == ["floats", "ints"]
    assert all(ax.patches for ax in axes)  # histogram bars were drawn


def test_density_is_drawn_over_its_sample_only(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda: None)
    plt.close("all")
    show_distributions({"a": torch.randn(100), "b": torch.rand(100)}, {"a": normal_density})
    first, second = plt.gcf().axes
    assert len(first.lines) == 1 and len(second.lines) == 0


def test_a_live_figure_updates_its_artists_in_place_and_redisplays_the_same_figure(monkeypatch):
    shown = []
    monkeypatch.setattr("helpers.plotting.display", lambda data, raw: shown.append(data))
    plt.close("all")
    live = LiveFigure(figsize=(4, 3))
    line, = live.axes.plot([0, 1], [0, 1])
    live.show()
    line.set_ydata([1, 0])
    live.show()
    assert [item["text/plain"] for item in shown] == ["<Figure size 400x300 with 1 Axes>"] * 2
    assert all(item["image/png"].startswith(b"\x89PNG") for item in shown)
    assert shown[0]["image/png"] != shown[1]["image/png"]  # the new data was drawn
    assert list(live.axes.lines) == [line] and plt.get_fignums() == []  # one line, and no pyplot figure made


def test_a_live_figure_keeps_the_layout_its_first_drawing_found(monkeypatch):
    monkeypatch.setattr("helpers.plotting.display", lambda data, raw: None)
    live = LiveFigure(1, 2, figsize=(6, 3))
    left, right = live.axes
    left.set_ylabel("a label")
    live.show()
    where = left.get_position().bounds
    left.set_ylabel("a much, much longer label than before")
    live.show()
    assert left.get_position().bounds == where


def live_figure_with_a_moving_line(moving: bool):
    """A live figure of a fixed line, a line that moves, a legend and a title; the moving ones named when `moving`."""
    live = LiveFigure(figsize=(4, 3))
    live.axes.plot([0, 1], [0, 1], label="fixed")
    line, = live.axes.plot([0, 1], [1, 0], label="moving")
    live.axes.set(xlim=(0, 1), ylim=(0, 1))
    live.axes.legend(loc="upper left")
    live.axes.set_title(" ")
    if moving:
        live.moving(line, live.axes.get_legend(), live.axes.title)
    return live, line


def test_a_move_of_the_named_artists_draws_only_them_over_the_kept_rest(monkeypatch):
    live, line = live_figure_with_a_moving_line(moving=True)
    drawings = []
    monkeypatch.setattr(live.figure.canvas, "draw", lambda draw=live.figure.canvas.draw: drawings.append(1) or draw())
    first = live.png()
    line.set_ydata([0.5, 0.2])
    live.axes.title.set_text("moved")
    moved = live.png()
    assert moved != first and len(drawings) == 1  # the new line shows, and the rest was not drawn again
    live.axes.set_xlim(0, 2)  # not a named artist: the rest is drawn again
    live.png()
    assert len(drawings) == 2


def test_a_quick_drawing_looks_like_a_whole_one():
    quick, quick_line = live_figure_with_a_moving_line(moving=True)
    whole, whole_line = live_figure_with_a_moving_line(moving=False)
    quick.png(), whole.png()  # both lay out the same figure first
    for live, line in ((quick, quick_line), (whole, whole_line)):
        line.set_ydata([0.5, 0.2])
        live.axes.title.set_text("moved")
    pixels = [np.asarray(Image.open(io.BytesIO(live.png()))) for live in (quick, whole)]
    differing = (pixels[0] != pixels[1]).any(axis=-1).mean()
    assert differing < 0.001  # only where the line meets an axis line, drawn in another order


def test_a_moving_axes_is_drawn_whole_with_its_new_ticks_and_no_trace_of_the_old(monkeypatch):
    pictures = []
    for moving in (True, False):
        live = LiveFigure(1, 2, figsize=(6, 3))
        still, changing = live.axes
        still.plot([0, 1], [0, 1])
        line, = changing.plot([0, 1], [0, 1])
        if moving:
            live.moving(changing)
        live.png()
        drawings = []
        monkeypatch.setattr(live.figure.canvas, "draw", lambda draw=live.figure.canvas.draw, drawings=drawings: drawings.append(1) or draw())
        line.set_data([0, 50], [0, 70])
        changing.set(xlim=(0, 50), ylim=(0, 70))  # new ticks: 0, 10, ... where there were 0.0, 0.2, ...
        pictures.append(np.asarray(Image.open(io.BytesIO(live.png()))))
        assert len(drawings) == (0 if moving else 1)
    assert (pictures[0] != pictures[1]).any(axis=-1).mean() < 0.001


def draw_a_move(live: LiveFigure, clear, k: float) -> bytes:
    """One explorer move that draws its panel anew: a line (default colour), a legend, a title, fixed limits."""
    clear(live)
    live.axes.plot([0, 1], [0, k], label=f"k = {k}")
    live.axes.legend()
    live.axes.set_title(f"k = {k}")
    return live.png()


def test_clearing_a_live_figure_keeps_its_ticks_and_draws_what_clearing_its_axes_draws():
    def clear_axes(live):
        live.axes.clear()

    light, heavy = LiveFigure(figsize=(4, 3)), LiveFigure(figsize=(4, 3))
    pictures = {}
    for live, clear in ((light, LiveFigure.clear), (heavy, clear_axes)):
        draw_a_move(live, clear, 1.0)
        ticks = live.axes.xaxis.get_major_ticks()[0]
        pictures[clear] = [np.asarray(Image.open(io.BytesIO(draw_a_move(live, clear, k)))) for k in (2.0, 3.0)]
        assert (live.axes.xaxis.get_major_ticks()[0] is ticks) == (clear is LiveFigure.clear)  # not made again
    assert all((a == b).all() for a, b in zip(pictures[LiveFigure.clear], pictures[clear_axes], strict=True))
