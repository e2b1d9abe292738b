"""Generic judgements shared by the exercises: is this the tensor (or number) we expected?

Each returns a hint naming the first thing that is wrong, or None. They run in the grader's
process too, on data read back from a learner's kernel, so they check exact types first and
never trust an object's own comparison methods.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import torch

from helpers.checks.core import describe, shown, with_article
from helpers.checks.hints import Hint, mistake, mistake_of

# The hint for a function that returned nothing: the one course-wide wording, named once.
RETURNED_NONE = mistake("returned-none", "your function returned None — did you forget `return`?")


def sigmoid(z: float) -> float:
    """σ(z) = 1 / (1 + e^(−z)) on a Python float: the judges of 07 and 08 rebuild learners' sigmoid networks with it."""
    return 1.0 / (1.0 + math.exp(-z))


def part_is_none(what: str) -> str:
    """The hint for one part of an answer (`what` names it: "b", "train_losses") that is None."""
    return mistake("part-is-none", f"{what} is None — did you forget to return it?")


def not_a_tensor(got: Any) -> str | None:
    """The hint for an answer that is not a plain torch.Tensor, or None when it is one."""
    if type(got) is torch.Tensor:
        return None
    if got is None:
        return RETURNED_NONE
    kind = type(got).__module__.split(".")[0]
    if kind == "numpy":
        return mistake("returned-numpy", "you returned a numpy array; convert it with torch.from_numpy(...) or build it with torch directly.")
    if isinstance(got, (list, tuple)):
        return mistake("returned-list", f"you returned a Python {type(got).__name__}; wrap it with torch.tensor(...).")
    if isinstance(got, torch.Tensor):
        return mistake("returned-tensor-subclass", f"you returned {with_article(type(got).__name__)}, a subclass of Tensor; return a plain torch.Tensor.")
    return mistake("not-a-tensor", f"you returned {describe(got)}, not a tensor.")


# Notebooks from 03 on (where broadcasting is taught) add this to a size-1 hint where it is the danger.
BROADCAST_TRAP = " In arithmetic an (N, 1) tensor meets an (N,) one by broadcasting to (N, N), silently."


def shape_mismatch(got: torch.Tensor, expected: torch.Tensor) -> str | None:
    """A hint when the shapes differ, naming an extra or missing size-1 dimension when that is it."""
    if got.shape == expected.shape:
        return None
    have, want = tuple(got.shape), tuple(expected.shape)
    if got.numel() == expected.numel() and got.squeeze().shape == expected.squeeze().shape:
        return mistake("shape-size-1",
                       f"the shape is {shown(have)}, expected {shown(want)}: the same numbers with an extra or a missing dimension of size 1"
                       " (a column of shape (N, 1) is not a vector of shape (N,)).")
    if have == want[::-1]:
        return mistake("shape-transposed", f"the shape is {shown(have)}, expected {shown(want)}: rows and columns are swapped.")
    return mistake("shape-wrong", f"the shape is {shown(have)}, expected {shown(want)}.")


def dtype_mismatch(got: torch.Tensor, expected: torch.Tensor) -> str | None:
    """A hint when the dtypes differ, with how to ask for the right one."""
    if got.dtype == expected.dtype:
        return None
    name = str(expected.dtype).removeprefix("torch.")
    hint = mistake("dtype-wrong",
                   f"the dtype is {got.dtype}, expected {expected.dtype}: pass dtype=torch.{name} when you create it, or convert with "
                   f".to(torch.{name}).")
    if got.dtype == torch.int64 and expected.dtype.is_floating_point:
        hint += " (torch.tensor infers int64 from Python ints.)"
    if got.dtype == torch.float64 and expected.dtype == torch.float32:
        hint += " (numpy arrays are float64 by default, and torch keeps their dtype.)"
    return hint


def device_mismatch(got: torch.Tensor, expected: torch.Tensor) -> str | None:
    """A hint when the result lives on another device than the inputs and reference."""
    if got.device.type == expected.device.type:
        return None
    return mistake("device-wrong", f"the result is on {got.device}, expected {expected.device}: create it with device=... or move it with .to(...).")


