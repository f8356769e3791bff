"""The ``nncourse`` command: ``check``, ``release``, ``grade`` and ``report``.

Exit status: 0 when everything passed, 1 when a task failed, 2 for a usage error (missing
file, not a notebook, unknown assignment).
"""

from __future__ import annotations

import argparse
import atexit
import gc
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from nncourse.autograde import skip_slow_optional_imports
from nncourse.autograde.course import CELL_TIMEOUT_S, KERNEL_MEMORY_MB, SUBMISSION_TIMEOUT_S
from nncourse.autograde.notebook import NotebookError

if TYPE_CHECKING:
    from nncourse.autograde.grade import Record


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nncourse", description="Tools of the course 'Neural networks from scratch'.")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser(
        "check", help="run a notebook's visible tests in a fresh kernel, one line per task",
        description="Run the notebook (saved on disk) in a fresh kernel and report each "
                    "task: passed, failed or error. Hidden tests run only when graded.")
    check.add_argument("notebook", help="the assignment's .ipynb file")
    check.add_argument("--timeout", type=int, default=CELL_TIMEOUT_S,
                       help=f"seconds per cell (default {CELL_TIMEOUT_S})")

    release = commands.add_parser(
        "release", help="regenerate exercises/ from solutions/ with nbgrader",
        description="Generate the student version of each assignment (all by default) "
                    "into exercises/, without outputs, byte-identical on every run.")
    release.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                         help="assignment folder names under solutions/")
    release.add_argument("--root", help="the course folder (default: found from here up)")
    release.add_argument("--db", help="also record the assignments in this gradebook "
                                      "(SQLAlchemy URL, e.g. postgresql://...)")

    grade = commands.add_parser(
        "grade", help="autograde every submission of an assignment, in parallel and sandboxed",
        description="Import submissions, autograde them with nbgrader (each in its own "
                    "sandboxed kernel, several at a time), write feedback, grades.csv and "
                    "grades.png under grades/ASSIGNMENT/, and print a summary. A rerun "
                    "grades only what changed or is missing.")
    grade.add_argument("assignment", help="the assignment (a folder under solutions/)")
    grade.add_argument("--submissions", metavar="DIR_OR_ZIP",
                       help="nbgrader-style folder, folder of <student>.ipynb, or a zip of "
                            "either (default: the course's submitted/)")
    grade.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                       help="submissions graded at once (default: number of cores)")
    grade.add_argument("--timeout", type=int, default=SUBMISSION_TIMEOUT_S,
                       help=f"seconds one notebook may run in all (default {SUBMISSION_TIMEOUT_S})")
    grade.add_argument("--memory", type=int, default=KERNEL_MEMORY_MB,
                       help=f"memory limit per kernel in MiB (default {KERNEL_MEMORY_MB})")
    grade.add_argument("--scheduler", metavar="ADDRESS",
                       help="grade on a Dask cluster (e.g. tcp://host:8786) instead of --jobs "
                            "local processes; see docs/grading.md")
    grade.add_argument("--force", action="store_true", help="regrade every submission")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")

    report = commands.add_parser(
        "report", help="rewrite grades.csv and grades.png from the gradebook; print a summary",
        description="Reprint the summary of an assignment's grading and regenerate "
                    "grades/ASSIGNMENT/grades.csv and grades.png from the gradebook.")
    report.add_argument("assignment", help="the assignment (a folder under solutions/)")
    for command in (grade, report):
        command.add_argument("--db", help="SQLAlchemy URL of the gradebook (default: the "
                                          "course's sqlite file; e.g. postgresql://...)")
        command.add_argument("--root", help="the course folder (default: found from here up)")
    return parser


def _check(args: argparse.Namespace) -> int:
    from nncourse.autograde.selfcheck import check

    report = check(args.notebook, timeout=args.timeout)
    return 0 if report is None or report.passed else 1


def _release(args: argparse.Namespace) -> int:
    from nncourse.autograde.course import course_config, find_course_root
    from nncourse.autograde.gradebook import course_id, ensure_in_gradebook
    from nncourse.autograde.release import release

    for folder in release(args.root, args.assignments):
        print(f"released {folder}")
        if args.db:
            root = find_course_root(args.root)
            config = course_config(root, args.db)
            ensure_in_gradebook(root, folder.name, config.CourseDirectory.db_url,
                                course_id(config))
            print(f"recorded {folder.name} in the gradebook")
    return 0


def _progress(finished: Iterator[Record], total: int) -> Iterator[Record]:
    from tqdm import tqdm

    failed = 0
    with tqdm(total=total, unit="submission", desc="grading", file=sys.stderr) as bar:
        for record in finished:
            yield record
            failed += record.status != "graded"
            bar.set_postfix(failed=failed, refresh=False)
            bar.update()


def _load_plotting_meanwhile() -> None:
    """Import matplotlib for the report in a thread, while the workers grade.

    Called once the workers are forked: a fork taken while another thread imports would
    leave the child with that import's locks held.
    """
    from nncourse.autograde.report import load_plotting

    threading.Thread(target=load_plotting, name="nncourse-load-plotting", daemon=True).start()


def _grade(args: argparse.Namespace) -> int:
    from nncourse.autograde.course import find_course_root
    from nncourse.autograde.grade import GradeOptions, grade
    from nncourse.autograde.sandbox import isolation

    root = find_course_root(args.root)
    options = GradeOptions(jobs=args.jobs, timeout=args.timeout, memory_mb=args.memory,
                           db_url=args.db, force=args.force, scheduler=args.scheduler)
    where = f"on {options.scheduler}" if options.scheduler else f"with {options.jobs} jobs"
    print(f"grading {args.assignment} in {root} {where} (isolation: {isolation()})",
          file=sys.stderr)
    records = grade(root, args.assignment, args.submissions, options,
                    progress=None if args.quiet else _progress, started=_load_plotting_meanwhile)
    if not records:
        print(f"no submissions of {args.assignment} under {root / 'submitted'}",
              file=sys.stderr)
        return 2
    return _report(args)


def _report(args: argparse.Namespace) -> int:
    from nncourse.autograde.course import course_config, find_course_root
    from nncourse.autograde.report import report

    root = find_course_root(args.root)
    db_url = course_config(root, args.db).CourseDirectory.db_url
    csv_path, png_path, text = report(root, args.assignment, db_url)
    print(text)
    print(f"wrote {csv_path} and {png_path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``nncourse``; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 success, 1 failing tasks, 2 usage error.
    """
    # Registered first, so run last: the interpreter's teardown then skips the garbage
    # collections that walk every object of nbgrader, nbconvert and matplotlib (a third of a
    # second at the end of every command); the operating system frees the memory anyway.
    atexit.register(gc.freeze)
    args = _parser().parse_args(argv)
    skip_slow_optional_imports()
    run = {"check": _check, "release": _release, "grade": _grade, "report": _report}[args.command]
    try:
        return run(args)
    except (FileNotFoundError, NotebookError, ValueError) as error:
        print(f"nncourse {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
