"""Benchmark: plain serial ``nbgrader autograde`` vs ``nncourse grade --jobs N`` on one class.

Builds a scratch course for one assignment (``generate_assignment``, then N submissions
cycling through the reference solution, the blank student version and the hand-written
wrong answers of ``tests/exercise_cases``), copies it twice and, in one run, grades one copy
with nbgrader's own commands, one after the other::

    nbgrader autograde ASSIGNMENT --force
    nbgrader generate_feedback ASSIGNMENT --force

and the other, identical copy with ``nncourse grade ASSIGNMENT --jobs N --quiet`` (sandboxed
kernels, feedback, grades.csv and grades.png included). It prints the seconds of each, their
ratio, the mean time per submission that ``nncourse grade`` spent in the kernel and around
it (from ``grades/<assignment>/records/*.json``), and whether both gave every student the
same scores. With ``--rounds R`` it repeats this on fresh copies, alternating which side
goes first, so that background load hits both alike.

Usage::

    .venv/bin/python bench/autograde.py [--assignment ch02_loss_functions] [--n 40]
        [--jobs 2] [--rounds 1]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the hand-written answers of the grading tests

from conftest import tool_env  # noqa: E402
from exercise_cases import Answer, answers, fill  # noqa: E402
from machine import cpu_name  # noqa: E402

from nncourse.autograde.course import RELEASE_DIR, SOURCE_DIR  # noqa: E402
from nncourse.autograde.grade import read_records  # noqa: E402
from nncourse.autograde.release import (  # noqa: E402
    generate_assignments,
    prepare_course,
)
from nncourse.autograde.sandbox import isolation  # noqa: E402

BIN = Path(sys.executable).parent
Scores = dict[str, dict[str, float]]


def notebook_name(assignment: str) -> str:
    return f"{assignment}.ipynb"


def build_course(course: Path, assignment: str, n: int) -> dict[str, int]:
    """A course with ``assignment`` generated and ``n`` submissions; return counts by kind.

    Submission ``i`` is the ``i % k``-th of: the reference solution, the blank student
    version, then each hand-written answer of ``tests/exercise_cases``.
    """
    os.environ["PATH"] = tool_env()["PATH"]  # nbgrader starts alembic from PATH
    prepare_course(REPO, course, [assignment])
    generate_assignments(course, [assignment])
    name = notebook_name(assignment)
    solution = nbformat.read(course / SOURCE_DIR / assignment / name, as_version=4)
    kinds: list[tuple[str, Answer | None]] = [
        ("reference", Answer("reference", {}, frozenset())), ("blank", None),
        *((case.student, case) for case in answers(assignment))]
    counts: dict[str, int] = {}
    for index in range(n):
        kind, case = kinds[index % len(kinds)]
        notebook = nbformat.read(course / RELEASE_DIR / assignment / name, as_version=4)
        if case is not None:
            notebook = fill(notebook, solution, case)
        path = course / "submitted" / f"s{index:03d}_{kind}" / assignment / name
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, path)
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def timed(command: list[str], cwd: Path, log: Path) -> float:
    """Run ``command`` in ``cwd`` (output to ``log``); return its wall-clock seconds."""
    start = time.perf_counter()
    with log.open("w") as handle:
        result = subprocess.run(command, cwd=cwd, env=tool_env(), stdout=handle,
                                stderr=subprocess.STDOUT, check=False)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        sys.exit(f"{' '.join(command)} failed with exit status {result.returncode}:\n{tail}")
    return seconds


def run_nbgrader(course: Path, assignment: str) -> tuple[float, float]:
    """Plain nbgrader, serial: seconds of ``autograde`` and of ``generate_feedback``."""
    nbgrader = str(BIN / "nbgrader")
    autograde = timed([nbgrader, "autograde", assignment, "--force"], course,
                      course / "autograde.log")
    feedback = timed([nbgrader, "generate_feedback", assignment, "--force"], course,
                     course / "feedback.log")
    return autograde, feedback


def run_nncourse(course: Path, assignment: str, jobs: int) -> float:
    """Seconds of ``nncourse grade ASSIGNMENT --jobs JOBS --quiet`` in ``course``."""
    return timed([str(BIN / "nncourse"), "grade", assignment, "--jobs", str(jobs), "--quiet",
                  "--root", str(course)], course, course / "grade.log")


def read_scores(course: Path, assignment: str) -> Scores:
    """Per student, the score of every graded cell, from the course's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {submission.student_id: {grade.name: grade.score
                                        for notebook in submission.notebooks
                                        for grade in notebook.grades}
                for submission in gradebook.assignment_submissions(assignment)}


def describe_machine() -> str:
    cpu = cpu_name()
    from nbgrader import __version__ as nbgrader_version

    return (f"{datetime.date.today()}  {cpu}, {os.cpu_count()} cores; python "
            f"{platform.python_version()}, nbgrader {nbgrader_version}; kernel isolation: "
            f"{isolation()}; OMP_NUM_THREADS={tool_env()['OMP_NUM_THREADS']}")