def values_mismatch(got: torch.Tensor, expected: torch.Tensor, atol: float = 1e-6, rtol: float = 1e-5) -> str | None:
    """A hint naming the first element that differs, or None when all are close."""
    have = got.detach().cpu()
    want = expected.detach().cpu()
    if want.is_floating_point() or have.is_floating_point():
        close = torch.isclose(have.to(torch.float64), want.to(torch.float64), atol=atol, rtol=rtol, equal_nan=True)
    else:
        close = have == want
    if bool(close.all()):
        return None
    index = tuple(int(i) for i in (~close).nonzero()[0]) if close.dim() else ()
    where = f" at index {list(index)}" if index else ""
    return mistake("values-differ", f"the values differ{shown(f'{where}: you have {have[index].item()}, expected {want[index].item()}')}.")


def on_cpu(got: Any, expected: torch.Tensor) -> str | None:
    """The first hint among: not a tensor, device (so a judge may look at the values after it)."""
    return not_a_tensor(got) or device_mismatch(got, expected)


def tensor_like(got: Any, expected: torch.Tensor) -> str | None:
    """The first hint among: not a tensor, device, shape (for judges that then test properties)."""
    return on_cpu(got, expected) or shape_mismatch(got, expected)


def close(have: torch.Tensor, want: torch.Tensor | float, *, rtol: float, atol: float, equal_nan: bool = False) -> bool:
    """True when every element of `have` is within atol + rtol·|want| of `want`, compared in float64 on the CPU.

    `want` is a tensor of `have`'s shape (another shape is never close) or one Python number that every
    element is held to; `equal_nan` lets a nan match a nan. Each notebook binds its own tolerance
    (`functools.partial`): what "close" means depends on how its answers are computed."""
    have = have.detach().cpu().to(torch.float64)
    if isinstance(want, torch.Tensor):
        want = want.detach().cpu().to(torch.float64)
        if want.shape != have.shape:
            return False
    else:
        want = torch.full_like(have, float(want))
    return bool(torch.isclose(have, want, rtol=rtol, atol=atol, equal_nan=equal_nan).all())


def tensor_mismatch(got: Any, expected: torch.Tensor, atol: float = 1e-6, rtol: float = 1e-5) -> str | None:
    """The first hint among: not a tensor, device, shape, dtype, values; None when `got` matches."""
    return (
        tensor_like(got, expected)
        or dtype_mismatch(got, expected)
        or values_mismatch(got, expected, atol, rtol)
    )


def number_mismatch(got: Any, expected: int | float, kind: type = int) -> str | None:
    """A hint when `got` is not the Python number `expected` (a one-element tensor gets `.item()` advice)."""
    if isinstance(got, torch.Tensor):
        return mistake("returned-tensor-not-number",
                       f"you returned a tensor ({describe(got)}); return a Python {kind.__name__} — .item() converts"
                       " a one-element tensor.")
    if got is None:
        return RETURNED_NONE
    if type(got) is bool or not isinstance(got, (int, float)) or (kind is int and type(got) is not int):
        return mistake("not-a-number", f"you returned {describe(got)}; expected a Python {kind.__name__}.")
    if got != expected:
        return mistake("number-wrong", f"you returned {shown(got)}, expected {shown(expected)}.")
    return None


# The form of an answer: a Python float, a tuple of values -----------------------------------------

def not_a_float(got: Any, what: str) -> str | None:
    """A hint when `got` is not a Python float (`what` names it: "your result", "b"); None when it is one.

    A tensor gets `.item()` advice and a numpy number `float(...)` advice: the two ways a float usually
    arrives as something else."""
    if type(got) is float:
        return None
    if isinstance(got, torch.Tensor):
        return mistake("float-as-tensor", f"{what} is a tensor ({describe(got)}); return a Python float — .item() converts a one-element tensor.")
    if got is None:
        return part_is_none(what)
    if type(got).__module__ == "numpy":
        return mistake("float-as-numpy", f"{what} is a numpy {type(got).__name__}; return a Python float (float(...) converts it).")
    return mistake("not-a-float", f"{what} is {describe(got)}; expected a Python float.")


