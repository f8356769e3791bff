"""``nncourse grade`` on an nbgrader course that is not this one (issue #13, part 1).

The course is built here the way nbgrader's documentation builds its example: a config with
nothing but a course id (so nbgrader's default folders ``source/``, ``release/``,
``submitted/`` ... and its default gradebook), an assignment ``ps1`` of two notebooks, one
of which reads a data file beside it, and a written answer. Two honest students and one
whose notebook cheats are graded twice, by plain ``nbgrader autograde`` and by
``nncourse grade``; the honest totals must agree, and the cheat must get what its honest
wrong twin gets.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from conftest import VENV_BIN, tool_env
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ASSIGNMENT = "ps1"
SQUARES = "def squares(n):\n    return [i * i for i in range(1, n + 1)]"
WORDS = ("def count_words(path):\n    with open(path) as handle:\n"
         "        return len(handle.read().split())")
WRONG_SQUARES = "def squares(n):\n    return [i for i in range(1, n + 1)]"
PEEKING_SQUARES = '''import inspect

class Peek:
    def __eq__(self, other):
        return True

    def __iter__(self):
        for info in inspect.stack():
            if "expected" in info.frame.f_locals:
                return iter(info.frame.f_locals["expected"])
        return iter([])

def squares(n):
    return Peek()'''


def cell(source: str, grade_id: str, *, solution: bool = False, points: float = 0,
         markdown: bool = False) -> nbformat.NotebookNode:
    meta = {"nbgrader": {"grade_id": grade_id, "grade": bool(points), "solution": solution,
                         "locked": not solution, "schema_version": 3}}
    if points:
        meta["nbgrader"]["points"] = points
    make = new_markdown_cell if markdown else new_code_cell
    return make(source, metadata=meta)


def answer(code: str) -> str:
    return f"### BEGIN SOLUTION\n{code}\n### END SOLUTION"


def problem1(code: str) -> nbformat.NotebookNode:
    return new_notebook(cells=[
        new_markdown_cell("Write `squares(n)`: the squares of 1 to n, in a list."),
        cell(code, "squares", solution=True),
        cell("expected = [1, 4, 9, 16]\nassert list(squares(4)) == expected\n"
             "assert squares(4) == expected", "correct_squares", points=3),
        cell("Why is a list comprehension convenient here?", "explain", solution=True,
             points=2, markdown=True),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}})


def problem2(code: str) -> nbformat.NotebookNode:
    return new_notebook(cells=[
        new_markdown_cell("Write `count_words(path)`: the number of words in a text file."),
        cell(code, "count_words", solution=True),
        cell('assert count_words("data.txt") == 5', "correct_words", points=2),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}})


def write(notebook: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


STUDENTS = {  # student -> (problem1's answer, problem2's answer)
    "bitdiddle": (SQUARES, "def count_words(path):\n    return 4"),
    "hacker": (SQUARES, WORDS),
    "wrong": (WRONG_SQUARES, WORDS),
    "peeker": (PEEKING_SQUARES, WORDS),
}


def build_course(root: Path) -> None:
    root.mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(
        'c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = "course101"\n')
    write(problem1(answer(SQUARES)), root / "source" / ASSIGNMENT / "problem1.ipynb")
    write(problem2(answer(WORDS)), root / "source" / ASSIGNMENT / "problem2.ipynb")
    (root / "source" / ASSIGNMENT / "data.txt").write_text("one two three four five\n")
    for student, (first, second) in STUDENTS.items():
        folder = root / "submitted" / student / ASSIGNMENT
        write(problem1(first), folder / "problem1.ipynb")
        write(problem2(second), folder / "problem2.ipynb")
        shutil.copy(root / "source" / ASSIGNMENT / "data.txt", folder / "data.txt")


def run(command: list[str], cwd: Path) -> None:
    result = subprocess.run(command, cwd=cwd, env=tool_env(), capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]


def totals(root: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "course101") as gradebook:
        return {submission.student_id: submission.score
                for submission in gradebook.assignment_submissions(ASSIGNMENT)}


def grade_both_ways(folder: Path, build: Callable[[Path], None]) -> tuple[Path, Path]:
    """Two copies of a course made by ``build``: one graded by plain ``nbgrader autograde``,
    the other by ``nncourse grade``; their folders."""
    plain, ours = folder / "plain" / "course101", folder / "ours" / "course101"
    for root in (plain, ours):
        build(root)
    nbgrader = str(VENV_BIN / "nbgrader")
    run([nbgrader, "generate_assignment", ASSIGNMENT, "--force"], plain)
    run([nbgrader, "autograde", ASSIGNMENT, "--create", "--force"], plain)
    run([str(VENV_BIN / "nncourse"), "grade", ASSIGNMENT, "--root", str(ours), "--jobs", "2",
         "--quiet"], folder)
    return plain, ours


@pytest.mark.slow
def test_an_nbgrader_course_grades_as_with_nbgrader(tmp_path: Path) -> None:
    plain, ours = grade_both_ways(tmp_path, build_course)

    expected, got = totals(plain), totals(ours)
    assert expected["bitdiddle"] == got["bitdiddle"] == 3
    assert expected["hacker"] == got["hacker"] == 5
    assert expected["wrong"] == got["wrong"] == 2
    assert expected["peeker"] == 5, "the peek fools plain nbgrader"
    assert got["peeker"] == got["wrong"], "across the boundary the peek earns nothing"

    with (ours / "grades" / ASSIGNMENT / "grades.csv").open() as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert list(rows["hacker"])[1:5] == ["problem1:correct_squares", "problem1:explain",
                                         "problem2:correct_words", "total"]
    assert rows["hacker"]["max"] == "7" and rows["hacker"]["problem1:explain"] == ""
    assert "problem2/correct_words" in rows["bitdiddle"]["reason"]
    for student in STUDENTS:
        assert (ours / "feedback" / student / ASSIGNMENT / "problem2.html").is_file()


def test_a_broken_or_unknown_course_gets_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\nc.oops(\n")
    result = subprocess.run([str(VENV_BIN / "nncourse"), "grade", ASSIGNMENT, "--root",
                             str(tmp_path)], env=tool_env(), capture_output=True, text=True,
                            timeout=120)
    last_line = result.stderr.strip().splitlines()[-1]
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert last_line.startswith("nncourse grade: ") and "could not be read" in last_line
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n")
    result = subprocess.run([str(VENV_BIN / "nncourse"), "grade", ASSIGNMENT, "--root",
                             str(tmp_path)], env=tool_env(), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no assignment 'ps1'" in result.stderr and "'source'" in result.stderr


def nbgraders_example(root: Path) -> None:
    """nbgrader's documentation example course (course101, ps1, bitdiddle and hacker), taken
    from the installed nbgrader package, with a config that sets only the course id."""
    import nbgrader

    example = Path(nbgrader.__file__).parent / "docs" / "source" / "user_guide"
    root.mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(
        'c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = "course101"\n')
    shutil.copytree(example / "source" / ASSIGNMENT, root / "source" / ASSIGNMENT)
    for student in ("bitdiddle", "hacker"):
        shutil.copytree(example / "submitted" / student / ASSIGNMENT,
                        root / "submitted" / student / ASSIGNMENT)


@pytest.mark.slow
def test_nbgraders_own_example_course_gets_nbgraders_totals(tmp_path: Path) -> None:
    """Its tests delete and restore the student's ``squares`` to see that ``sum_of_squares``
    calls it: the boundary forwards that to the kernel, so the scores are nbgrader's own."""
    plain, ours = grade_both_ways(tmp_path, nbgraders_example)
    assert totals(plain) == totals(ours) == {"bitdiddle": 1.5, "hacker": 3.0}
    with (ours / "grades" / ASSIGNMENT / "grades.csv").open() as handle:
        assert {row["max"] for row in csv.DictReader(handle)} == {"13"}
