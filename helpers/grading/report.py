"""Write the gradebook (grades.csv), a JSON record and a feedback page per student."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from helpers.checks import EXERCISES

SYMBOLS = {"passed": "✓", "partial": "◐", "failed": "✗"}


def safe_name(student: str) -> str:
    """A file name for a student's outputs (folder names are used as they are, minus odd characters)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", student).lstrip(".") or "student"


def write_gradebook(records: list[dict], out: Path) -> Path:
    """grades.csv: `student,<exercise id>...,total,max`, one row per student."""
    ids = sorted(EXERCISES)
    path = out / "grades.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *ids, "total", "max"])
        for record in records:
            points = [f"{record['exercises'][key]['points']:g}" for key in ids]
            writer.writerow([record["student"], *points, f"{record['total']:g}", record["max"]])
    return path


def feedback(record: dict) -> str:
    """The page a student reads: totals, problems with the submission, a line per exercise (no test code)."""
    lines = [f"# Feedback for {record['student']}", "", f"**Total: {record['total']:g} / {record['max']} points**", ""]
    if record["problems"]:
        lines += ["## Problems with the submission", "", *(f"- {problem}" for problem in record["problems"]), ""]
    lines += ["## Exercises", ""]
    for key, grade in record["exercises"].items():
        mark = SYMBOLS.get(grade["status"], "…")
        lines.append(f"- {mark} **{key}** ({grade['points']:g}/{grade['max_points']}, {grade['status']}): {grade['message']}")
    if record["ignored"]:
        lines += ["", "Files that are not course notebooks were ignored: " + ", ".join(record["ignored"])]
    return "\n".join(lines) + "\n"


def write_outputs(records: list[dict], out: Path) -> list[Path]:
    """grades.csv, and OUT/<student>.json and OUT/<student>.md for each student."""
    out.mkdir(parents=True, exist_ok=True)
    written = [write_gradebook(records, out)]
    taken: set[str] = set()
    for record in records:
        name = base = safe_name(record["student"])
        while name.lower() in taken:  # two folder names that differ only in odd characters or case
            name = f"{base}-{len(taken)}"
        taken.add(name.lower())
        (out / f"{name}.json").write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        (out / f"{name}.md").write_text(feedback(record), encoding="utf-8")
        written += [out / f"{name}.json", out / f"{name}.md"]
    return written
