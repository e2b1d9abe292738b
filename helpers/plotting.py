"""Plots the notebooks share, so a notebook cell shows the idea and not the matplotlib plumbing."""

from __future__ import annotations

import math
from typing import Callable

import matplotlib.pyplot as plt
import torch

Density = Callable[[torch.Tensor], torch.Tensor]


def normal_density(x: torch.Tensor, mean: float = 0.0, std: float = 1.0) -> torch.Tensor:
    """The normal distribution's probability density at x."""
    return torch.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def show_distributions(samples: dict[str, torch.Tensor], densities: dict[str, Density] | None = None, bins: int = 40) -> None:
    """Draw one histogram per named sample, side by side, as densities so their shapes compare.

    `densities` maps a sample's name to the density it was drawn from, drawn as a dashed line
    (or dots, for whole numbers), so you can see how close the sample comes to it.
    """
    densities = densities or {}
    fig, axes = plt.subplots(1, len(samples), figsize=(4 * len(samples), 3), squeeze=False)
    for ax, (name, values) in zip(axes[0], samples.items(), strict=True):
        values = values.detach().cpu().flatten()
        if values.dtype.is_floating_point:
            ax.hist(values.numpy(), bins=bins, density=True, color="#4c72b0")
            grid, style = torch.linspace(float(values.min()), float(values.max()), 200), "k--"
        else:  # one bar per integer value, centred on it
            low, high = int(values.min()), int(values.max())
            ax.hist(values.numpy(), bins=range(low, high + 2), align="left", rwidth=0.8, density=True, color="#dd8452")
            grid, style = torch.arange(low, high + 1), "ko"
        if name in densities:
            ax.plot(grid.numpy(), densities[name](grid).numpy(), style, label="distribution")
            ax.legend(loc="lower center", fontsize=8)
        ax.set_title(name, fontsize=10)
        ax.set_ylabel("density")
    fig.tight_layout()
    plt.show()
