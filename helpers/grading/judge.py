"""Score one exercise in the grader's own process, from the data the student's kernel wrote.

The results file is read with `torch.load(weights_only=True)` (no arbitrary unpickling), within
bounds a kernel cannot stretch (`read_results`: uncompressed zip entries only, caps on size, tensor
elements, items and depth, no shared references), its shape is checked, descriptions of non-data
values become `Opaque` objects, and each case is judged by the exercise's own `judge` against the
reference's result on the same hidden case, then by the rules every exercise keeps
(`helpers.checks.rules`) on the arguments as the call left them, under an address-space limit
(`memory_limit`), so what slips through costs its student, not the grader.
The feedback names the mistake only: what a hint quotes from the hidden case is left out
(`hidden_text`), so re-grading with the same secret hands over neither the hidden inputs nor
their expected results. The message is `text.safe_text`: it may quote what the student's code raised.
"""

from __future__ import annotations

import builtins
import contextlib
import math
import os
import resource
import stat
import zipfile
from pathlib import Path
from typing import Any

import torch

from helpers.checks.core import Case, Exercise, clone_case, explain_error, hidden_text, shown
from helpers.checks.hints import (
    FUNCTION_MISSING_ID,
    NO_ARGUMENTS_ID,
    NO_RESULT_ID,
    NOT_A_FUNCTION_ID,
    NOT_ATTEMPTED_ID,
    NOT_COMPARABLE_ID,
    OWN_EXCEPTION_ID,
    TIMEOUT_ID,
    mistake,
    mistake_of,
)
from helpers.checks.rules import RuleBroken, judge_call
from helpers.grading.kernel_side import MAX_DEPTH, NUMPY, OPAQUE
from helpers.grading.record import ExerciseGrade, Status
from helpers.grading.text import safe_text

MAX_RESULT_BYTES = 64 * 2**20  # the results file, and what its entries hold together
MAX_PICKLE_BYTES = 4 * 2**20  # its pickle: each byte may become an object of ~60 bytes
MAX_ENTRIES = 10_000  # entries in its zip (one per tensor, and five more)
MAX_ITEMS = 1_000_000  # list, tuple and dict items in the whole structure
MAX_TENSOR_ELEMENTS = 2**24  # elements of every tensor together (what the entries hold, or an expanded view's)
MAX_NESTING = MAX_DEPTH + 5  # the kernel nests a value in at most MAX_DEPTH containers, in its record's four
JUDGE_MEMORY_BYTES = 2**30  # address space judging one exercise may add to the grading process
class Opaque:
    """Stands for a value the student's function returned that is not plain data (an object, a subclass)."""

    def __init__(self, type_name: str):
        self.type_name = type_name if isinstance(type_name, str) else "unknown"

    def __repr__(self) -> str:
        return f"a {self.type_name} object"


class UnreadableResults(ValueError):
    """The kernel's results file is missing, not a plain file, too large, or not safe data."""


