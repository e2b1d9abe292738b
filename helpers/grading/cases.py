"""Hidden cases drawn from the instructor's secret, and the fingerprint of the test definitions.

Each exercise's cases come from `random.Random` seeded with HMAC-SHA256(secret, exercise id): the
same secret gives the same cases on every run and machine, no secret file lives in the repo, and
the cases (which do reach the student's kernel) do not reveal the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import random
from pathlib import Path

import numpy as np
import torch

from helpers.checks.core import Case, Exercise, clone_case

SECRET_VARIABLE = "GRADER_SECRET"
CASE_SEED_BASE = 1000  # case i runs with every generator seeded to CASE_SEED_BASE + i, here and in the kernel


class SecretMissing(ValueError):
    """No instructor's secret was given."""


def secret_from(option: str | None) -> str:
    """The instructor's secret: the --secret option, else $GRADER_SECRET; an error when neither is set."""
    secret = option if option is not None else os.environ.get(SECRET_VARIABLE, "")
    if not secret.strip():
        raise SecretMissing(f"set the instructor's secret in ${SECRET_VARIABLE} (or pass --secret): it seeds the hidden cases")
    return secret


def case_rng(secret: str, exercise_id: str) -> random.Random:
    """The generator an exercise's hidden cases are drawn from."""
    digest = hmac.new(secret.encode(), exercise_id.encode(), hashlib.sha256).digest()
    return random.Random(int.from_bytes(digest, "big"))


def hidden_cases(exercise: Exercise, secret: str) -> list[Case]:
    """The exercise's hidden cases for this secret."""
    return exercise.hidden_cases(case_rng(secret, exercise.id))


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's generators (kernel_side.seed_everything does the same)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def expected_results(exercise: Exercise, cases: list[Case]) -> list:
    """The reference solution's result on each case, with the generators seeded as in the kernel."""
    results = []
    for number, case in enumerate(cases):
        seed_everything(CASE_SEED_BASE + number)
        results.append(exercise.reference(*clone_case(case)))
    return results


def definitions_hash() -> str:
    """SHA-256 over the sources of the checks and of the kernel-side code: which tests graded this."""
    checks = Path(__file__).resolve().parent.parent / "checks"
    digest = hashlib.sha256()
    for path in [*sorted(checks.glob("*.py")), Path(__file__).with_name("kernel_side.py")]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