def float_mismatch(got: Any, expected: float, what: str, rtol: float = 1e-4, atol: float = 1e-6) -> str | None:
    """A hint when `got` is not a Python float close to `expected` (`what` names it in the hint)."""
    miss = not_a_float(got, what)
    if miss:
        return miss
    if not math.isfinite(got):
        return mistake("float-not-finite", f"{what} is {shown(got)}, expected {shown(expected, '.6g')}.")
    if not math.isclose(got, expected, rel_tol=rtol, abs_tol=atol):
        return mistake("float-differs", f"{what} is {shown(got, '.6g')}, expected {shown(expected, '.6g')}.")
    return None


def not_a_tuple(got: Any, size: int, wanted: str) -> str | None:
    """A hint when `got` is not a tuple (or list) of `size` values; `wanted` says what to return, in the
    statement's words ("the pair (w, b)"). None when it is one: the judge then looks at each value."""
    if type(got) in (tuple, list) and len(got) == size:
        return None
    if got is None:
        return RETURNED_NONE
    if isinstance(got, torch.Tensor):
        return mistake("tuple-as-tensor", f"you returned one tensor ({describe(got)}); return {wanted}.")
    if type(got) in (tuple, list):
        return mistake("tuple-count-wrong", f"you returned {shown(len(got))} values; return {wanted}.")
    return mistake("not-a-tuple", f"you returned {describe(got)}; return {wanted}.")


def not_a_loss_history(got: Any, length: int, what: str, each: str) -> str | None:
    """A hint when `got` is not a list (or tuple) of `length` Python floats, one loss per `each` ("step",
    "epoch"); `what` names it ("your list", "train_losses"). NaN and infinity pass: what they mean is
    each exercise's to say."""
    wanted = f"a list of {shown(length)} Python floats, one loss per {each}"
    if got is None:
        return part_is_none(what)
    if isinstance(got, torch.Tensor):
        return mistake("losses-as-tensor", f"{what} is a tensor ({describe(got)}); return {wanted} (.item() turns each one-element loss into a float).")
    if type(got) not in (list, tuple):
        return mistake("losses-not-a-list", f"{what} is {describe(got)}; return {wanted}.")
    if len(got) != length:
        return mistake("losses-count-wrong", f"{what} holds {shown(len(got))} losses for {shown(length)} {each}s: record one loss per {each}.")
    for value in got:
        if isinstance(value, torch.Tensor):
            return mistake("losses-hold-tensors", f"{what} holds tensors: record each loss as a Python float with .item(), which also frees its graph.")
        if type(value) is not float:
            return mistake("losses-hold-other", f"{what} holds {describe(value)}; expected Python floats.")
    return None


def multiple_of(got: torch.Tensor, expected: torch.Tensor) -> float | None:
    """k when `got` is k times `expected` for one number k (to 1e-4), else None: a sum for a mean, or
    gradients accumulated k times, give a whole k."""
    have, want = got.detach().double().flatten(), expected.detach().double().flatten()
    if have.shape != want.shape or not bool(torch.isfinite(have).all()) or float(want.norm()) == 0.0:
        return None
    k = float(have @ want / (want @ want))
    if torch.allclose(have, k * want, rtol=1e-4, atol=1e-5 * float(want.abs().max())):
        return k
    return None


# Answers that are short lists of Python numbers (gradients by hand in notebooks 07-09) -----------

REL, ABS = 1e-6, 1e-9  # float32 arithmetic passes; a wrong derivative is off by far more


