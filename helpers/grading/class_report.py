"""OUT/report.html: what the class misunderstood and who needs help, built from the students' records.

One self-contained page: no script, no request (figures are PNGs drawn with matplotlib and inlined
as data: URIs, each with alt text), real tables with headers, and a print style. It reads records
only (helpers.grading.mistakes counts the mistakes); it grades nothing. Every text that a student
controls (a folder name, a message) is written with `text.html_text`, so it shows as text.

The sections: grading health; per notebook and exercise the points and the pass / partial / fail /
not-attempted shares; the ten most common mistakes with the notebook section to re-teach; learners
who need help, linked to their feedback; with a roster, each learner's points per notebook.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from matplotlib.figure import Figure

from helpers.checks import EXERCISES
from helpers.checks.hints import NO_ARGUMENTS_ID, NO_RESULT_ID, NOT_COMPARABLE_ID, TIMEOUT_ID
from helpers.grading.bwrap import SANDBOXED
from helpers.grading.mistakes import ATTEMPTED, tally
from helpers.grading.record import ExerciseGrade, Status, StudentRecord
from helpers.grading.text import html_text

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
SHARES = (Status.PASSED, Status.PARTIAL, Status.FAILED, Status.NOT_ATTEMPTED)  # every status but the first three counts as not attempted
COLOURS = {Status.PASSED: "#1b7837", Status.PARTIAL: "#e0a100", Status.FAILED: "#c51b7d", Status.NOT_ATTEMPTED: "#bdbdbd"}
TOP_MISTAKES = 10
HELP_ROWS = 10
GRADER_KINDS = {NO_RESULT_ID, NO_ARGUMENTS_ID, NOT_COMPARABLE_ID}  # the grader could not read or compare a case

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 1rem auto; padding: 0 1rem; color: #111; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #bbb; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; }
caption { text-align: left; font-weight: bold; padding: 0.25rem 0; }
@media print { body { max-width: none; } section { break-inside: avoid-page; } a { color: inherit; } }
"""


def notebook_of(exercise_id: str) -> str:
    """The notebook number of an exercise id ("03.4" -> "03")."""
    return exercise_id.split(".")[0]


@functools.cache
def exercise_sections() -> dict[str, str]:
    """Per exercise id, the notebook and section its exercise sits in ("03 · dtypes and operations, 5. Broadcasting")."""
    found = {}
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        title, section = path.stem, ""
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    title = line[2:].strip()
                elif line.startswith("## "):
                    section = line[3:].strip()
                match = re.match(r"### Exercise (\d\d\.\d+)", line)
                if match:
                    found[match.group(1)] = (f"{title}, {section}" if section else title).replace("`", "")
    return found


def status_group(grade: ExerciseGrade | None) -> Status:
    """passed, partial, failed, or not attempted (a placeholder, a missing function, a notebook not handed in, not graded)."""
    return grade.status if grade is not None and grade.status in ATTEMPTED else Status.NOT_ATTEMPTED


def figure_img(figure: Figure, alt: str) -> str:
    """The figure as an <img> with a PNG data: URI and its alt text (no file, no request)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight", metadata={"Software": None})
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html_text(alt)}">'


def shares_figure(keys: list[str], counts: dict[str, Counter], students: int) -> str:
    """A stacked bar per exercise of the pass / partial / fail / not-attempted shares."""
    figure = Figure(figsize=(7, 0.45 * len(keys) + 0.9))
    axes = figure.subplots()
    left = [0.0] * len(keys)
    for share in SHARES:
        widths = [counts[key][share] / students if students else 0 for key in keys]
        axes.barh(keys, widths, left=left, color=COLOURS[share], label=share)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("share of the class")
    axes.legend(ncols=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    alt = "; ".join(f"{key}: " + ", ".join(f"{counts[key][s]} {s}" for s in SHARES) for key in keys)
    return figure_img(figure, f"Shares of the class per exercise. {alt}.")


def totals_figure(totals: list[float], maximum: int) -> str:
    """A histogram of the students' totals."""
    figure = Figure(figsize=(7, 2.4))
    axes = figure.subplots()
    axes.hist(totals, bins=min(20, max(1, maximum)), range=(0, max(1, maximum)), color="#4575b4")
    axes.set_xlabel(f"total points (of {maximum})")
    axes.set_ylabel("students")
    spread = f"lowest {min(totals):g}, median {sorted(totals)[len(totals) // 2]:g}, highest {max(totals):g}" if totals else "no students"
    return figure_img(figure, f"Histogram of the {len(totals)} students' totals: {spread}.")


