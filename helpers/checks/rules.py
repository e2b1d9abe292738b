"""The rules every exercise's check enforces after the exercise's own judge, one function each.

A statement sets rules beyond "return the right value": the input stays as it was (unless the
exercise declares that it works in place), an in-place exercise really changes its argument, a loss
lets `backward()` reach what it was computed from, and no answer holds NaN or infinity where the
right one is finite. An `Exercise` declares its exceptions and extras (`in_place`, `gradient_to`);
`judge_call` applies them around the exercise's own judge, in the notebook (`core.evaluate`) and in
the grader (`grading.judge`).

What a call did that plain data cannot carry (which argument the result *is*, whether an argument's
memory moved, whether the result's graph reaches an argument) is observed where the call ran and
passed on as `Facts`: here by `observe`, in a student's kernel by `kernel_side.observe`, which
repeats it on purpose (the kernel cannot import helpers). How the arguments look after the call is
data: each rule compares them with the case as it was sent.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, TypedDict

import numpy as np
import torch

from helpers.checks.hints import Hint, mistake


class RuleBroken(Hint):
    """A hint that names a rule of the statement the answer broke: in grading, one hidden case that breaks
    a rule costs the whole exercise (`grading.judge.score`), as a rule holds for every input or not at all."""


class Facts(TypedDict):
    """What one call did, by argument position."""

    returned: list[int]  # the arguments the result is, or holds as one of its top-level items
    moved: list[int]  # tensor arguments whose memory was swapped (`.data = ...`, `set_`)
    gradient_to: list[int]  # arguments requiring grad that the result's graph reaches


def storage_of(arguments: tuple) -> list[int | None]:
    """Each tensor argument's memory address (None for other arguments), taken before the call."""
    return [arg.data_ptr() if type(arg) is torch.Tensor and arg.device.type != "meta" else None for arg in arguments]


def observe(arguments: tuple, storage: list[int | None], value: Any) -> Facts:
    """The facts of one call that data cannot carry; `storage` is `storage_of(arguments)` before it.

    Kept in step with `helpers.grading.kernel_side.observe`, which does the same in a student's kernel.
    """
    items = value if type(value) in (tuple, list) else ()
    returned = [i for i, arg in enumerate(arguments) if not is_scalar(arg) and (value is arg or any(item is arg for item in items))]
    moved = [i for i, arg in enumerate(arguments) if storage[i] is not None and type(arg) is torch.Tensor and arg.data_ptr() != storage[i]]
    return {"returned": returned, "moved": moved, "gradient_to": gradient_reaches(arguments, value)}


def is_scalar(value: Any) -> bool:
    """Numbers, strings and None: Python may share one object between equal ones, so identity says nothing."""
    return value is None or type(value) in (bool, int, float, str)


def gradient_reaches(arguments: tuple, value: Any) -> list[int]:
    """The positions of the arguments requiring grad that `backward()` from `value` would reach."""
    if type(value) is not torch.Tensor or value.grad_fn is None:
        return []
    leaves = [(i, arg) for i, arg in enumerate(arguments) if type(arg) is torch.Tensor and arg.requires_grad]
    if not leaves:
        return []
    # A scalar's gradient is implicit: a tensor given as the output's gradient makes torch import sympy
    # (0.3 s, on the learner's first check) to compare shapes. Reaching the sum is reaching the value.
    total = (value.real if value.is_complex() else value).sum()
    try:
        grads = torch.autograd.grad(total, [arg for _, arg in leaves], retain_graph=True, allow_unused=True)
    except Exception:  # noqa: BLE001 - a graph autograd cannot run reaches nothing
        return []
    return [i for (i, _), grad in zip(leaves, grads, strict=True) if grad is not None]


def argument_names(exercise) -> list[str]:
    """The names of the exercise's arguments, as the statement writes them (the reference's signature)."""
    return list(inspect.signature(exercise.reference).parameters)


# The rules ------------------------------------------------------------------------------------------

def non_finite(got: Any, expected: Any) -> str | None:
    """A hint when the answer holds NaN or infinity and the right answer holds neither.

    A judge that only rejects on a true comparison lets NaN through (every comparison with NaN is
    false), so this runs after every judge that found nothing wrong.
    """
    if not all_finite(expected) or all_finite(got):
        return None
    return mistake("non-finite-result",
                   "your result holds NaN or infinity, where the right answer is a finite number: look for a division by 0, the log of 0 or of a "
                   "negative number, an overflow, or a tensor made with torch.empty and never filled.")


def all_finite(value: Any, depth: int = 0) -> bool:
    """True when no number in `value` (tensors, numpy arrays, floats, and lists, tuples, dicts of them) is NaN or infinite."""
    if depth > 20:
        return True
    if type(value) is float:
        return math.isfinite(value)
    if type(value) is torch.Tensor:
        if value.device.type == "meta" or not (value.is_floating_point() or value.is_complex()):
            return True
        return bool(torch.isfinite(value.detach()).all())
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "fc":
        return bool(np.isfinite(value).all())
    if type(value) in (list, tuple):
        return all(all_finite(item, depth + 1) for item in value)
    if type(value) is dict:
        return all(all_finite(item, depth + 1) for item in value.values())
    return True


