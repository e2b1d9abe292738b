"""Read a submitted notebook without trusting it: every way it can be broken becomes a clear reason."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

MAX_BYTES = 50 * 2**20
NOTEBOOK_NAME = re.compile(r"^(\d\d)_[^/]*\.ipynb$")
# Code that reaches for the reference solutions or the course install behind the grader's back.
SUSPICIOUS = re.compile(r"checks\s*\.\s*nb\d|\bnb\d\d\s+import\b|\.reference\b|\bEXERCISES\b|addsitedir|\bsite\s*\.\s*main\b|__editable__")


class SubmissionError(ValueError):
    """The file cannot be graded; the message says why, in words a student understands."""


def notebook_number(path: Path) -> str | None:
    """"01" for `01_tensors.ipynb`, None for a name that is not a course notebook's."""
    match = NOTEBOOK_NAME.match(path.name)
    return match.group(1) if match else None


def read_submission(path: Path) -> tuple[nbformat.NotebookNode, list[str]]:
    """The notebook (as nbformat 4) and notes on what was repaired; SubmissionError when unreadable."""
    if path.is_symlink() or not path.is_file():
        raise SubmissionError("it is not a regular file")
    data = path.read_bytes()
    if len(data) > MAX_BYTES:
        raise SubmissionError(f"the file is {len(data) / 2**20:.0f} MiB, more than the {MAX_BYTES // 2**20} MiB a notebook may have")
    if not data.strip():
        raise SubmissionError("the file is empty")
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise SubmissionError(f"the file is not valid JSON ({error}); was it saved completely?") from None
    if not isinstance(raw, dict) or "nbformat" not in raw:
        raise SubmissionError("the file is JSON but not a Jupyter notebook (no nbformat field)")
    notes = []
    if raw.get("nbformat") != 4:
        notes.append(f"the notebook is in the old nbformat {raw.get('nbformat')}; it was upgraded to nbformat 4 for grading")
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as error:  # nbformat raises many kinds on broken input
        raise SubmissionError(f"the notebook cannot be read as nbformat 4 ({type(error).__name__}: {error})") from None
    return nb, notes


def code_sources(nb: nbformat.NotebookNode) -> list[str]:
    """The source of every code cell, in order (a cell whose source is not text counts as empty)."""
    sources = []
    for cell in nb.get("cells", []):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            sources.append(source if isinstance(source, str) else "")
    return sources


def reaches_for_references(sources: list[str]) -> str | None:
    """The first line that names the reference solutions or the course install, or None."""
    for source in sources:
        for line in source.splitlines():
            if SUSPICIOUS.search(line):
                return line.strip()[:120]
    return None
