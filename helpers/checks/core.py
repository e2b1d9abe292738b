"""The exercise-check engine: run a learner's function on cases, judge each result, explain a miss.

An `Exercise` is data: the name the learner defines, the reference solution, public cases (run by
the notebook's check cell), hidden cases (drawn from a seed at grading time) and a `judge` that
compares one result with the reference's and returns a hint, or None when it is right. `judge`
sees data only, so the grader can run the learner's code in another process and judge here.
"""

from __future__ import annotations

import contextlib
import dis
import html
import random
import signal
import threading
from dataclasses import dataclass
from typing import Any, Callable

import torch

from helpers.checks.rules import Facts, judge_call, observe, storage_of

PASSED, FAILED, NOT_ATTEMPTED = "passed", "failed", "not attempted"
SYMBOLS = {PASSED: "✓", FAILED: "✗", NOT_ATTEMPTED: "…"}
COLOURS = {PASSED: "#e6f4ea", FAILED: "#fce8e6", NOT_ATTEMPTED: "#f1f3f4"}

CASE_SECONDS = 10  # a learner's function is stopped after this long on one case

Case = tuple  # the positional arguments of one call
Judge = Callable[[Any, Case, Any], "str | None"]


@dataclass(frozen=True)
class Exercise:
    """One graded exercise, keyed by its id "NN.K" (NN is the notebook's number)."""

    id: str
    target: str  # the function the learner writes, by name
    points: int
    reference: Callable[..., Any]
    public_cases: Callable[[], list[Case]]
    hidden_cases: Callable[[random.Random], list[Case]]
    judge: Judge
    praise: str  # shown on a pass: what the learner got right
    # The rules of the statement beyond the value (helpers.checks.rules): every argument stays unchanged
    # unless `in_place` names the one the exercise changes in place (and returns, alone or in a tuple);
    # `gradient_to` names the arguments the result's graph must reach, so backward() runs through it.
    in_place: int | None = None
    gradient_to: tuple[int, ...] = ()


@dataclass(frozen=True)
class Result:
    """The verdict on one attempt; shows as a coloured line in Jupyter and as text elsewhere."""

    exercise_id: str
    status: str
    message: str

    def __bool__(self) -> bool:
        return self.status == PASSED

    def __repr__(self) -> str:
        head = f"{SYMBOLS[self.status]} {self.exercise_id}"
        if self.status == PASSED:
            return f"{head} passed — {self.message}"
        if self.status == NOT_ATTEMPTED:
            return f"{head} not attempted yet — {self.message}"
        return f"{head} — {self.message}"

    def _repr_html_(self) -> str:
        return (
            f'<div style="background:{COLOURS[self.status]};padding:6px 10px;border-radius:4px;'
            f'font-family:monospace;white-space:pre-wrap">{html.escape(repr(self))}</div>'
        )


# Error messages from torch and Python that point at a known misconception, with the fix.
KNOWN_ERRORS = [
    ("view size is not compatible", "view() needs contiguous memory (a transpose is not): use .reshape(), or .contiguous().view()."),
    ("shape '[", "the new shape must hold exactly as many elements as the tensor has (t.numel())."),
    ("Can't call numpy() on Tensor that requires grad", "call .detach() first: t.detach().numpy()."),
    ("can't convert cuda", "copy it to the CPU first: t.cpu().numpy()."),
    ("Expected all tensors to be on the same device", "move every tensor to one device with .to(device)."),
    ("nly Tensors of floating point", "only floating-point tensors can require gradients: make it float32 first."),  # "Only"/"only": torch says both
    ("have the same dtype", "the data and the weights must share one dtype: numpy (and so a CSV read with it) gives float64,"
                            " nn.Linear's weights are float32, so convert the data to float32."),
    ("Trying to backward through the graph a second time", "the graph was freed by the first backward(): run the forward pass again"
                                                           " (or pass retain_graph=True to the first backward)."),
    ("a leaf Variable that requires grad is being used in an in-place operation", "update parameters inside `with torch.no_grad():`."),
    ("is out of bounds", "indices count from 0: the last of n items is n - 1."),
    ("out of range", "indices count from 0: the last of n items is n - 1."),
    ("must match the size of tensor", "the shapes do not broadcast: print .shape of each operand."),
    ("expected target dtype to be Long", "class indices must be int64 (torch.long); float targets are read only as class"
                                         " probabilities, of shape (N, C)."),
    ("multi-target not supported", "class indices must have shape (N,), one per example, not a column (N, 1)."),
    ("target with class probabilities", "targets of shape (N, C) are read as class probabilities and must be floats;"
                                        " class indices are int64 of shape (N,)."),
    ("must be the same as input size", "a binary cross-entropy needs targets of the logits' shape: an (N, 1) output"
                                       " against (N,) labels must be squeezed to (N,)."),
    ("can't be cast to the desired output type Long", "binary cross-entropy targets are floats, 0.0 or 1.0: convert int64"
                                                      " labels to float."),
]


