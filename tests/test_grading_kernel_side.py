"""What the student's kernel writes back: plain data only, whatever the student's function returned."""

from __future__ import annotations

import numpy as np
import torch

from helpers.grading.judge import Opaque, restore
from helpers.grading.kernel_side import NUMPY, OPAQUE, as_data, call_cases


class Sneaky(torch.Tensor):
    def __eq__(self, other):
        return True


def test_plain_tensors_numbers_and_containers_pass_through_as_data():
    value = (1, 2.5, "s", None, True, [torch.ones(2)], {"k": torch.zeros(1)})
    data = as_data(value)
    assert data[:5] == value[:5] and type(data) is tuple
    assert torch.equal(data[5][0], torch.ones(2)) and torch.equal(data[6]["k"], torch.zeros(1))


def test_a_tensor_travels_as_a_copy_without_its_graph_but_with_its_requires_grad_flag():
    """A judge sees what the notebook's check sees: whether the result records gradients (13.4 asks for none)."""
    computed = torch.ones(3, requires_grad=True) * 2
    data = as_data(computed)
    assert type(data) is torch.Tensor and data.grad_fn is None and data.requires_grad
    assert data is not computed and torch.equal(data.detach(), computed.detach())
    assert not as_data(computed.detach()).requires_grad


def test_subclasses_and_objects_become_opaque_descriptions():
    assert as_data(torch.zeros(2).as_subclass(Sneaky)) == {OPAQUE: f"{__name__}.Sneaky"}
    assert as_data(object()) == {OPAQUE: "builtins.object"}
    assert as_data({(1, 2): 3}) == {OPAQUE: "builtins.dict"}
    assert isinstance(restore(as_data(object())), Opaque)


def test_numpy_arrays_travel_as_tensors_and_come_back_as_numpy():
    data = as_data(np.arange(3.0))
    assert type(data[NUMPY]) is torch.Tensor
    back = restore(data)
    assert type(back) is np.ndarray and back.tolist() == [0.0, 1.0, 2.0]


def test_each_case_records_its_value_or_its_error():
    def half(x):
        return 1 / x

    records = call_cases(half, [(2,), (0,)], 1000)
    assert records[0]["value"] == 0.5 and records[1]["error"].startswith("ZeroDivisionError")



def test_kernel_sides_placeholder_test_agrees_with_the_checks():
    from helpers.checks.core import is_placeholder as checks_is_placeholder
    from helpers.grading.kernel_side import is_placeholder

    def todo(x):
        """Docstring only."""
        ...

    def done(x):
        return x

    for function in (todo, done, lambda: None, len):
        assert is_placeholder(function) == checks_is_placeholder(function)


def test_a_meta_tensor_travels_as_it_is_so_its_device_shows():
    result = as_data(torch.ones(3, 2, dtype=torch.float64, device="meta"))
    assert result.device.type == "meta" and result.shape == (3, 2) and result.dtype == torch.float64
