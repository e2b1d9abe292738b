"""Count the class's mistakes from the students' records: which misconception, in which exercise, who.

A record's exercise grade names the mistake of each hidden case (`case_mistakes`, ids from
helpers.checks.hints) and the one its feedback gives (`mistake`). A student made a mistake in an
exercise when any of its cases, or the grade itself, names it. Shares are of the students who
attempted the exercise (passed, partial or failed): a notebook not handed in, a placeholder left or
an exercise the grader could not grade is not a misconception.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from helpers.checks.catalogue import hint_of
from helpers.grading.record import ExerciseGrade, Status, StudentRecord

ATTEMPTED = (Status.PASSED, Status.PARTIAL, Status.FAILED)


@dataclass(frozen=True)
class MistakeCount:
    """One mistake in one exercise: its id, its hint, the students who made it, and how many attempted the exercise."""

    id: str
    exercise: str
    hint: str
    students: tuple[str, ...]
    attempted: int

    @property
    def share(self) -> float:
        """The share of those who attempted the exercise who made this mistake."""
        return len(self.students) / self.attempted if self.attempted else 0.0


def mistakes_in(grade: ExerciseGrade) -> set[str]:
    """The mistake ids one exercise grade names (its cases' and its own), none for a grade not attempted."""
    if grade.status not in ATTEMPTED:
        return set()
    named = grade.case_mistakes if isinstance(grade.case_mistakes, list) else []
    return {m for m in [*named, grade.mistake] if isinstance(m, str) and m}


def attempted_by(records: list[StudentRecord]) -> dict[str, int]:
    """Per exercise id, how many students attempted it."""
    counts: dict[str, int] = defaultdict(int)
    for record in records:
        for key, grade in record.exercises.items():
            if grade.status in ATTEMPTED:
                counts[key] += 1
    return counts


def tally(records: list[StudentRecord]) -> list[MistakeCount]:
    """Every (mistake, exercise) some student made, most students first (then by exercise and id)."""
    who: dict[tuple[str, str], list[str]] = defaultdict(list)
    for record in records:
        for key, grade in record.exercises.items():
            for mistake_id in mistakes_in(grade):
                who[mistake_id, key].append(record.student)
    attempted = attempted_by(records)
    counts = [MistakeCount(mistake_id, key, hint_of(mistake_id), tuple(sorted(students)), attempted[key])
              for (mistake_id, key), students in who.items()]
    return sorted(counts, key=lambda c: (-len(c.students), c.exercise, c.id))