def explain_exception(error: BaseException) -> str:
    """One sentence on what the learner's code raised, plus the fix when we recognise it."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    said = f"{type(error).__name__}: {text}" if text else type(error).__name__
    for needle, fix in KNOWN_ERRORS:
        if needle in str(error):
            return f"it raised {said} — {fix}"
    return f"it raised {said}"


_EMPTY_OPS = {"RESUME", "NOP", "LOAD_CONST", "RETURN_VALUE", "RETURN_CONST", "POP_TOP"}


def is_placeholder(answer: Any) -> bool:
    """True for `...` and for a function whose body is only `...`/`pass` (the student release's)."""
    if answer is Ellipsis:
        return True
    code = getattr(answer, "__code__", None)
    if code is None:
        return False
    ops = list(dis.get_instructions(code))
    return all(op.opname in _EMPTY_OPS for op in ops) and all(
        op.argval in (None, Ellipsis) for op in ops if op.opname in ("LOAD_CONST", "RETURN_CONST")
    )


def clone_case(case: Case) -> Case:
    """A deep copy of a case, so a learner's in-place edit cannot change the next check or the case itself."""
    return tuple(deep_copy(arg) for arg in case)


def deep_copy(value: Any) -> Any:
    """`value` with every tensor cloned (a leaf again, requiring grad as before) and every list, tuple and dict rebuilt."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone().requires_grad_(value.requires_grad)
    if type(value) in (list, tuple):
        return type(value)(deep_copy(item) for item in value)
    if type(value) is dict:
        return {key: deep_copy(item) for key, item in value.items()}
    copy = getattr(value, "copy", None)  # numpy arrays
    return copy() if callable(copy) else value


def call_repr(target: str, case: Case) -> str:
    """How the call looks in the learner's words: `name(arg, ...)` with short argument reprs."""
    return f"{target}({', '.join(describe(arg, short=True) for arg in case)})"


def describe(value: Any, short: bool = False) -> str:
    """A short, readable account of a value: small tensors in full, large ones by shape and dtype."""
    if isinstance(value, torch.Tensor):
        if value.device.type != "cpu":
            return f"a tensor of shape {tuple(value.shape)}, dtype {value.dtype}, on {value.device}"
        if value.numel() <= (6 if short else 12) and value.dim() <= 2:
            text = repr(value.detach().cpu()).replace("\n", "").replace("       ", " ")
            return " ".join(text.split())
        return f"a tensor of shape {tuple(value.shape)}, dtype {value.dtype}"
    if type(value).__module__ == "numpy":
        return f"a numpy array of shape {getattr(value, 'shape', '?')}, dtype {getattr(value, 'dtype', '?')}"
    text = " ".join(repr(value).split())  # one line, even for a dict of tensors
    return text if len(text) <= 60 else f"a {type(value).__name__} ({text[:40]}…)"


class TooSlow(Exception):
    """Raised inside a learner's function that ran past CASE_SECONDS on one case."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise TooSlow in the running code after `seconds` (Unix, main thread: a Jupyter cell's case).

    Elsewhere (Windows, a worker thread) there is no limit: the check must still answer, not fail.
    """
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise TooSlow

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def call_limited(answer: Callable[..., Any], case: Case) -> tuple[Any, Case, Facts]:
    """`answer(*case)` on a copy of the case, stopped with TooSlow after CASE_SECONDS.

    Returns the result, the copy as the call left it, and the facts of the call that the rules judge.
    """
    arguments = clone_case(case)
    storage = storage_of(arguments)
    with time_limit(CASE_SECONDS):
        got = answer(*arguments)
    return got, arguments, observe(arguments, storage, got)


def reference_results(exercise: Exercise, cases: list[Case]) -> list[Any]:
    """The reference's result on each case, leaving torch's global generator as it was.

    So the learner's function draws the same random numbers whether or not the reference ran
    first (the student release reads these results from a file instead of running a reference).
    """
    with torch.random.fork_rng(devices=[]):
        return [exercise.reference(*clone_case(case)) for case in cases]


def evaluate(exercise: Exercise, answer: Any, cases: list[Case], expected: list[Any]) -> Result:
    """Run `answer` on each case and judge it against the expected result; the first miss is the verdict."""
    if is_placeholder(answer):
        return Result(exercise.id, NOT_ATTEMPTED, f"replace the ... in `{exercise.target}` with your code, run that cell, then run this one again.")
    if not callable(answer):
        return Result(exercise.id, FAILED, f"pass the function `{exercise.target}` itself (no parentheses); you passed {describe(answer)}.")
    for case, want in zip(cases, expected, strict=True):
        call = call_repr(exercise.target, case)
        try:
            got, after, facts = call_limited(answer, case)
        except TooSlow:
            return Result(exercise.id, FAILED, f"{call}: it was stopped after {CASE_SECONDS:g} s; the reference takes well under a second"
                                               " — look for a loop that never ends or one that runs far more often than needed.")
        except Exception as error:  # the learner's error, reported as a hint, never a traceback
            return Result(exercise.id, FAILED, f"{call}: {explain_exception(error)}")
        hint = judge_call(exercise, case, got, want, after, facts)
        if hint:
            return Result(exercise.id, FAILED, f"{call}: {hint}")
    return Result(exercise.id, PASSED, exercise.praise)


def safely(exercise_id: str, run: Callable[[], Result]) -> Result:
    """Run a check so that a fault in the check itself is a message, not a traceback."""
    try:
        return run()
    except Exception as error:  # pragma: no cover - a bug in a check; reported, never raised
        return Result(exercise_id, FAILED, f"the check itself failed ({type(error).__name__}: {error}); please report this.")
