"""The catalogue of mistake ids: every `mistake("id", text)` in the checks' source, with its hint.

Read from the source, not by running judges, so it lists every mistake a judge can name, even one
no test plants. A hint's text is shown as a template: what it takes from the case is "…". The class
report and summary.csv take a mistake's hint from here; tests/test_checks_mistakes.py keeps every
id unique to one mistake. `python -m helpers.checks.catalogue` prints it.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

from helpers.checks.hints import NOT_JUDGED

CHECKS = Path(__file__).parent
GAP = "…"  # stands for what a hint takes from the case

# Ids no judge names: what the checks and the grader say about an attempt that was not judged, or a case
# the grader could not judge, and an error of a type the checks do not recognise.
KINDS = {
    **NOT_JUDGED,
    f"error/{GAP}": "it raised an error the checks do not recognise (the id names the error's type, e.g. error/NameError).",
}


@dataclass(frozen=True)
class Entry:
    """One mistake: its id, where it is named (file and line), and its hint as a template."""

    id: str
    hint: str
    where: str

    @property
    def owner(self) -> str:
        """The exercise ("01.3") or notebook ("13") the id belongs to; "" for a course-wide id."""
        head, slash, _ = self.id.partition("/")
        return head if slash and head[:2].isdigit() else ""


def template(node: ast.expr) -> str:
    """A hint expression's text with every part computed at run time (a value from the case) as GAP."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(template(part) if isinstance(part, ast.Constant) else GAP for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return template(node.left) + template(node.right)
    return GAP


def entries_in(path: Path) -> list[Entry]:
    """The mistakes named in one module: `mistake("id", text)` calls and KNOWN_ERRORS' (needle, id, fix) rows."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "mistake" and len(node.args) == 2:
            name, text = node.args
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                found.append(Entry(name.value, template(text), f"{path.name}:{node.lineno}"))
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "KNOWN_ERRORS" for t in node.targets):
            for row in node.value.elts:
                needle, name, fix = row.elts
                found.append(Entry(name.value, f"{template(fix)} (it raised {GAP})", f"{path.name}:{row.lineno}"))
    return found


@functools.cache
def all_entries() -> tuple[Entry, ...]:
    """Every mistake named anywhere in helpers/checks, in file and line order."""
    return tuple(entry for path in sorted(CHECKS.glob("*.py")) for entry in entries_in(path))


@functools.cache
def hints() -> dict[str, str]:
    """Each id's hint template (the first place it is named), plus the kinds no judge names."""
    table = dict(KINDS)
    for entry in all_entries():
        table.setdefault(entry.id, entry.hint)
    return table


def hint_of(mistake_id: str) -> str:
    """The hint of a mistake id as the class report shows it; an `error/<type>` id by its kind."""
    table = hints()
    if mistake_id in table:
        return table[mistake_id]
    if mistake_id.startswith("error/"):
        return f"it raised {mistake_id.removeprefix('error/')}, an error the checks do not recognise."
    return ""


if __name__ == "__main__":
    for entry in all_entries():
        print(f"{entry.id}\t{entry.owner or 'course-wide'}\t{entry.where}\t{entry.hint}")
