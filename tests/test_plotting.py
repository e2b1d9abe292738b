"""helpers.plotting: one histogram per sample, with the source density when given."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from helpers.plotting import normal_density, show_distributions  # noqa: E402


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
