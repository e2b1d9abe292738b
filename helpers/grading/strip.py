"""The student copy of a notebook: each solution between `# BEGIN SOLUTION` and `# END SOLUTION` becomes `...`.

Marker lines are removed with the solution; the placeholder keeps the marker's indentation, so a
function's body becomes its docstring and `...`. Outputs of solution cells and check cells are
cleared; every other cell is kept as it is. Anything that would leak a solution is an error.
"""

from __future__ import annotations

import copy
import re

import nbformat

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
MARKER = re.compile(r"BEGIN SOLUTION|END SOLUTION")
CHECK_CALL = re.compile(r"""\bcheck\(\s*["']\d\d\.\d+["']""")
# A single solution line is searched for on its own when it is at least this long without spaces:
# shorter ones (`loss.backward()`, `w.grad.zero_()`, `u = a + b * c`) are idioms the notebooks teach.
MIN_LEAK_LENGTH = 16
HEADERS = ("for ", "while ", "if ", "elif ", "else", "try", "except", "finally", "with ", "def ", "#")


class ReleaseError(ValueError):
    """A notebook cannot be released: a marker is unbalanced or a solution would leak."""


def strip_source(source: str, where: str = "cell") -> tuple[str, list[list[str]]]:
    """Replace each marked solution block of one cell's source with `...`; return (source, each block's lines)."""
    kept, removed, indent = [], [], None
    for number, line in enumerate(source.split("\n"), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if indent is not None:
                raise ReleaseError(f"{where}, line {number}: `{BEGIN}` inside another solution block")
            indent = line[: len(line) - len(line.lstrip())]
            removed.append([])
        elif stripped == END:
            if indent is None:
                raise ReleaseError(f"{where}, line {number}: `{END}` without a `{BEGIN}` before it")
            kept.append(f"{indent}...")
            indent = None
        elif indent is not None:
            removed[-1].append(line)
        else:
            kept.append(line)
    if indent is not None:
        raise ReleaseError(f"{where}: `{BEGIN}` is never closed by `{END}`")
    return "\n".join(kept), removed


def is_check_cell(cell: nbformat.NotebookNode) -> bool:
    """True for a code cell that calls `check("NN.K", ...)`."""
    return cell.cell_type == "code" and bool(CHECK_CALL.search(cell.source))


def strip_solutions(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student copy of `nb` (a new notebook; `nb` is not changed). Raises ReleaseError on a leak."""
    release = copy.deepcopy(nb)
    removed: list[list[str]] = []
    for index, cell in enumerate(release.cells):
        if cell.cell_type != "code":
            continue
        source, lines = strip_source(cell.source, where=f"cell {index}")
        if source != cell.source:
            cell.source = source
            removed += lines
        if source != nb.cells[index].source or is_check_cell(cell):
            cell.outputs, cell.execution_count = [], None
    assert_no_leak(release, removed)
    return release


def squeeze(text: str) -> str:
    """`text` without any whitespace: how solution statements and what is searched are compared."""
    return "".join(text.split())


def leak_needles(solutions: list[list[str]], taught: str = "") -> set[str]:
    """What to search for, whitespace-free, for these solutions (each a list of lines): each whole solution,
    and each of its lines long enough to give it away on its own (a `return`'s expression without the
    keyword, so a hint or praise that pastes it is found too).

    Left out as single lines: comments, loop or branch headers, and lines the course shows outside any
    solution (`taught`: the release's own cell sources), which a solution may reuse. So a line of a
    solution may appear in a teaching cell, but not in an output or in the helpers unless a cell
    teaches it; a whole solution shown anywhere is always a leak."""
    known = squeeze(taught)
    needles = set()
    for lines in solutions:
        code = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
        if code:
            needles.add(squeeze("".join(code)))
        for line in code:
            piece = squeeze(line.removeprefix("return "))
            if (not line.startswith(HEADERS) and any(c in line for c in "()+-*/@%") and len(piece) >= MIN_LEAK_LENGTH
                    and piece not in known):
                needles.add(piece)
    return needles


def assert_no_leak(release: nbformat.NotebookNode, removed: list[list[str]]) -> None:
    """Raise ReleaseError when a marker, or a removed solution (see leak_needles), appears anywhere in `release`."""
    needles = leak_needles(removed, taught="\n".join(cell.source for cell in release.cells))
    for index, cell in enumerate(release.cells):
        for text in [cell.source, *strings_in(cell.get("outputs", []))]:
            if MARKER.search(text):
                raise ReleaseError(f"cell {index}: a solution marker would be left in the release: {MARKER.search(text).group()!r}")
            found = next((needle for needle in sorted(needles) if needle in squeeze(text)), None)
            if found:
                raise ReleaseError(f"cell {index}: solution text would leak into the release: {found!r}")


def strings_in(value) -> list[str]:
    """Every string inside a JSON-like value (an output's text, data, traceback...)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings_in(item)]
    if isinstance(value, list):
        joined = "".join(item for item in value if isinstance(item, str))  # multi-line text as a list
        return [joined, *(s for item in value if not isinstance(item, str) for s in strings_in(item))]
    return []
