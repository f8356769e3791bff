"""The ``nncourse`` command: ``nncourse check NOTEBOOK`` and ``nncourse release [ASSIGNMENT...]``.

Exit status: 0 when everything passed, 1 when a task failed, 2 for a usage error (missing
file, not a notebook, unknown assignment).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from nncourse.grading.notebook import NotebookError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nncourse", description="Tools of the course 'Neural networks from scratch'.")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser(
        "check", help="run a notebook's visible tests in a fresh kernel, one line per task",
        description="Run the notebook (saved on disk) in a fresh kernel and report each "
                    "task: passed, failed or error. Hidden tests run only when graded.")
    check.add_argument("notebook", help="the assignment's .ipynb file")
    check.add_argument("--timeout", type=int, default=60, help="seconds per cell (default 60)")

    release = commands.add_parser(
        "release", help="regenerate exercises/ from solutions/ with nbgrader",
        description="Generate the student version of each assignment (all by default) "
                    "into exercises/, without outputs, byte-identical on every run.")
    release.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                         help="assignment folder names under solutions/")
    release.add_argument("--root", help="the course folder (default: found from here up)")
    return parser


def _check(args: argparse.Namespace) -> int:
    from nncourse.grading.selfcheck import check

    report = check(args.notebook, timeout=args.timeout)
    return 0 if report is None or report.passed else 1


def _release(args: argparse.Namespace) -> int:
    from nncourse.grading.release import release

    for folder in release(args.root, args.assignments):
        print(f"released {folder}")
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
    args = _parser().parse_args(argv)
    run = {"check": _check, "release": _release}[args.command]
    try:
        return run(args)
    except (FileNotFoundError, NotebookError, ValueError) as error:
        print(f"nncourse {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
