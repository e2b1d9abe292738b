"""The exercise-check engine: run a learner's function on cases, judge each result, explain a miss.

An `Exercise` is data: the name the learner defines, the reference solution, public cases (run by
the notebook's check cell), hidden cases (drawn from a seed at grading time) and a `judge` that
compares one result with the reference's and returns a hint, or None when it is right. `judge`
sees data only, so the grader can run the learner's code in another process and judge here.

A hint names the misconception it recognises by a stable id next to its text, `mistake("01.3/low-bound-included",
f"...")`: an id `NN.K/slug` belongs to one exercise, an id without an exercise (`shape-size-1`) is one
course-wide mistake that many exercises share. The learner reads the text; the grader's records and the
class report count the ids (`Result.mistake`, `mistake_of`). Raw errors are named by kind: `error/NameError`,
`timeout`, `not-attempted`.

A hint is advice first; whatever in it comes from the case (the inputs, the expected result, what
the learner's function returned on it) is wrapped in `shown(...)`. The notebook shows those parts
(`public_text`); the grader's feedback on hidden cases leaves them out (`hidden_text`), so re-grading
with the same secret never hands a learner the hidden cases or their answers.
"""

from __future__ import annotations

import contextlib
import dis
import html
import random
import re
import signal
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Callable

import torch

from helpers.checks.hints import NOT_A_FUNCTION_ID, NOT_ATTEMPTED_ID, TIMEOUT_ID, Hint, mistake, mistake_of
from helpers.checks.rules import Facts, judge_call, observe, storage_of


class Status(StrEnum):
    """What became of an exercise: the one vocabulary of a learner's check and of the grader's records
    (`helpers.grading.record`). A check answers with the first three; the grader uses them all."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_ATTEMPTED = "not attempted"  # the `...` placeholder is still there
    PARTIAL = "partial"  # some hidden cases passed
    MISSING = "missing"  # the function is not defined after the notebook ran
    NOT_SUBMITTED = "not submitted"  # its notebook was not handed in
    NOT_GRADED = "not graded"  # the grader could not judge it (or flagged it for review)


PASSED, FAILED, NOT_ATTEMPTED = Status.PASSED.value, Status.FAILED.value, Status.NOT_ATTEMPTED.value
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


def torch_generator(rng: random.Random) -> torch.Generator:
    """A torch generator seeded from the hidden cases' generator, so hidden tensors follow from the secret."""
    return torch.Generator().manual_seed(rng.randrange(2**31))


@dataclass(frozen=True)
class Result:
    """The verdict on one attempt; shows as a coloured line in Jupyter and as text elsewhere."""

    exercise_id: str
    status: str
    message: str  # the advice (or the praise)
    case: str = ""  # the failing call, described briefly; shown under the advice
    mistake: str = ""  # the id of the misconception named (core.mistake); never shown to the learner

    def __bool__(self) -> bool:
        return self.status == PASSED

    def __repr__(self) -> str:
        head = f"{SYMBOLS[self.status]} {self.exercise_id}"
        if self.status == PASSED:
            return f"{head} passed — {self.message}"
        if self.status == NOT_ATTEMPTED:
            return f"{head} not attempted yet — {self.message}"
        return f"{head} — {self.message}" + (f"\n  case: {self.case}" if self.case else "")

    def _repr_html_(self) -> str:
        return (
            f'<div style="background:{COLOURS[self.status]};padding:6px 10px;border-radius:4px;'
            f'font-family:monospace;white-space:pre-wrap">{html.escape(repr(self))}</div>'
        )


# What a `.grad` of None means, for the errors that using one raises.
GRAD_IS_NONE = ("a .grad was None there: backward() fills .grad only on a leaf tensor created with requires_grad=True that "
                "the loss was computed from. A parameter made without requires_grad=True, one the model leaves out (a bias never "
                "added in), or one rebuilt as w = w - ... outside torch.no_grad() (no longer a leaf) gets none: update in place, "
                "inside torch.no_grad().")

