"""Write the gradebook (grades.csv), the class summary, and a JSON record and feedback page per student.

The JSON records in OUT are the gradebook's source of truth: grading some students writes their
records, then grades.csv and summary.csv are rebuilt from every record in OUT. So re-grading one
student replaces only that student's row, and a row is never lost. Each file is written atomically
(a temporary file in OUT, then a rename), so an interrupted run leaves the old file or the new one.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from helpers.checks import EXERCISES
from helpers.grading import class_report
from helpers.grading.mistakes import ATTEMPTED, tally
from helpers.grading.record import Status, StudentRecord
from helpers.grading.text import csv_cell, markdown_line, terminal_line

SYMBOLS = {Status.PASSED: "✓", Status.PARTIAL: "◐", Status.FAILED: "✗"}
ROSTER_FILE = "roster.csv"
REPORT_FILE = "report.html"


@dataclass(frozen=True)
class RosterEntry:
    """One row of an instructor's roster: the student's folder name, LMS id and display name."""

    student: str
    lms_id: str
    name: str


class RosterError(ValueError):
    """The roster file cannot be used; the message says why."""


def read_roster(path: Path) -> dict[str, RosterEntry]:
    """The roster CSV (header `student,id,name`), keyed by student folder name."""
    try:
        rows = list(csv.DictReader(path.open(newline="", encoding="utf-8-sig")))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise RosterError(f"the roster {path} cannot be read ({error})") from None
    if not rows or not {"student", "id", "name"} <= set(rows[0]):
        raise RosterError(f"the roster {path} needs a header row with the columns student,id,name")
    roster: dict[str, RosterEntry] = {}
    for number, row in enumerate(rows, start=2):
        student = (row["student"] or "").strip()
        if not student:
            raise RosterError(f"{path}, line {number}: the student column is empty")
        if student in roster:
            raise RosterError(f"{path}, line {number}: {student!r} is listed twice")
        roster[student] = RosterEntry(student, (row["id"] or "").strip(), (row["name"] or "").strip())
    return roster


def safe_name(student: str) -> str:
    """A file name for a student's outputs (folder names are used as they are, minus odd characters)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", student).lstrip(".")[:200] or "student"


