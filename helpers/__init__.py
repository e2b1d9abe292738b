"""Helpers for the course notebooks: set-up, plots, and exercise checks.

    from helpers import setup, check
    device = setup(seed=0)
"""

from helpers.checks import check
from helpers.environment import environment_report, setup

__all__ = ["check", "environment_report", "setup"]
