"""Command line: `python -m helpers.grading release --out DIR` and `... grade SUBMISSIONS --out OUT`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m helpers.grading", description="Student release and class grading.")
    commands = parser.add_subparsers(dest="command", required=True)
    release = commands.add_parser("release", help="write the student course, with no answers in it, and its .zip")
    release.add_argument("--out", type=Path, required=True, help="folder for the student course (new, empty, or an earlier release)")
    release.add_argument("--notebooks", type=Path, default=Path("notebooks"), help="the solution notebooks (default: notebooks/)")
    grade = commands.add_parser("grade", help="grade SUBMISSIONS/<student>/<notebook>.ipynb into a gradebook")
    grade.add_argument("submissions", type=Path)
    grade.add_argument("--out", type=Path, required=True, help="folder for grades.csv and per-student .json/.md")
    grade.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="students graded at once (default: cores)")
    grade.add_argument("--timeout", type=float, default=300, help="seconds per notebook (default 300)")
    grade.add_argument("--cell-timeout", type=float, default=60, help="seconds per cell (default 60)")
    grade.add_argument("--memory", type=int, default=3072, help="MiB of address space per kernel (default 3072)")
    grade.add_argument("--secret", default=None, help="the instructor's secret (default: $GRADER_SECRET)")
    grade.add_argument("--only", nargs="+", metavar="NAME", default=None,
                       help="grade only these students' folders of SUBMISSIONS; the others' rows in OUT are kept")
    grade.add_argument("--roster", type=Path, default=None,
                       help="CSV with columns student,id,name: adds the LMS id and name to grades.csv, and a "
                            "'not submitted' row for each listed student without a submission (kept in OUT for later runs)")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    grade.add_argument("--dask", metavar="ADDRESS", default=None,
                       help="grade on a Dask cluster: a scheduler's address (tcp://host:8786), or 'local' for a "
                            "LocalCluster of --jobs worker processes; --jobs does not apply to a scheduler's address")
    grade.add_argument("--no-sandbox", action="store_true", help="run kernels without the OS sandbox (as your own user): only where none can be made")
    grade.add_argument("--no-zygote", action="store_true",
                       help="start each kernel as a fresh process instead of forking it from a zygote that has imported torch (slower; for comparison)")
    return parser.parse_args(argv)


def run_release(args: argparse.Namespace) -> int:
    from helpers.grading.release import build
    from helpers.grading.strip import ReleaseError

    try:
        archive = build(args.out, args.notebooks)
    except (ReleaseError, OSError) as error:
        print(f"release failed, nothing written: {error}", file=sys.stderr)
        return 1
    count = len(list((args.out / "notebooks").glob("*.ipynb")))
    print(f"wrote the student course ({count} notebooks, no answers) to {args.out}/ and {archive}")
    return 0


def start_forkserver_now() -> None:
    """Start the server that grading processes fork from, before this process imports torch.

    Why: the server imports the grader (and torch, about 3 s of CPU) and computes the public examples once; started here it does so
    while this process imports the same and draws the hidden cases, on the machine's other core,
    instead of after them. Only `workers.grade_class` forks from it, so nothing else waits.
    """
    import multiprocessing
    from multiprocessing import forkserver

    from helpers.grading import FORKSERVER_PRELOAD

    multiprocessing.get_context("forkserver").set_forkserver_preload([FORKSERVER_PRELOAD])
    forkserver.ensure_running()


def run_grade(args: argparse.Namespace) -> int:
    if args.dask is None:  # local grading processes fork from the server: start it while we import
        start_forkserver_now()
    from helpers.grading.bwrap import SandboxUnavailable, sandbox_or_refuse
    from helpers.grading.cases import SECRET_VARIABLE, SecretMissing, secret_from
    from helpers.grading.cluster import ClusterError, grade_class_dask
    from helpers.grading.limits import Limits
    from helpers.grading.record import StudentRecord
    from helpers.grading.report import RosterError, read_roster, read_roster_kept, stored_records, summary_for_terminal, write_gradebook, write_record
    from helpers.grading.text import terminal_line
    from helpers.grading.workers import grade_class, students_in

    if args.jobs < 1 or args.timeout <= 0 or args.cell_timeout <= 0 or args.memory < 1024:
        print("--jobs must be at least 1, the timeouts positive, and --memory at least 1024 MiB (torch needs about 700)", file=sys.stderr)
        return 2
    try:
        secret = secret_from(args.secret)
        os.environ.pop(SECRET_VARIABLE, None)  # the worker processes (and so kernels) start without it
        loose = sorted(p.name for p in args.submissions.glob("*") if p.is_file())
        if loose:
            print(terminal_line(f"ignored files at the top of {args.submissions}/ (expected <student>/<notebook>.ipynb): {', '.join(loose[:5])}"),
                  file=sys.stderr)
        roster = read_roster(args.roster) if args.roster is not None else None
        folders = students_in(args.submissions, args.only)
        sandbox_or_refuse(args.no_sandbox, remote=args.dask not in (None, "local"))  # each record says what its kernels ran in
        limits = Limits(cell_timeout=min(args.cell_timeout, args.timeout), notebook_timeout=args.timeout, memory_bytes=args.memory * 2**20,
                        sandbox=not args.no_sandbox, zygote=not args.no_zygote)
        stored = stored_records(args.out)  # OUT is made when the first record is written

        def graded(record: StudentRecord) -> None:
            """Write a student's record and feedback as soon as they are graded: a later fault loses nothing graded."""
            try:
                write_record(record, args.out, stored)
            except (OSError, ValueError) as error:  # that student's files only; the others are written
                print(terminal_line(f"grade: could not write the record of {record.student} ({error})"), file=sys.stderr)

        if args.dask is None:
            records = grade_class(folders, secret, limits, args.jobs, progress=not args.quiet, graded=graded)
        else:
            records = grade_class_dask(folders, secret, limits, args.dask, args.jobs, progress=not args.quiet, graded=graded)
    except (SecretMissing, FileNotFoundError, RosterError, SandboxUnavailable) as error:
        print(terminal_line(f"grade: {error}"), file=sys.stderr)
        return 2
    except ClusterError as error:  # the students graded before the cluster failed are written already
        if error.records:
            write_gradebook(args.out, roster)
        print(terminal_line(f"grade: {error}"), file=sys.stderr)
        return 2
    written = write_gradebook(args.out, roster)
    everyone = [record for _, record in stored_records(args.out).values()]
    print(summary_for_terminal(everyone))
    roster = roster if roster is not None else read_roster_kept(args.out)
    if roster is not None:
        graded = {record.student for record in everyone}
        for what, names in (("in the roster with no submission (rows marked not submitted)", set(roster) - graded),
                            ("graded but not in the roster (no id or name in grades.csv)", graded - set(roster))):
            if names:
                print(terminal_line(f"{len(names)} {what}: {', '.join(sorted(names))}"))
    unsandboxed = "; NOT SANDBOXED (--no-sandbox): kernels ran as your own user" if args.no_sandbox else ""
    print(terminal_line(f"graded {len(records)} student(s); {len(everyone)} in the gradebook {written[0]}; class summary {written[1]}{unsandboxed}"))
    print(terminal_line(f"class report (what the class misunderstood, who needs help): {written[2]}"))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    return run_release(args) if args.command == "release" else run_grade(args)


if __name__ == "__main__":
    sys.exit(main())