def write_atomically(path: Path, text: str) -> Path:
    """Write `text` to `path` through a temporary file in the same folder and a rename."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def stored_records(out: Path) -> dict[str, tuple[Path, StudentRecord]]:
    """The student records already in OUT, by student, with the file each is in (a file that is not one is skipped)."""
    found = {}
    for path in sorted(out.glob("*.json")):  # only student records are JSON in OUT
        try:
            record = StudentRecord.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            continue
        if isinstance(record.student, str):
            found[record.student] = (path, record)
    return found


def record_file(student: str, out: Path, stored: dict[str, tuple[Path, StudentRecord]]) -> Path:
    """The JSON file of `student` in OUT: the one it already has, or a new name no other student uses."""
    if student in stored:
        return stored[student][0]
    taken = {path.stem.lower() for path, _ in stored.values()}
    name = base = safe_name(student)
    number = 0
    while name.lower() in taken:  # two folder names that differ only in odd characters or case
        number += 1
        name = f"{base}-{number}"
    return out / f"{name}.json"


def points_of(record: StudentRecord, key: str) -> float:
    """The points of exercise `key` in `record` (0 for an exercise the record predates)."""
    grade = record.exercises.get(key)
    return grade.points if grade is not None else 0


def gradebook_text(records: list[StudentRecord], roster: dict[str, RosterEntry] | None) -> str:
    """grades.csv: `student,<exercise id>...,total,max`, one row per student in name order.

    With a roster: `student,id,name,<exercise id>...,total,max,status`, a row for every roster
    student (status "not submitted" when no submission was graded) and for every graded student.
    """
    ids = sorted(EXERCISES)
    maximum = sum(e.points for e in EXERCISES.values())
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    by_student = {record.student: record for record in records}
    if roster is None:
        writer.writerow(["student", *ids, "total", "max"])
        for student in sorted(by_student):
            record = by_student[student]
            writer.writerow([csv_cell(student), *(f"{points_of(record, key):g}" for key in ids), f"{record.total:g}", maximum])
        return buffer.getvalue()
    writer.writerow(["student", "id", "name", *ids, "total", "max", "status"])
    for student in sorted(set(by_student) | set(roster)):
        entry = roster.get(student, RosterEntry(student, "", ""))
        record = by_student.get(student)
        if record is None:
            writer.writerow([*map(csv_cell, (student, entry.lms_id, entry.name)), *("0" for _ in ids), "0", maximum, Status.NOT_SUBMITTED.value])
        else:
            writer.writerow([*map(csv_cell, (student, entry.lms_id, entry.name)), *(f"{points_of(record, key):g}" for key in ids),
                             f"{record.total:g}", maximum, "graded"])
    return buffer.getvalue()


def summary_rows(records: list[StudentRecord]) -> list[list[str]]:
    """Per exercise: max points, mean points, how many attempted / passed / partial; then who had problems
    (the students' names and problems as they are: each place they land escapes them)."""
    graded = records
    rows = [["exercise", "max_points", "mean_points", "attempted", "passed", "partial", "students"]]
    for key in sorted(EXERCISES):
        grades = [r.exercises[key] for r in graded if key in r.exercises]
        statuses = [g.status for g in grades]
        mean = sum(g.points for g in grades) / len(grades) if grades else 0
        rows.append([key, str(EXERCISES[key].points), f"{mean:.2f}", str(sum(s in ATTEMPTED for s in statuses)),
                     str(statuses.count(Status.PASSED)), str(statuses.count(Status.PARTIAL)), str(len(grades))])
    total_mean = sum(r.total for r in graded) / len(graded) if graded else 0
    rows.append(["total", str(sum(e.points for e in EXERCISES.values())), f"{total_mean:.2f}", "", "", "", str(len(graded))])
    rows.append([])
    rows.append(["student with problems", "problems", "first problem"])
    for record in sorted(graded, key=lambda r: r.student):
        if record.problems:
            rows.append([record.student, str(len(record.problems)), record.problems[0]])
    return rows


def mistake_rows(records: list[StudentRecord]) -> list[list[str]]:
    """The table of mistakes: per mistake id and exercise, its hint, how many students made it, and their share
    of those who attempted the exercise (helpers.grading.mistakes), most common first."""
    rows = [["mistake", "exercise", "hint", "students", "share_of_attempted"]]
    rows += [[count.id, count.exercise, count.hint, str(len(count.students)), f"{count.share:.3f}"] for count in tally(records)]
    return rows


def summary_text(records: list[StudentRecord]) -> str:
    """summary.csv's text: the exercises and the students with problems (`summary_rows`), then the mistakes (`mistake_rows`)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([list(map(csv_cell, row)) for row in [*summary_rows(records), [], *mistake_rows(records)]])
    return buffer.getvalue()


def summary_for_terminal(records: list[StudentRecord]) -> str:
    """The summary as aligned columns, for the end of a grading run."""
    rows = summary_rows(records)
    split = rows.index([])
    table, problems = rows[:split], rows[split + 2:]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = ["  ".join(cell.rjust(width) if i else cell.ljust(width) for i, (cell, width) in enumerate(zip(row, widths, strict=True)))
             for row in table]
    if problems:
        lines += ["", f"{len(problems)} student(s) with problems (see their .md): " + ", ".join(terminal_line(row[0]) for row in problems)]
    else:
        lines += ["", "no student's submission had problems"]
    return "\n".join(lines)


def feedback(record: StudentRecord) -> str:
    """The page a student reads: totals, problems with the submission, a line per exercise (no test code).

    Every name and message is one line of literal text (`text.markdown_line`): what a student wrote
    cannot add a line, a mark, a link or HTML to the page."""
    lines = [f"# Feedback for {markdown_line(record.student)}", "", f"**Total: {record.total:g} / {record.max} points**", ""]
    if record.problems:
        lines += ["## Problems with the submission", "", *(f"- {markdown_line(problem)}" for problem in record.problems), ""]
    lines += ["## Exercises", ""]
    for key, grade in record.exercises.items():
        mark = SYMBOLS.get(grade.status, "…")
        lines.append(f"- {mark} **{key}** ({grade.points:g}/{grade.max_points}, {grade.status.value}): {markdown_line(grade.message)}")
    if record.ignored:
        lines += ["", "Files that are not course notebooks were ignored: " + ", ".join(map(markdown_line, record.ignored))]
    return "\n".join(lines) + "\n"


def roster_text(roster: dict[str, RosterEntry]) -> str:
    """The roster as CSV (`student,id,name`), as kept in OUT/roster.csv."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", "id", "name"])
    writer.writerows([entry.student, entry.lms_id, entry.name] for entry in roster.values())  # read back by read_roster: kept as given
    return buffer.getvalue()