def table(headers: list[str], rows: list[list[str]], caption: str, numeric: set[int] = frozenset()) -> str:
    """A table with a caption and column headers; `rows` hold HTML already escaped."""
    head = "".join(f'<th scope="col">{html_text(h)}</th>' for h in headers)
    if not rows:
        rows, numeric = [["none", *("" for _ in headers[1:])]], set()
    body = "".join("<tr>" + "".join(f'<td class="number">{cell}</td>' if i in numeric else f"<td>{cell}</td>" for i, cell in enumerate(row))
                   + "</tr>" for row in rows)
    return f"<table><caption>{html_text(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def percent(part: int, whole: int) -> str:
    """`part` of `whole` as a whole percentage."""
    return f"{100 * part / whole:.0f}%" if whole else "–"


def health_section(records: list[StudentRecord]) -> str:
    """Grading health: exercises not graded, timeouts, grading that failed, kernels that ran without the sandbox."""
    not_graded = sum(1 for r in records for g in r.exercises.values() if g.status == Status.NOT_GRADED)
    timeouts = sum(1 for r in records for g in r.exercises.values() if TIMEOUT_ID in g.case_mistakes)
    unread = sum(1 for r in records for g in r.exercises.values() if set(g.case_mistakes) & GRADER_KINDS)
    failed = [r.student for r in records if r.grading_failed]
    unsandboxed = [r.student for r in records if r.sandbox and r.sandbox != SANDBOXED]  # "": a record that predates the field
    with_problems = sum(1 for r in records if r.problems)
    rows = [["students graded", str(len(records))],
            ["students whose grading itself failed (nothing graded)", str(len(failed))],
            ["exercise grades not graded (the grader could not judge them)", str(not_graded)],
            ["exercise grades with a case that ran past the time limit", str(timeouts)],
            ["exercise grades with a case whose result could not be read", str(unread)],
            ["students whose kernels ran without the sandbox", str(len(unsandboxed))],
            ["students whose submission had problems (see their feedback)", str(with_problems)]]
    return f'<section id="health"><h2>Grading health</h2>{table(["what", "count"], rows, "Grading health", {1})}</section>'


def exercise_section(records: list[StudentRecord]) -> str:
    """Per notebook: a figure of the shares and a table of points and shares per exercise."""
    students = len(records)
    counts: dict[str, Counter] = {key: Counter(status_group(r.exercises.get(key)) for r in records) for key in EXERCISES}
    parts = ['<section id="exercises"><h2>Exercises</h2>']
    totals = [r.total for r in records if isinstance(r.total, (int, float))]
    parts.append(f"<h3>Totals</h3><p>{totals_figure(totals, sum(e.points for e in EXERCISES.values()))}</p>")
    by_notebook = defaultdict(list)
    for key in sorted(EXERCISES):
        by_notebook[notebook_of(key)].append(key)
    for notebook, keys in by_notebook.items():
        attempted_anything = any(counts[key][s] for key in keys for s in ATTEMPTED)
        parts.append(f'<h3 id="nb{notebook}">Notebook {notebook}</h3>')
        if not attempted_anything:
            parts.append("<p>No student attempted an exercise of this notebook.</p>")
            continue
        parts.append(f"<p>{shares_figure(keys, counts, students)}</p>")
        rows = []
        for key in keys:
            points = Counter(g.points for r in records if status_group(g := r.exercises.get(key)) in ATTEMPTED)
            spread = ", ".join(f"{p:g} pts: {n}" for p, n in sorted(points.items())) or "–"
            grades = [r.exercises[key].points for r in records if key in r.exercises]
            mean = sum(grades) / len(grades) if grades else 0
            rows.append([html_text(key), str(EXERCISES[key].points), f"{mean:.2f}", html_text(spread),
                         *(f"{percent(counts[key][s], students)} ({counts[key][s]})" for s in SHARES)])
        parts.append(table(["exercise", "max", "mean points", "points of those who attempted", *SHARES], rows,
                           f"Notebook {notebook}: points and shares of the {students} students", {1, 2, 4, 5, 6, 7}))
    return "".join(parts) + "</section>"


def mistakes_section(records: list[StudentRecord]) -> str:
    """The ten most common mistakes: hint, exercise, section to re-teach, how many learners (and their share)."""
    counts = tally(records)[:TOP_MISTAKES]
    if not counts:
        return '<section id="mistakes"><h2>Most common mistakes</h2><p>No mistakes were recorded.</p></section>'
    sections = exercise_sections()
    rows = [[str(rank), html_text(count.hint), html_text(count.exercise), html_text(sections.get(count.exercise, "")),
             f"{len(count.students)} of {count.attempted} ({percent(len(count.students), count.attempted)})", f"<code>{html_text(count.id)}</code>"]
            for rank, count in enumerate(counts, start=1)]
    caption = f"The {len(counts)} most common mistakes (of those who attempted the exercise)"
    return (f'<section id="mistakes"><h2>Most common mistakes</h2>'
            f'{table(["rank", "hint", "exercise", "notebook section to re-teach", "learners", "id"], rows, caption, {0, 4})}</section>')


