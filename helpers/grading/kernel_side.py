"""The code that runs inside the student's kernel, after the student's own cells.

The grader sends this file's source as text and runs `run_exercise` in a namespace of its own,
so nothing here is imported into (or shadowed by) the student's names. It loads the hidden
inputs with `torch.load(weights_only=True)`, calls the student's function on each case, and writes
what came back, the arguments as the call left them and `observe`'s facts about the call, as data
only (tensors, numbers, strings, lists, tuples, dicts) with `torch.save`.
Anything else is written as a description (`OPAQUE`). Nothing it writes is trusted: the grader
reads it with `torch.load(weights_only=True)` and judges it in its own process.
Only the standard library, numpy and torch are used here: the student's code may have replaced
or deleted `helpers` by now, so `is_placeholder` repeats helpers.checks.core's, and `observe`
helpers.checks.rules', on purpose.
"""

import random
import time

OPAQUE = "__grader_opaque__"  # {OPAQUE: "module.Type"}: a value that is not plain data
NUMPY = "__grader_numpy__"  # {NUMPY: tensor}: a numpy array or scalar, carried as a tensor
MAX_ITEMS = 100_000
MAX_DEPTH = 20
EMPTY_OPS = {"RESUME", "NOP", "LOAD_CONST", "RETURN_VALUE", "RETURN_CONST", "POP_TOP"}


def is_placeholder(function):
    """True for a function whose body is only a docstring and `...` (the student release's)."""
    import dis

    code = getattr(function, "__code__", None)
    if code is None:
        return False
    ops = list(dis.get_instructions(code))
    return all(op.opname in EMPTY_OPS for op in ops) and all(
        op.argval in (None, Ellipsis) for op in ops if op.opname in ("LOAD_CONST", "RETURN_CONST")
    )


def as_data(value, depth=0):
    """`value` as plain data that `torch.load(weights_only=True)` accepts, or an OPAQUE description."""
    import torch

    kind = type(value)
    if value is None or kind in (bool, int, float, str, torch.dtype, torch.device):
        return value
    if kind is torch.Tensor:  # a meta tensor (shape and dtype, no data) travels as it is, so its device shows
        data = value.detach().clone() if value.device.type == "meta" else value.detach().to("cpu").clone()
        return data.requires_grad_(value.requires_grad)  # the graph stays behind; whether there was one travels, as the check sees it
    if kind.__module__ == "numpy" and hasattr(value, "dtype") and value.dtype.kind in "biufc":
        import numpy

        return {NUMPY: torch.from_numpy(numpy.array(value, copy=True))}
    if depth < MAX_DEPTH and kind in (list, tuple) and len(value) <= MAX_ITEMS:
        items = [as_data(item, depth + 1) for item in value]
        return items if kind is list else tuple(items)
    if depth < MAX_DEPTH and kind is dict and len(value) <= MAX_ITEMS and all(type(k) in (str, int) for k in value):
        return {key: as_data(item, depth + 1) for key, item in value.items()}
    return {OPAQUE: f"{kind.__module__}.{kind.__qualname__}"}


def seed_everything(seed):
    """Seed Python's, numpy's and torch's generators, as the grader does before the reference."""
    import numpy
    import torch

    random.seed(seed)
    numpy.random.seed(seed)
    torch.manual_seed(seed)


def storage_of(arguments):
    """Each tensor argument's memory address (None for other arguments), taken before the call."""
    import torch

    return [arg.data_ptr() if type(arg) is torch.Tensor and arg.device.type != "meta" else None for arg in arguments]


def observe(arguments, storage, value):
    """What the call did that data cannot carry: helpers.checks.rules.observe, repeated here (see the module's docstring).

    "returned": the arguments the result is or holds at its top level; "moved": tensor arguments whose memory was
    swapped; "gradient_to": arguments requiring grad that backward() from the result would reach.
    """
    import torch

    items = value if type(value) in (tuple, list) else ()
    scalar = (bool, int, float, str, type(None))
    returned = [i for i, arg in enumerate(arguments) if type(arg) not in scalar and (value is arg or any(item is arg for item in items))]
    moved = [i for i, arg in enumerate(arguments) if storage[i] is not None and type(arg) is torch.Tensor and arg.data_ptr() != storage[i]]
    reached = []
    leaves = [(i, arg) for i, arg in enumerate(arguments) if type(arg) is torch.Tensor and arg.requires_grad]
    if type(value) is torch.Tensor and value.grad_fn is not None and leaves:
        try:
            total = (value.real if value.is_complex() else value).sum()  # implicit gradient: no sympy import (see rules)
            grads = torch.autograd.grad(total, [arg for _, arg in leaves], retain_graph=True, allow_unused=True)
            reached = [i for (i, _), grad in zip(leaves, grads, strict=True) if grad is not None]
        except Exception:  # noqa: BLE001 - a graph autograd cannot run reaches nothing
            reached = []
    return {"returned": returned, "moved": moved, "gradient_to": reached}


def call_cases(function, cases, seed_base):
    """Call `function` on each case, case i with the generators seeded to seed_base + i; one record per case."""
    records = []
    for number, case in enumerate(cases):
        seed_everything(seed_base + number)
        started = time.perf_counter()
        try:
            storage = storage_of(case)
            value = function(*case)
            record = {"value": as_data(value), "arguments": as_data(tuple(case)), "facts": observe(case, storage, value)}
        except KeyboardInterrupt:  # the grader's time limit interrupted the call
            records.append({"timeout": True, "time": time.perf_counter() - started})
            break
        except BaseException as error:  # noqa: BLE001 - the student's error is data for the feedback
            text = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
            record = {"error": f"{type(error).__name__}: {text}" if text else type(error).__name__}
        record["time"] = time.perf_counter() - started
        records.append(record)
    return records


def run_exercise(namespace, inputs_path, results_path, exercise_id, target, seed_base):
    """Grade-run one exercise: find `target` in the student's namespace and call it on the hidden cases."""
    import torch

    result = {"id": exercise_id, "status": "ran", "cases": []}
    try:
        function = namespace.get(target)
        if function is None:
            result["status"] = "missing"
        elif not callable(function):
            result["status"] = "not callable"
        elif is_placeholder(function):
            result["status"] = "placeholder"
        else:
            cases = torch.load(inputs_path, weights_only=True)[exercise_id]
            result["cases"] = call_cases(function, cases, seed_base)
    finally:
        torch.save(result, results_path)