def cells_with_stderr(course: Path, assignment: str) -> set[tuple[str, str]]:
    """(student, grade id) of the test cells that wrote to stderr in ``course``'s grading.

    nbgrader gives such a cell 0 points, whatever it checked; nncourse grades what the test
    checks (the student's warnings are shown, not scored: docs/grading.md).
    """
    found = set()
    for path in (course / "autograded").glob(f"*/{assignment}/*.ipynb"):
        student = path.parts[-3]
        for cell in nbformat.read(path, as_version=4).cells:
            if any(output.get("output_type") == "stream" and output.get("name") == "stderr"
                   for output in cell.get("outputs", [])):
                found.add((student, cell.metadata.get("nbgrader", {}).get("grade_id")))
    return found


def compare(plain: Scores, ours: Scores, warned: set[tuple[str, str]]) -> str:
    """A line saying whether both graders gave every student the same scores.

    Cells in ``warned`` (the student's code wrote a warning to stderr during the test) are
    counted apart: nbgrader scores them 0 on purpose, nncourse by what the test checked.
    """
    differing, by_warning = [], []
    for student in sorted(plain.keys() | ours.keys()):
        mine, theirs = ours.get(student, {}), plain.get(student, {})
        cells = {cell for cell in mine.keys() | theirs.keys()
                 if mine.get(cell) != theirs.get(cell)}
        if cells - {cell for who, cell in warned if who == student}:
            differing.append(student)
        elif cells:
            by_warning.append(student)
    if differing:
        return (f"scores: DIFFER for {len(differing)} of {len(plain | ours)} students: "
                + ", ".join(differing[:8]))
    line = f"scores: identical for all {len(plain)} students (every graded cell)"
    if by_warning:
        line = (f"scores: identical for all {len(plain)} students, except for the "
                f"{len(by_warning)} whose code warned on stderr during a test: nbgrader "
                "scores that test 0, nncourse by what it checked")
    return line


def one_round(template: Path, scratch: Path, assignment: str, jobs: int,
              plain_first: bool) -> dict[str, float | str]:
    """Grade two fresh copies of ``template``, one with each grader; return the measures."""
    plain, ours = scratch / "nbgrader", scratch / "nncourse"
    for copy in (plain, ours):
        if copy.exists():
            shutil.rmtree(copy)
        shutil.copytree(template, copy)
    if plain_first:
        autograde, feedback = run_nbgrader(plain, assignment)
        grade = run_nncourse(ours, assignment, jobs)
    else:
        grade = run_nncourse(ours, assignment, jobs)
        autograde, feedback = run_nbgrader(plain, assignment)
    records = read_records(ours, assignment).values()
    return {
        "autograde": autograde, "feedback": feedback, "grade": grade,
        "kernel": statistics.mean(record.kernel_seconds for record in records),
        "overhead": statistics.mean(record.seconds - record.kernel_seconds
                                    for record in records),
        "scores": compare(read_scores(plain, assignment), read_scores(ours, assignment),
                          cells_with_stderr(plain, assignment)),
        "load": os.getloadavg()[0],
    }


def print_round(label: str, measures: dict[str, float | str], n: int, jobs: int) -> None:
    plain = measures["autograde"] + measures["feedback"]
    per = f"{'seconds':>9}  {'s/submission':>12}"
    print(f"\n{label}\n{'grader':<46}{per}")
    rows = (("(a) nbgrader autograde --force (serial)", measures["autograde"]),
            ("    nbgrader generate_feedback --force", measures["feedback"]),
            ("(a) plain nbgrader, total", plain),
            (f"(b) nncourse grade --jobs {jobs} --quiet", measures["grade"]))
    for name, seconds in rows:
        print(f"{name:<46}{seconds:>9.1f}  {seconds / n:>12.2f}")
    print(f"ratio (a)/(b) = {plain / measures['grade']:.2f}   (issue #12: >= 5 with --jobs 2)")
    print(f"nncourse grade, per submission (records, mean): {measures['kernel']:.2f} s in the "
          f"kernel, {measures['overhead']:.2f} s around it "
          f"({measures['kernel'] + measures['overhead']:.2f} s in all)")
    print(measures["scores"])
    print(f"load average (1 min) at the end: {measures['load']:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="ch02_loss_functions",
                        help="a folder under solutions/")
    parser.add_argument("--n", type=int, default=40, help="submissions to grade")
    parser.add_argument("--jobs", type=int, default=2, help="nncourse grade --jobs")
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat on fresh copies, alternating which grader goes first")
    args = parser.parse_args()

    print(describe_machine())
    with tempfile.TemporaryDirectory(prefix="nncourse-autograde-bench-") as folder:
        scratch = Path(folder)
        counts = build_course(scratch / "template", args.assignment, args.n)
        print(f"{args.assignment}, {args.n} submissions: "
              + ", ".join(f"{count} {kind}" for kind, count in counts.items()), flush=True)
        ratios = []
        for index in range(args.rounds):
            plain_first = index % 2 == 0
            measures = one_round(scratch / "template", scratch, args.assignment, args.jobs,
                                 plain_first)
            first = "plain nbgrader" if plain_first else "nncourse grade"
            print_round(f"round {index + 1} ({first} first)", measures, args.n, args.jobs)
            ratios.append((measures["autograde"] + measures["feedback"]) / measures["grade"])
            sys.stdout.flush()
    if len(ratios) > 1:
        print(f"\nratio (a)/(b) per round: {', '.join(f'{r:.2f}' for r in ratios)}; "
              f"median {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