def help_section(records: list[StudentRecord], feedback: dict[str, str]) -> str:
    """Learners who need help: the lowest totals, the most exercises not attempted, repeated timeouts; linked to their feedback."""
    def link(student: str) -> str:
        target = feedback.get(student)
        return f'<a href="{html_text(target)}">{html_text(student)}</a>' if target else html_text(student)

    def not_attempted(record: StudentRecord) -> int:
        return sum(1 for g in record.exercises.values() if g.status == Status.NOT_ATTEMPTED)

    def timeouts(record: StudentRecord) -> int:
        return sum(1 for g in record.exercises.values() if TIMEOUT_ID in g.case_mistakes)

    lowest = sorted(records, key=lambda r: (r.total, r.student))[:HELP_ROWS]
    idle = sorted((r for r in records if not_attempted(r)), key=lambda r: (-not_attempted(r), r.student))[:HELP_ROWS]
    slow = sorted((r for r in records if timeouts(r) >= 2), key=lambda r: (-timeouts(r), r.student))[:HELP_ROWS]
    parts = ['<section id="help"><h2>Learners who need help</h2>',
             table(["learner", "total"], [[link(r.student), f"{r.total:g} / {r.max}"] for r in lowest], "Lowest totals", {1}),
             table(["learner", "exercises not attempted"], [[link(r.student), str(not_attempted(r))] for r in idle],
                   "Most exercises not attempted (the placeholder left)", {1}),
             table(["learner", "exercises that ran past the time limit"], [[link(r.student), str(timeouts(r))] for r in slow],
                   "Repeated timeouts (two exercises or more)", {1})]
    return "".join(parts) + "</section>"


def progress_section(records: list[StudentRecord], roster: dict | None) -> str:
    """With a roster: each learner's points per notebook, and the class's mean per notebook (several runs into one OUT)."""
    if roster is None:
        return ""
    notebooks = sorted({notebook_of(key) for key in EXERCISES})
    maximum = {nb: sum(e.points for key, e in EXERCISES.items() if notebook_of(key) == nb) for nb in notebooks}
    by_student = {r.student: r for r in records}

    def points(record: StudentRecord | None, nb: str) -> float | None:
        if record is None:
            return None
        grades = [g for key, g in record.exercises.items() if notebook_of(key) == nb]
        if not grades or all(g.status == Status.NOT_SUBMITTED for g in grades):
            return None
        return sum(g.points for g in grades)

    rows = []
    for student in sorted(set(roster) | set(by_student)):
        entry = roster.get(student)
        name = entry.name if entry is not None and entry.name else student
        cells = [points(by_student.get(student), nb) for nb in notebooks]
        rows.append([html_text(name), *("–" if c is None else f"{c:g}" for c in cells)])
    handed = {nb: [p for r in records if (p := points(r, nb)) is not None] for nb in notebooks}
    rows.append(["<strong>class mean (of those who handed it in)</strong>",
                 *(f"<strong>{sum(handed[nb]) / len(handed[nb]):.2f}</strong>" if handed[nb] else "–" for nb in notebooks)])
    headers = ["learner", *(f"{nb} (of {maximum[nb]})" for nb in notebooks)]
    caption = "Points per notebook (– : not handed in yet)"
    return (f'<section id="progress"><h2>Progress across notebooks</h2>'
            f'{table(headers, rows, caption, set(range(1, len(notebooks) + 1)))}</section>')


def page(records: list[StudentRecord], feedback: dict[str, str] | None = None, roster: dict | None = None) -> str:
    """The whole report as HTML text. `feedback` maps a student to their feedback file's name (relative to the page).

    The same records give the same bytes (no clock, no run's timings), so grading locally and through Dask
    write the same page."""
    records = sorted(records, key=lambda r: r.student)
    nav = " · ".join(f'<a href="#{anchor}">{title}</a>' for anchor, title in
                     (("health", "Grading health"), ("mistakes", "Most common mistakes"), ("help", "Learners who need help"),
                      ("exercises", "Exercises"), *((("progress", "Progress"),) if roster is not None else ())))
    body = [f"<h1>Class report</h1><p>{len(records)} students in the gradebook.</p><nav>{nav}</nav>",
            health_section(records), mistakes_section(records), help_section(records, feedback or {}),
            exercise_section(records), progress_section(records, roster)]
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
            f"<title>Class report</title><style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n")