def read_roster_kept(out: Path) -> dict[str, RosterEntry] | None:
    """The roster an earlier run kept in OUT, or None."""
    return read_roster(out / ROSTER_FILE) if (out / ROSTER_FILE).is_file() else None


def with_earlier_notebooks(record: StudentRecord, earlier: StudentRecord | None) -> StudentRecord:
    """`record`, keeping from the student's `earlier` record in OUT the grades of every notebook this run did not see.

    So one run per assignment into one OUT builds each learner's record across the course: the notebook this
    run graded replaces its earlier grade, the notebooks handed in before keep theirs (with their notebook
    entries and problems), and the total is theirs together."""
    if earlier is None:
        return record
    kept = {key: grade for key, grade in earlier.exercises.items() if grade.status != Status.NOT_SUBMITTED
            and key in record.exercises and record.exercises[key].status == Status.NOT_SUBMITTED}
    if not kept:
        return record
    numbers = {key.split(".")[0] for key in kept}
    files = [nb for nb in earlier.notebooks if nb.file[:2] in numbers]
    problems = [p for p in earlier.problems if isinstance(p, str) and p[:2] in numbers and p[2:3] == "_"]
    exercises = {**record.exercises, **kept}
    return dataclasses.replace(record, exercises=exercises, notebooks=[*record.notebooks, *files], problems=[*record.problems, *problems],
                               total=round(sum(g.points for g in exercises.values()), 2))


def write_record(record: StudentRecord, out: Path, stored: dict[str, tuple[Path, StudentRecord]]) -> list[Path]:
    """OUT/<student>.json (`StudentRecord.to_json`) and .md for one record, written as soon as the student is graded (so a
    later fault loses nothing already graded); `stored` (see `stored_records`) gains the record, with the notebooks an
    earlier run graded and this one did not (`with_earlier_notebooks`)."""
    out.mkdir(parents=True, exist_ok=True)
    record = with_earlier_notebooks(record, stored.get(record.student, (None, None))[1])
    path = record_file(record.student, out, stored)
    stored[record.student] = (path, record)
    return [write_atomically(path, json.dumps(record.to_json(), indent=1, ensure_ascii=False) + "\n"),
            write_atomically(path.with_suffix(".md"), feedback(record))]


def write_gradebook(out: Path, roster: dict[str, RosterEntry] | None = None) -> list[Path]:
    """OUT/grades.csv, summary.csv and the class report, report.html (helpers.grading.class_report), from every record in OUT.

    A roster given once is kept as OUT/roster.csv and used by later runs into the same OUT, so
    re-grading one student without --roster keeps the roster's columns and rows.
    """
    out.mkdir(parents=True, exist_ok=True)
    if roster is not None:
        write_atomically(out / ROSTER_FILE, roster_text(roster))
    roster = read_roster_kept(out)
    stored = stored_records(out)
    everyone = [record for _, record in stored.values()]
    feedback = {student: path.with_suffix(".md").name for student, (path, _) in stored.items()}
    return [write_atomically(out / "grades.csv", gradebook_text(everyone, roster)),
            write_atomically(out / "summary.csv", summary_text(everyone)),
            write_atomically(out / REPORT_FILE, class_report.page(everyone, feedback, roster))]


def write_outputs(records: list[StudentRecord], out: Path, roster: dict[str, RosterEntry] | None = None) -> list[Path]:
    """grades.csv, summary.csv and report.html (see `write_gradebook`), after OUT/<student>.json and .md for each record."""
    out.mkdir(parents=True, exist_ok=True)
    stored = stored_records(out)
    written = [path for record in records for path in write_record(record, out, stored)]
    return write_gradebook(out, roster) + written
