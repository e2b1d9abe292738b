"""Plots the notebooks share, so a notebook cell shows the idea and not the matplotlib plumbing."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch


def show_distributions(samples: dict[str, torch.Tensor], bins: int = 40) -> None:
    """Draw one histogram per named sample, side by side, as densities so their shapes compare."""
    fig, axes = plt.subplots(1, len(samples), figsize=(4 * len(samples), 3), squeeze=False)
    for ax, (name, values) in zip(axes[0], samples.items()):
        values = values.detach().cpu().flatten()
        if values.dtype.is_floating_point:
            ax.hist(values.numpy(), bins=bins, density=True, color="#4c72b0")
        else:  # one bar per integer value, centred on it
            low, high = int(values.min()), int(values.max())
            ax.hist(values.numpy(), bins=range(low, high + 2), align="left", rwidth=0.8, density=True, color="#dd8452")
        ax.set_title(name, fontsize=10)
        ax.set_ylabel("density")
    fig.tight_layout()
    plt.show()