# Error messages from torch and Python that point at a known misconception, with the fix.
KNOWN_ERRORS = [  # (what the error says, the misconception's id, the fix)
    ("view size is not compatible", "view-non-contiguous", "view() needs contiguous memory (a transpose is not): use .reshape(), or .contiguous().view()."),
    ("shape '[", "reshape-wrong-numel", "the new shape must hold exactly as many elements as the tensor has (t.numel())."),
    ("Can't call numpy() on Tensor that requires grad", "numpy-of-grad-tensor", "call .detach() first: t.detach().numpy()."),
    ("can't convert cuda", "numpy-of-cuda-tensor", "copy it to the CPU first: t.cpu().numpy()."),
    ("Expected all tensors to be on the same device", "devices-differ", "move every tensor to one device with .to(device)."),
    ("nly Tensors of floating point", "grad-of-integer-tensor", "only floating-point tensors can require gradients: make it float32 "
                                                                "first."),  # "Only"/"only": torch says both
    ("have the same dtype", "dtype-float64-data-float32-weights", "the data and the weights must share one dtype: numpy (and so a CSV read with it) gives "
                                                                  "float64,"
                            " nn.Linear's weights are float32, so convert the data to float32."),
    ("Trying to backward through the graph a second time", "backward-twice", "the graph was freed by the first backward(): run the forward pass again"
                                                           " (or pass retain_graph=True to the first backward)."),
    ("a leaf Variable that requires grad is being used in an in-place operation", "leaf-updated-in-place-with-grad", "update parameters inside `with "
                                                                                                                     "torch.no_grad():`."),
    ("and 'NoneType'", "grad-is-none", GRAD_IS_NONE),  # unsupported operand type(s) for *: 'float' and 'NoneType'
    ("'NoneType' object has no attribute 'zero_'", "grad-is-none", GRAD_IS_NONE),
    ("does not require grad and does not have a grad_fn", "loss-without-grad", "the loss depends on no tensor that requires grad: a parameter rebuilt as "
                                                          "w = w - ... inside torch.no_grad() is a new tensor that does not; update it "
                                                          "in place (-=) instead, so it stays the leaf that requires grad."),
    ("cannot be converted to Scalar", "item-of-many-elements", ".item() gives the one number of a one-element tensor: index down to a single element first"
                                      " (one index per dimension)."),
    ("is out of bounds", "index-from-one", "indices count from 0: the last of n items is n - 1."),
    ("out of range", "index-from-one", "indices count from 0: the last of n items is n - 1."),
    ("must match the size of tensor", "shapes-do-not-broadcast", "the shapes do not broadcast: print .shape of each operand."),
    ("expected target dtype to be Long", "class-targets-not-long", "class indices must be int64 (torch.long); float targets are read only as class"
                                         " probabilities, of shape (N, C)."),
    ("multi-target not supported", "class-targets-column", "class indices must have shape (N,), one per example, not a column (N, 1)."),
    ("target with class probabilities", "probability-targets-not-float", "targets of shape (N, C) are read as class probabilities and must be floats;"
                                        " class indices are int64 of shape (N,)."),
    ("must be the same as input size", "bce-target-shape", "a binary cross-entropy needs targets of the logits' shape: an (N, 1) output"
                                       " against (N,) labels must be squeezed to (N,)."),
    ("can't be cast to the desired output type Long", "bce-targets-not-float", "binary cross-entropy targets are floats, 0.0 or 1.0: convert int64"
                                                      " labels to float."),
]


def explain_exception(error: BaseException) -> Hint:
    """One sentence on what the learner's code raised, plus the fix when we recognise it."""
    return explain_error(type(error).__name__, str(error))