def read_results(path: Path) -> dict:
    """The results one exercise's grading cell wrote, read as data only, within bounds (see `check_archive`, `check_structure`)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise UnreadableResults("the grading cell left no results (was it blanked, or the kernel stopped?)") from None
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableResults("the results are not a plain file")
    if info.st_size > MAX_RESULT_BYTES:
        raise UnreadableResults(f"the results are {info.st_size / 2**20:.0f} MiB, over the {MAX_RESULT_BYTES // 2**20} MiB limit")
    check_archive(path)
    try:
        record = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as error:  # UnpicklingError for a crafted pickle, and many others
        raise UnreadableResults(f"the results are not plain data ({type(error).__name__}); they were not read") from None
    check_structure(record)
    if type(record) is not dict or type(record.get("status")) is not str or type(record.get("cases")) is not list:
        raise UnreadableResults("the results do not have the expected layout")
    return record


def check_archive(path: Path) -> None:
    """UnreadableResults unless `path` is a zip as torch.save writes it: entries stored, not compressed (so none
    holds more than it takes on disk), not too many, not too large together, and a pickle of bounded size."""
    try:
        with path.open("rb") as file:
            start = file.read(4)
        if start != b"PK\x03\x04":  # torch.load reads anything else with its legacy loader
            raise UnreadableResults("the results are not a zip archive as torch.save writes it")
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (OSError, zipfile.BadZipFile) as error:
        raise UnreadableResults(f"the results are not a readable zip archive ({type(error).__name__})") from None
    if len(entries) > MAX_ENTRIES:
        raise UnreadableResults(f"the results have {len(entries)} entries, over the limit of {MAX_ENTRIES}")
    if any(entry.compress_type != zipfile.ZIP_STORED or entry.compress_size != entry.file_size for entry in entries):
        raise UnreadableResults("the results have compressed entries (torch.save stores them uncompressed); they were not read")
    if sum(entry.file_size for entry in entries) > MAX_RESULT_BYTES:
        raise UnreadableResults(f"the results hold more than {MAX_RESULT_BYTES // 2**20} MiB")
    if any(entry.filename.endswith("/data.pkl") and entry.file_size > MAX_PICKLE_BYTES for entry in entries):
        raise UnreadableResults(f"the results' structure is over the {MAX_PICKLE_BYTES // 2**20} MiB limit")


def check_structure(record: Any) -> None:
    """UnreadableResults unless `record` is a tree of bounded depth, items and tensor elements in which no
    list, tuple, dict or tensor appears twice (a shared reference makes a tiny file a huge structure to walk)."""
    seen: set[int] = set()
    items = elements = 0
    stack = [(record, 0)]
    while stack:
        value, depth = stack.pop()
        if type(value) is torch.Tensor:
            elements += value.numel()
        elif type(value) not in (list, tuple, dict) or not value:
            continue  # a number, a string, None, or an empty container (all immutable or harmless to share)
        else:
            if depth >= MAX_NESTING:
                raise UnreadableResults(f"the results are nested more than {MAX_NESTING} levels deep")
            children = [*value.keys(), *value.values()] if type(value) is dict else value
            items += len(children)
            stack.extend((child, depth + 1) for child in children)
        if id(value) in seen:
            raise UnreadableResults("the results hold a shared reference (the same value twice); they were not read")
        seen.add(id(value))
        if items > MAX_ITEMS or elements > MAX_TENSOR_ELEMENTS:
            raise UnreadableResults(f"the results hold more than {MAX_ITEMS} items or {MAX_TENSOR_ELEMENTS} tensor elements")


@contextlib.contextmanager
def memory_limit(extra_bytes: int | None = None):
    """Within this block, the process may map at most `extra_bytes` (JUDGE_MEMORY_BYTES) more address space than
    it maps now (RLIMIT_AS's soft limit, put back after): judging a result that slipped through the bounds raises
    MemoryError instead of growing the grader. Where the limit cannot be set, the block runs without it."""
    extra_bytes = JUDGE_MEMORY_BYTES if extra_bytes is None else extra_bytes
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    try:
        with open("/proc/self/statm") as statm:
            mapped = int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        mapped = None
    wanted = None if mapped is None else mapped + extra_bytes
    if wanted is not None and hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if wanted is not None and (soft == resource.RLIM_INFINITY or wanted < soft):
        resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def restore(value: Any) -> Any:
    """Turn the kernel's markers back into values: numpy arrays, and `Opaque` for non-data."""
    if type(value) is dict and len(value) == 1 and OPAQUE in value:
        return Opaque(value[OPAQUE])
    if type(value) is dict and len(value) == 1 and NUMPY in value and type(value[NUMPY]) is torch.Tensor:
        array = value[NUMPY].numpy()
        return array[()] if array.ndim == 0 else array
    if type(value) is list:
        return [restore(item) for item in value]
    if type(value) is tuple:
        return tuple(restore(item) for item in value)
    if type(value) is dict:
        return {key: restore(item) for key, item in value.items()}
    return value


def judge_case(exercise: Exercise, case: Case, expected: Any, record: Any) -> str | None:
    """None when the case passed, else a hint (the exercise's own, or what went wrong) carrying its mistake id."""
    if type(record) is not dict:
        return mistake(NO_RESULT_ID, "no result was recorded for this case.")
    if record.get("timeout"):
        return mistake(TIMEOUT_ID, "it ran past the time limit.")
    if "error" in record:
        name, _, text = str(record["error"])[:300].partition(": ")
        builtin = isinstance(getattr(builtins, name, None), type)  # a class of the student's own may be named after the case
        return explain_error(name if builtin else shown(name), text, None if builtin else OWN_EXCEPTION_ID.removeprefix("error/"))
    if "value" not in record:
        return mistake(NO_RESULT_ID, "no result was recorded for this case.")
    got = restore(record["value"])
    after, facts = restore(record.get("arguments")), record.get("facts")
    if not well_formed_call(case, after, facts):
        return mistake(NO_ARGUMENTS_ID, "no record of the arguments after the call was kept for this case.")
    try:
        return judge_call(exercise, clone_case(case), got, expected, after, facts)
    except MemoryError:  # past memory_limit: the whole exercise is not judged (see grade.grade_exercise)
        raise
    except Exception as error:  # a value the judge could not even compare is a miss, with its type
        return mistake(NOT_COMPARABLE_ID, f"your result ({type(got).__name__}) could not be compared: {type(error).__name__}.")


def well_formed_call(case: Case, after: Any, facts: Any) -> bool:
    """True when the kernel's account of the call has the layout `kernel_side` writes (it is the student's data)."""
    return (type(after) is tuple and len(after) == len(case) and type(facts) is dict
            and all(type(facts.get(key)) is list and all(type(i) is int for i in facts[key]) for key in ("returned", "moved", "gradient_to")))


def score(exercise: Exercise, cases: list[Case], expected: list, record: dict) -> ExerciseGrade:
    """Points for one exercise: its points times the fraction of hidden cases passed; 0 if one broke a rule of the statement."""
    status = record["status"]
    if status == "missing":
        return ExerciseGrade(exercise.id, Status.MISSING, 0, exercise.points, f"`{exercise.target}` is not defined after your notebook ran:"
                             " keep the function's name as given, and see the errors listed above.", mistake=FUNCTION_MISSING_ID)
    if status == "placeholder":
        return ExerciseGrade(exercise.id, Status.NOT_ATTEMPTED, 0, exercise.points, f"`{exercise.target}` still has the `...` placeholder.",
                             mistake=NOT_ATTEMPTED_ID)
    if status != "ran":
        return ExerciseGrade(exercise.id, Status.FAILED, 0, exercise.points, f"`{exercise.target}` is not a function.", mistake=NOT_A_FUNCTION_ID)
    records = record["cases"]
    hints = [judge_case(exercise, case, want, records[i] if i < len(records) else None) for i, (case, want) in enumerate(zip(cases, expected, strict=True))]
    passed = sum(hint is None for hint in hints)
    broken = next((i for i, hint in enumerate(hints) if isinstance(hint, RuleBroken)), None)  # a rule holds for every input or not at all
    seconds = sum(r["time"] for r in records if type(r) is dict and type(r.get("time")) is float and math.isfinite(r["time"]))
    points = round(exercise.points * passed / len(cases), 2) if cases and broken is None else 0
    named = [mistake_of(hint) for hint in hints]
    if passed == len(cases):
        return ExerciseGrade(exercise.id, Status.PASSED, points, exercise.points, exercise.praise, seconds, passed, len(cases), "", named)
    first = broken if broken is not None else next(i for i, hint in enumerate(hints) if hint is not None)
    cost = ", but a case broke a rule of the statement, which costs the whole exercise" if broken is not None and passed else ""
    message = safe_text(f"{passed} of {len(cases)} hidden cases passed{cost}. {hidden_text(hints[first])}")
    return ExerciseGrade(exercise.id, Status.PARTIAL if points else Status.FAILED, points, exercise.points, message, seconds, passed, len(cases),
                         named[first], named)