def numbers_mismatch(got, expected: list[float], names: list[str], container: type = list) -> str | None:
    """A hint when `got` is not a list (or tuple) of len(expected) finite Python numbers; None when it is.
    `container` is what the statement asks for (list or tuple); either is accepted."""
    items = ", ".join(names)
    wanted = (f"a list of {len(expected)} Python floats [{items}]" if container is list
              else f"a tuple of {len(expected)} Python floats ({items})")
    if got is None:
        return RETURNED_NONE
    if isinstance(got, torch.Tensor):
        return mistake("numbers-as-tensor", f"you returned a tensor; return {wanted} (.item() turns a one-element tensor into a float).")
    if type(got) not in (list, tuple):
        return mistake("numbers-not-a-list", f"you returned {with_article(type(got).__name__)}; expected {wanted}.")
    if len(got) != len(expected):
        return mistake("numbers-count-wrong", f"you returned {shown(len(got))} values; expected {wanted}.")
    for name, value in zip(names, got, strict=True):
        if isinstance(value, torch.Tensor):
            return mistake("number-as-tensor", f"{name} is a tensor; return Python floats (.item() turns a one-element tensor into a float).")
        if type(value) is bool or not isinstance(value, (int, float)):
            return mistake("number-not-a-float", f"{name} is {with_article(type(value).__name__)}; expected a Python float.")
        if not math.isfinite(value):
            return mistake("number-not-finite", f"{name} is {shown(value)}; expected a finite number.")
    return None


def same_numbers(got, other: list[float], rel_tol: float = REL, abs_tol: float = ABS) -> bool:
    """True when the (already well-formed) answer equals `other` number for number, to within rel_tol or abs_tol."""
    return len(got) == len(other) and all(math.isclose(g, o, rel_tol=rel_tol, abs_tol=abs_tol) for g, o in zip(got, other, strict=True))


def first_difference(got, expected: list[float], names: list[str]) -> str | None:
    """The first number that differs, with a word on a flipped sign; None when all agree."""
    for name, value, want in zip(names, got, expected, strict=True):
        if not math.isclose(value, want, rel_tol=REL, abs_tol=ABS):
            if math.isclose(value, -want, rel_tol=REL, abs_tol=ABS):
                return mistake("sign-flipped",
                               f"{name} is {shown(f'{value:.6g}')}, expected {shown(f'{want:.6g}')}: the sign is flipped — check the sign of "
                               "each local gradient on its path.")
            return mistake("number-differs", f"{name} is {shown(f'{value:.6g}')}, expected {shown(f'{want:.6g}')}.")
    return None


def judges_numbers(names: list[str], container: type = list):
    """Make `hint(got, case, expected)` the judge of a short list (or tuple: `container`) of numbers. The
    answer's form and whether it is right are settled here, once for every such exercise, so `hint` sees
    only well-formed wrong answers and names the mistake it recognises; when it returns None the first
    number that differs is named instead."""
    def decorate(hint):
        @functools.wraps(hint)
        def judge(got, case, expected):
            miss = numbers_mismatch(got, expected, names, container)
            if miss:
                return miss
            if same_numbers(got, expected):
                return None
            return hint(got, case, expected) or first_difference(got, expected, names)
        return judge
    return decorate


def known_number(got: float, expected: float, mistakes, *, atol: float, rtol: float = 0.0, spec: str = ".4f") -> str | None:
    """The hint of the first known wrong answer (`mistakes`: (number, hint) pairs) within atol + rtol·|number|
    of the Python float `got`, after what was returned and what was expected (as `spec` formats them); else None."""
    for value, hint in mistakes:
        if abs(got - value) <= atol + rtol * abs(value):
            return Hint(f"you returned {shown(got, spec)}, expected {shown(expected, spec)}: {hint}", mistake_of(hint))
    return None


def known_answer(got, mistakes) -> str | None:
    """The hint of the first known wrong answer that `got` equals (`mistakes`: (numbers, hint) pairs,
    possibly a generator, so costly wrong answers are computed only until one matches); else None."""
    return next((hint for answer, hint in mistakes if same_numbers(got, answer)), None)