def explain_error(name: str, text: str, kind: str | None = None) -> Hint:
    """`explain_exception` from an error's type name and text (the grader gets them from the kernel).

    A recognised error leads with its fix, then says what was raised, and carries that misconception's
    id; any other is named by its kind, `error/<kind>` (`kind` is the type's name unless the grader
    gives one: a student's own exception class is not a kind to count). The text may quote the case
    (a shape, a value), so it is `shown`."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    said = f"{name}: {shown(first)}" if first else name
    for needle, mistake_id, fix in KNOWN_ERRORS:
        if needle in text:
            return mistake(mistake_id, f"{fix} (it raised {said})")
    return mistake(f"error/{kind or name}", f"it raised {said}")


def with_article(text: str) -> str:
    """`text` after "a" or "an" as it is read aloud: an int, an (8, 8) table, a (5, 5) one, an 11 × 11 grid."""
    spoken = text.lstrip("(")
    digits = spoken[:len(spoken) - len(spoken.lstrip("0123456789"))]
    if digits:
        vowel = digits[0] == "8" or (digits[:2] in ("11", "18") and len(digits) % 3 == 2)
    else:
        vowel = spoken[:1].lower() in ("a", "e", "i", "o")
    return f"{'an' if vowel else 'a'} {text}"


# `shown(...)` marks a piece of a hint taken from the case: two private-use characters around it.
SHOWN_OPEN, SHOWN_CLOSE = "\ue000", "\ue001"
_SHOWN_SPAN = re.compile(f"{SHOWN_OPEN}[^{SHOWN_CLOSE}]*(?:{SHOWN_CLOSE}|$)")


def shown(value: Any, spec: str = "") -> str:
    """`format(value, spec)`, marked as taken from the case: the notebook shows it, hidden-case feedback leaves it out."""
    text = format(value, spec).replace(SHOWN_OPEN, "").replace(SHOWN_CLOSE, "")
    return f"{SHOWN_OPEN}{text}{SHOWN_CLOSE}"


def public_text(hint: str) -> str:
    """The hint as the notebook shows it, on a public case: everything, markers removed."""
    return hint.replace(SHOWN_OPEN, "").replace(SHOWN_CLOSE, "")


def hidden_text(hint: str) -> str:
    """The hint as the grader's feedback gives it for a hidden case: each piece taken from the case becomes "…"."""
    return _SHOWN_SPAN.sub("…", hint).replace(SHOWN_CLOSE, "")


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
    """The case as a call in the learner's words, `name(arg, ...)`, each argument in brief (a public case only)."""
    return f"{target}({', '.join(account(arg, short=True) for arg in case)})"


def describe(value: Any) -> str:
    """A short account of a value, marked `shown` (it comes from a case): small tensors in full,
    larger ones by shape, dtype and their first few values."""
    return shown(account(value))


def account(value: Any, short: bool = False) -> str:
    """`describe`'s text, unmarked; `short` (for a call's arguments) writes fewer values in full."""
    if isinstance(value, torch.Tensor):
        kind = f"a tensor of shape {tuple(value.shape)}, {str(value.dtype).removeprefix('torch.')}"
        if value.device.type != "cpu":
            return f"{kind}, on {value.device}"
        if value.numel() <= (6 if short else 12) and value.dim() <= 2:
            text = repr(value.detach().cpu()).replace("\n", "").replace("       ", " ")
            return " ".join(text.split())
        first = value.detach().flatten()[:3].tolist()
        return f"{kind}: [{', '.join(f'{v:.4g}' if isinstance(v, float) else str(v) for v in first)}, …]"
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
        return Result(exercise.id, NOT_ATTEMPTED, f"replace the ... in `{exercise.target}` with your code, run that cell, then run this one again.",
                      mistake=NOT_ATTEMPTED_ID)
    if not callable(answer):
        return Result(exercise.id, FAILED, f"pass the function `{exercise.target}` itself (no parentheses); you passed {account(answer)}.",
                      mistake=NOT_A_FUNCTION_ID)
    for case, want in zip(cases, expected, strict=True):
        call = call_repr(exercise.target, case)
        try:
            got, after, facts = call_limited(answer, case)
        except TooSlow:
            return Result(exercise.id, FAILED, f"it was stopped after {CASE_SECONDS:g} s; the reference takes well under a second"
                                               " — look for a loop that never ends or one that runs far more often than needed.", call,
                          TIMEOUT_ID)
        except Exception as error:  # the learner's error, reported as a hint, never a traceback
            hint = explain_exception(error)
            return Result(exercise.id, FAILED, public_text(hint), call, mistake_of(hint))
        hint = judge_call(exercise, case, got, want, after, facts)
        if hint:
            return Result(exercise.id, FAILED, public_text(hint), call, mistake_of(hint))
    return Result(exercise.id, PASSED, exercise.praise)


def safely(exercise_id: str, run: Callable[[], Result]) -> Result:
    """Run a check so that a fault in the check itself is a message, not a traceback."""
    try:
        return run()
    except Exception as error:  # pragma: no cover - a bug in a check; reported, never raised
        return Result(exercise_id, FAILED, f"the check itself failed ({type(error).__name__}: {error}); please report this.")
