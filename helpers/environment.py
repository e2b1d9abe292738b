"""Seeding, device choice and the environment report that notebook 00 shows."""

from __future__ import annotations

import html
import platform
import random
import re
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import torch

REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements.txt"


def pick_device() -> torch.device:
    """The fastest device this machine offers: CUDA, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def setup(seed: int = 0) -> torch.device:
    """Seed Python, NumPy and torch with `seed`, show widgets without a text fallback, and return the device.

    Every notebook starts with this, so random numbers (and so stored outputs) are the same on
    every run and every machine: random tensors are made on the CPU, then moved to the device.
    Widgets are displayed as their view only (see helpers.widget_display): a notebook handed out
    with stored outputs then shows no raw `interactive(children=...` text under an explorer.
    """
    from helpers.widget_display import show_widgets_as_views_only

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    show_widgets_as_views_only()
    return pick_device()


def read_pins(path: Path = REQUIREMENTS) -> dict[str, str]:
    """The `name==version` pins of a requirements file, keyed by lower-case package name."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def public_version(version: str) -> str:
    """'2.13.0+cpu' -> '2.13.0': the local build tag says which wheel, not which release."""
    return version.split("+", 1)[0]


@dataclass(frozen=True)
class PackageRow:
    """One pinned package: what the course expects against what is installed."""

    name: str
    pinned: str
    installed: str | None

    @property
    def ok(self) -> bool:
        return self.installed is not None and public_version(self.installed) == self.pinned

    @property
    def fix(self) -> str:
        return "" if self.ok else f'pip install "{self.name}=={self.pinned}"'


@dataclass(frozen=True)
class EnvironmentReport:
    """Facts about this machine's Python, torch and accelerators, and the pinned packages."""

    facts: dict[str, str]
    packages: list[PackageRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every pinned package is installed at its pinned release."""
        return all(row.ok for row in self.packages)

    @property
    def verdict(self) -> str:
        return "All pinned packages match." if self.ok else "Some packages differ: run each command in the fix column, then restart the kernel."

    def __str__(self) -> str:
        width = max(len(k) for k in self.facts)
        lines = [f"{key:<{width}}  {value}" for key, value in self.facts.items()]
        lines.append("")
        lines.append(f"   {'package':<15} {'pinned':<10} {'installed':<14} fix")
        for row in self.packages:
            mark = "✓" if row.ok else "✗"
            lines.append(f"{mark}  {row.name:<15} {row.pinned:<10} {row.installed or 'missing':<14} {row.fix}".rstrip())
        lines.append("")
        lines.append(self.verdict)
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        facts = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>{html.escape(v)}</td></tr>"
                        for k, v in self.facts.items())
        rows = "".join(
            f"<tr><td>{'✓' if r.ok else '✗'}</td><td style='text-align:left'>{html.escape(r.name)}</td><td>{html.escape(r.pinned)}</td>"
            f"<td>{html.escape(r.installed or 'missing')}</td><td style='text-align:left'>{f'<code>{html.escape(r.fix)}</code>' if r.fix else ''}</td></tr>"
            for r in self.packages
        )
        return (
            f"<table>{facts}</table><table><tr><th></th><th>package</th><th>pinned</th><th>installed</th><th>fix</th></tr>{rows}</table>"
            f"<p><b>{html.escape(self.verdict)}</b></p>"
        )


def installed_version(name: str) -> str | None:
    """The installed version of distribution `name`, or None when it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def accelerator_facts() -> dict[str, str]:
    """What torch can compute on here: CUDA (with cuDNN), Apple's MPS, CPU threads."""
    facts = {}
    if torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        facts["CUDA"] = f"available, CUDA {torch.version.cuda}: {names}"
        facts["cuDNN"] = str(torch.backends.cudnn.version())
    else:
        build = f"built for CUDA {torch.version.cuda}" if torch.version.cuda else "CPU-only build"
        facts["CUDA"] = f"not available ({build})"
    mps = getattr(torch.backends, "mps", None)
    facts["MPS (Apple GPU)"] = "available" if mps is not None and mps.is_available() else "not available"
    facts["CPU threads"] = str(torch.get_num_threads())
    facts["device setup() picks"] = str(pick_device())
    return facts


def environment_report(requirements: Path = REQUIREMENTS) -> EnvironmentReport:
    """Collect the report: Python, platform, torch, accelerators, and each pin against what is installed."""
    facts = {
        "Python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "torch": torch.__version__,
        **accelerator_facts(),
    }
    pins = read_pins(requirements) if requirements.exists() else {}
    packages = [PackageRow(name, pinned, installed_version(name)) for name, pinned in pins.items()]
    return EnvironmentReport(facts, packages)


def require_cuda() -> int:
    """Exit status for `make test-gpu`: 0 with a CUDA GPU, else 1 with a message saying why not.

    The GPU suite must never pass by skipping everything on a machine that has no GPU.
    """
    import sys

    if torch.cuda.is_available():
        print(f"CUDA {torch.version.cuda}: {torch.cuda.get_device_name(0)}; running the suite with the CUDA code paths")
        return 0
    build = f"this torch ({torch.__version__}) is built for CUDA {torch.version.cuda}, but no GPU or driver answers" if torch.version.cuda \
        else f"this torch ({torch.__version__}) is a CPU-only build"
    print(f"make test-gpu needs a CUDA GPU and torch.cuda.is_available() is False: {build}. "
          "Run it on a machine with an NVIDIA GPU and PyPI's default (CUDA) torch wheel; `make test` is the CPU suite.",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(require_cuda())
