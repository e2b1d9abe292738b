"""Instructors' tools: the student release and the class grader.

    python -m helpers.grading release --out dist/student
    python -m helpers.grading grade SUBMISSIONS --out grades [--jobs N] [--timeout SECONDS]

Modules, one job each: `strip` strips a notebook's solutions; `answer_free` writes the `helpers`
without answers that the release ships and a graded kernel imports; `release` builds the student
course (no answers in it); `notebook` reads a submission safely;
`cases` draws hidden cases from the instructor's secret; `kernel_side` is the code that runs in
the student's kernel; `session` runs a notebook in a fresh, limited kernel (through `kernel_client`),
which `launcher` starts inside the OS sandbox that `bwrap` builds (or refuses to run without), in a
grading slot's folders (`slots`, `folders`), forked from the slot's zygote (`kernels`, `zygote`)
or as a fresh process, under the `limits`; `judge` scores the results in the grader's
process; `record` is the typed record grading produces (and its JSON); `grade` grades a student;
`workers` runs the grading processes that grade a class; `report` writes the gradebook and feedback;
`forkserver_preload` is what the grading processes' forkserver loads once for all of them.
"""

FORKSERVER_PRELOAD = "helpers.grading.forkserver_preload"  # named here: the CLI sets it before it imports torch