def changed_input(exercise, case: tuple, after: tuple, facts: Facts) -> str | None:
    """A hint when the call changed an argument the exercise did not declare it works on in place."""
    names = argument_names(exercise)
    for i, (before, now) in enumerate(zip(case, after, strict=True)):
        if i != exercise.in_place and not same_content(before, now):
            name = names[i] if i < len(names) else f"argument {i + 1}"
            return mistake("changed-input",
                           f"your function changed its input `{name}`: the statement asks for a result that leaves it as it was. Work on a "
                           "copy (t.clone() for a tensor; a dict or list of tensors needs new containers and a clone of each tensor, since dict(d) "
                           "or d.copy() still shares the tensors), or use operations that make new tensors (+, not a method ending in _).")
    for i in facts["returned"]:
        if i != exercise.in_place:
            name = names[i] if i < len(names) else f"argument {i + 1}"
            return mistake("returned-input",
                           f"your function returned its input `{name}` itself; the statement asks for a new result, and `{name}` must stay "
                           "as it was.")
    return None


def not_in_place(exercise, case: tuple, after: tuple, facts: Facts) -> str | None:
    """A hint when an exercise declared in place did not change its argument in its own memory, or did not return it."""
    i = exercise.in_place
    if i is None:
        return None
    name = argument_names(exercise)[i]
    if i in facts["moved"]:
        return mistake("in-place-moved-memory",
                       f"`{name}` now points at new memory (an assignment to .data, or set_): the statement asks you to change it in "
                       "place, writing into"
                       f" the memory it already has, with a method whose name ends in _.")
    if same_content(case[i], after[i]):
        return mistake("in-place-not-changed",
                       f"`{name}` still holds its old values: the statement asks you to change it in place. An operation without a "
                       "trailing _ (a method such as add, or the + operator) makes a new tensor and leaves the old one as it was; only the methods "
                       "whose names end in _ change the tensor they are called on.")
    if i not in facts["returned"]:
        return mistake("in-place-returned-other", f"you changed `{name}` in place, but returned another tensor: return `{name}` itself, as the statement asks.")
    return None


def gradient_cut(exercise, case: tuple, after: tuple, facts: Facts) -> str | None:
    """A hint when the result's graph does not reach an argument it must pass gradients back to."""
    names = argument_names(exercise)
    for i in exercise.gradient_to:
        if i not in facts["gradient_to"]:
            return mistake("gradient-cut",
                           f"backward() from your result would not reach `{names[i]}`: somewhere on the way the graph was cut (.detach(), "
                           ".item(),"
                           f" .numpy(), torch.tensor(...) of a tensor, or work inside torch.no_grad()). Compute it from `{names[i]}` with torch"
                           " operations only, so that gradients flow back to it.")
    return None


def same_content(a: Any, b: Any, depth: int = 0) -> bool:
    """True when `a` and `b` hold the same data: tensors by dtype, shape and values (NaN equal to NaN), containers item by item."""
    if type(a) is not type(b):
        return False
    if type(a) is torch.Tensor:
        if a.dtype != b.dtype or a.shape != b.shape or a.device.type != b.device.type:
            return False
        if a.device.type == "meta":
            return True
        a, b = a.detach().cpu(), b.detach().cpu()
        return bool(torch.equal(a, b) or (a.is_floating_point() and torch.equal(a.isnan(), b.isnan()) and torch.equal(a.nan_to_num(), b.nan_to_num())))
    if depth > 20:
        return True
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(same_content(x, y, depth + 1) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return a.keys() == b.keys() and all(same_content(a[k], b[k], depth + 1) for k in a)
    if type(a) is float and math.isnan(a):
        return math.isnan(b)
    return a == b


ARGUMENT_RULES = (not_in_place, changed_input, gradient_cut)


def judge_call(exercise, case: tuple, got: Any, expected: Any, after: tuple, facts: Facts) -> str | None:
    """The verdict on one call: a hint, or None when it is right and kept every rule.

    The exercise's own judge speaks first, so a mistake it knows (a diverged training's NaN, say)
    keeps its own hint; what it let through must still hold no NaN or infinity (its comparisons
    cannot see them) and keep the rules on the arguments, which a right value can break.
    `case` is the call's arguments as they were sent, `after` the same arguments once it returned.
    """
    hint = exercise.judge(got, case, expected) or non_finite(got, expected)
    if hint:
        return hint
    broken = next((hint for rule in ARGUMENT_RULES if (hint := rule(exercise, case, after, facts))), None)
    return RuleBroken(broken) if broken else None
