"""Plots the notebooks share, so a notebook cell shows the idea and not the matplotlib plumbing."""

from __future__ import annotations

import io
import math
from typing import Callable

import matplotlib.pyplot as plt
import torch
from IPython.display import display
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

Density = Callable[[torch.Tensor], torch.Tensor]


def normal_density(x: torch.Tensor, mean: float = 0.0, std: float = 1.0) -> torch.Tensor:
    """The normal distribution's probability density at x."""
    return torch.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


FULL_WIDTH = 8.4  # inches: at matplotlib's 100 dpi, about the widest figure JupyterLab shows unshrunk in a 1280-px window


def show_distributions(samples: dict[str, torch.Tensor], densities: dict[str, Density] | None = None, bins: int = 40) -> None:
    """Draw one histogram per named sample, side by side, as densities so their shapes compare.

    `densities` maps a sample's name to the density it was drawn from (see `draw_distribution`).
    """
    densities = densities or {}
    fig, axes = plt.subplots(1, len(samples), figsize=(min(4 * len(samples), FULL_WIDTH), 3), squeeze=False)
    for ax, (name, values) in zip(axes[0], samples.items(), strict=True):
        draw_distribution(ax, name, values, densities.get(name), bins)
    fig.tight_layout()
    plt.show()


def draw_distribution(ax, name: str, values: torch.Tensor, density: Density | None = None, bins: int = 40) -> None:
    """Draw the histogram of `values` on `ax` as a density, titled `name`.

    `density`, the density the values were drawn from, is drawn over it as a dashed line (or dots,
    for whole numbers), so you can see how close the sample comes to it.
    """
    values = values.detach().cpu().flatten()
    if values.dtype.is_floating_point:
        ax.hist(values.numpy(), bins=bins, density=True, color="#4c72b0")
        grid, style = torch.linspace(float(values.min()), float(values.max()), 200), "k--"
    else:  # one bar per integer value, centred on it
        low, high = int(values.min()), int(values.max())
        ax.hist(values.numpy(), bins=range(low, high + 2), align="left", rwidth=0.8, density=True, color="#dd8452")
        grid, style = torch.arange(low, high + 1), "ko"
    if density is not None:
        ax.plot(grid.numpy(), density(grid).numpy(), style, label="distribution")
        ax.legend(loc="lower center", fontsize=8)
    ax.set_title(name, fontsize=10)
    ax.set_ylabel("density")


class LiveFigure:
    """The one figure of an explorer: made once, then redrawn in place each time a control moves.

    Why: a figure rebuilt on every move (plt.subplots, new artists, tight_layout, and the inline
    backend's bbox_inches="tight", which draws it twice) takes 100-500 ms, and the slider lags.
    Here the figure, its axes and their artists are made once; an update only changes what the
    artists show (set_data, set_text, ...) and calls `show()`, which draws the same figure again
    and displays it as a PNG (inside `interact`, in its output area, replacing the last one).
    The layout is worked out once, by constrained layout on the first `show()`, then kept.

    The artists a move changes can be named with `moving(...)`: the rest of the figure (axes,
    ticks, labels, what stays put) is then drawn once and kept as a picture, and a move draws
    only the named artists over it, which is several times quicker than drawing everything.
    The picture is drawn again whenever anything not named changed (matplotlib marks the figure
    stale then), so a missed name costs speed, never a wrong figure.

        live = LiveFigure(figsize=(5, 3))
        line, = live.axes.plot(xs, ys)
        live.moving(line)
        def explore(k=1.0):
            line.set_ydata(k * ys)
            live.show()
    """

    def __init__(self, nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] = (6.0, 3.5), **subplots) -> None:
        """A figure of nrows x ncols axes in `axes` (one Axes, or an array of them, as plt.subplots gives)."""
        self.figure = Figure(figsize=figsize, layout="constrained")  # not pyplot's: plt.show() never closes it
        FigureCanvasAgg(self.figure)
        self.axes = self.figure.subplots(nrows, ncols, **subplots)
        self.moving_artists: list[Artist] = []
        self.background = None  # the figure without its moving artists, as drawn last

    def moving(self, *artists: Artist) -> None:
        """Name artists each move changes: a move then draws only these over the rest, kept as a picture.

        They are drawn in the order of their zorder, over everything else in the figure: name an
        artist that lies under another one (an image under points and the axes' spines) together with what lies on it.
        An artist can be a whole axes, with its ticks and labels: one whose limits change on each move.
        """
        for artist in artists:
            artist.set_animated(True)  # matplotlib's drawing leaves it out, and its changes leave the figure fresh
        self.moving_artists = sorted([*self.moving_artists, *artists], key=lambda artist: artist.get_zorder())
        self.background = None

    def clear(self) -> None:
        """Empty every axes for a move that draws its panels anew, keeping the axes themselves.

        Why: `ax.clear()` also throws away the axes' ticks, spines and settings, and making them
        again took a third of such a move. What goes: lines, patches, texts, collections, images,
        the legend and the title; the colour cycle starts again and the limits follow the next data. What stays: labels,
        scales, tick settings, aspect, whether the axis shows: a drawing that changes those sets
        them on every move.
        """
        for axes in self.figure.axes:
            for artist in [*axes.lines, *axes.patches, *axes.texts, *axes.collections, *axes.images]:
                artist.remove()
            if axes.get_legend() is not None:
                axes.get_legend().remove()
            axes.set_title("")
            axes.set_prop_cycle(None)  # the next line takes the first colour again, as after ax.clear()
            axes.relim()
            axes.set_autoscale_on(True)

    def show(self) -> None:
        """Draw the figure as it is now and display it, with the text a displayed figure has."""
        display({"image/png": self.png(), "text/plain": repr(self.figure)}, raw=True)

    def png(self) -> bytes:
        """The figure drawn now, as PNG bytes; after the first drawing its layout stays fixed."""
        canvas = self.figure.canvas
        if self.background is None or self.figure.stale:
            canvas.draw()
            self.keep_layout()
            self.background = canvas.copy_from_bbox(self.figure.bbox) if self.moving_artists else None
        else:
            canvas.restore_region(self.background)
        for artist in self.moving_artists:
            self.figure.draw_artist(artist)
        self.figure.stale = False  # drawing a legend or text marks the axes stale, though nothing changed
        png = io.BytesIO()
        Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).save(png, "png", compress_level=1)
        return png.getvalue()

    def keep_layout(self) -> None:
        """Keep the axes and titles where the drawing just done put them (why: redrawing is then cheaper).

        Constrained layout would work the axes' positions out again on every drawing, and each axes
        would measure all its tick labels to place its title; both found their answer on the first
        drawing. An axes a notebook clears (`ax.clear()`) places its title anew once, on its next drawing.
        """
        self.figure.set_layout_engine("none")
        for axes in self.figure.axes:
            axes._autotitlepos = False  # matplotlib's own switch: set_title(y=...) turns it off the same way
