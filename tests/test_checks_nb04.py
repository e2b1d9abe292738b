"""Notebook 04's checks: the exercise contract (tests/exercise_contract.py) with 04's mistakes."""

import numpy as np
import pytest
import torch

from exercise_contract import *  # noqa: F403 - the contract's tests, collected here for notebook 04
from exercise_contract import Unseen
from helpers.checks import EXERCISES, check
from helpers.checks.core import FAILED, PASSED

NOTEBOOK = "04"


def to_without_keeping_the_result(batch, device, dtype):
    for t in batch.values():
        t.to(device, dtype)
    return batch


MISTAKES = [
    ("04.1", lambda x: torch.ones(len(x), 1), "the defaults a new tensor gets"),
    ("04.1", lambda x: torch.ones(x.shape[0], 1, device=x.device), "Make the new tensor follow x"),
    ("04.1", lambda x: torch.ones(x.shape[0], dtype=x.dtype, device=x.device), "a column has shape"),
    ("04.1", lambda x: torch.ones_like(x), "x's own shape"),
    ("04.1", lambda x: x.new_ones(1, x.shape[0]), "a row; a column has shape"),
    ("04.1", lambda x: x.new_zeros(x.shape[0], 1), "the values differ"),
    ("04.2", to_without_keeping_the_result, "keep what it returns"),
    ("04.2", lambda batch, device, dtype: {k: t.to(device) for k, t in batch.items()}, "give .to(...) the dtype as well as the device"),
    ("04.2", lambda batch, device, dtype: {k: t.float() for k, t in batch.items()}, "expected meta"),
    ("04.2", lambda batch, device, dtype: [t.to(device, dtype) for t in batch.values()], "you returned a Python list"),
    ("04.2", lambda batch, device, dtype: {"inputs": t.to(device, dtype) for t in batch.values()}, "keep batch's names"),  # noqa: B035
    ("04.3", lambda t, qs: np.percentile(t.numpy(), qs).tolist(), "call .detach() first"),
    ("04.3", lambda t, qs: np.percentile(t.detach().numpy(), qs), "you returned a NumPy array"),
    ("04.3", lambda t, qs: list(np.percentile(t.detach().numpy(), qs)), "not a Python float"),
    ("04.3", lambda t, qs: np.percentile(t.detach().numpy(), [q / 100 for q in qs]).tolist(), "np.percentile takes percents"),
    ("04.3", lambda t, qs: torch.quantile(t, torch.tensor(qs) / 100), "you returned a tensor"),
    ("04.3", lambda t, qs: torch.quantile(t, torch.tensor(qs, dtype=torch.float32)).tolist(), "q values must be in the range"),
]


def test_every_idiomatic_answer_passes():
    answers = [
        ("04.1", lambda x: torch.ones(x.shape[0], 1, dtype=x.dtype, device=x.device)),
        ("04.1", lambda x: torch.ones(len(x), 1).to(x)),
        ("04.1", lambda x: torch.ones_like(x[:, :1])),
        ("04.2", lambda batch, device, dtype: {k: t.to(device=device, dtype=dtype) for k, t in batch.items()}),
        ("04.3", lambda t, qs: torch.quantile(t, torch.tensor(qs, dtype=torch.float32) / 100).tolist()),
        ("04.3", lambda t, qs: [float(v) for v in np.percentile(t.detach().numpy(), qs)]),
    ]
    for exercise_id, answer in answers:
        result = check(exercise_id, answer)
        assert result.status == PASSED, result


def test_forgetting_the_device_shows_on_the_meta_case():
    """Invisible to the grader (results come back to the CPU), so the notebook's check must catch it."""
    result = check("04.1", lambda x: torch.ones(x.shape[0], 1, dtype=x.dtype))
    assert result.status == FAILED and "on cpu, but x is float64 on meta" in result.message
    result = check("04.2", lambda batch, device, dtype: {k: t.to(dtype) for k, t in batch.items()})
    assert result.status == FAILED and "expected meta" in result.message


def prepare_in_the_batch(batch, device, dtype):
    """Right values, but in batch itself: its tensors replaced, and batch returned."""
    for name in batch:
        batch[name] = batch[name].to(device, dtype)
    return batch


# The rules 04's statements set beyond the value asked for. 04.3 on a GPU tensor cannot be seen on
# a CPU: test_percentiles_works_on_a_cuda_tensor_that_requires_grad runs where CUDA exists (make test-gpu).
RULES = [
    ("04.1", "on x's device", lambda x: torch.ones(x.shape[0], 1, dtype=x.dtype), "Make the new tensor follow x"),
    ("04.1", "with x's dtype", lambda x: torch.ones(x.shape[0], 1, device=x.device), "Make the new tensor follow x"),
    ("04.2", "returns a new dict; batch is not changed", prepare_in_the_batch, "changed its input `batch`"),
    ("04.3", "t may require gradients", lambda t, qs: np.percentile(t.numpy(), qs).tolist(), "call .detach() first"),
    ("04.3", "t may live on a GPU", Unseen("the checks run on the CPU; see test_percentiles_works_on_a_cuda_tensor_that_requires_grad"), ""),
]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="04.3's rule 't may live on a GPU' needs CUDA to be seen (make test-gpu)")
def test_percentiles_works_on_a_cuda_tensor_that_requires_grad():
    t = torch.tensor([3.0, 1.0, 2.0, 5.0], device="cuda", requires_grad=True)
    assert EXERCISES["04.3"].reference(t, [25, 50]) == np.percentile([3.0, 1.0, 2.0, 5.0], [25, 50]).tolist()
    with pytest.raises(TypeError, match="cuda"):  # what the rule's breaking answer meets on a GPU
        np.percentile(t.detach().numpy(), [25, 50])
