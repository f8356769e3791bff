"""A PostgreSQL gradebook, for real (issue #13): release, grade and report against a server.

The test starts its own PostgreSQL server (tests/postgres_server.py), records an assignment
in it with ``nncourse release --db``, grades a small class into it with ``nncourse grade
--db``, and checks that the scores there, the CSV, and the CSV of the same class graded into
the course's SQLite gradebook all agree.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from conftest import REPO, VENV_BIN, tool_env
from exercise_cases import Answer, answers, fill
from postgres_server import postgres_server, why_not_available

from nncourse.autograde.course import RELEASE_DIR, SOURCE_DIR
from nncourse.autograde.release import prepare_course

ASSIGNMENT = "ch02_loss_functions"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(why_not_available() is not None,
                                 reason=why_not_available() or "")]


def nncourse(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([str(VENV_BIN / "nncourse"), *args], env=tool_env(),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result


def course_with_a_class(folder: Path) -> Path:
    """A course of ch02 with three submissions: the reference, the blank and a wrong one."""
    prepare_course(REPO, folder, [ASSIGNMENT])
    released = REPO / RELEASE_DIR / ASSIGNMENT / NOTEBOOK
    solution = nbformat.read(REPO / SOURCE_DIR / ASSIGNMENT / NOTEBOOK, as_version=4)
    wrong = answers(ASSIGNMENT)[0]
    for student in ("ada", "bob", "cy"):
        target = folder / "submitted" / student / ASSIGNMENT / NOTEBOOK
        target.parent.mkdir(parents=True)
        notebook = nbformat.read(released, as_version=4)
        if student != "bob":  # bob hands in the blank notebook
            notebook = fill(notebook, solution,
                            wrong if student == "cy" else Answer(student, {}, frozenset()))
        nbformat.write(notebook, target)
    return folder


def test_release_grade_and_report_on_postgresql(tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    on_postgres = course_with_a_class(tmp_path / "postgres")
    on_sqlite = tmp_path / "sqlite"
    shutil.copytree(on_postgres, on_sqlite)
    with postgres_server("gradebook") as server:
        url = f"{server}/gradebook"
        nncourse("release", ASSIGNMENT, "--root", str(on_postgres), "--db", url)
        with Gradebook(url) as gradebook:
            assert [nb.name for nb in gradebook.find_assignment(ASSIGNMENT).notebooks] == [
                ASSIGNMENT]
        nncourse("grade", ASSIGNMENT, "--root", str(on_postgres), "--db", url, "--jobs", "2",
                 "--quiet")
        nncourse("grade", ASSIGNMENT, "--root", str(on_sqlite), "--jobs", "2", "--quiet")
        csv_path = Path("grades") / ASSIGNMENT / "grades.csv"
        graded = (on_postgres / csv_path).read_text()
        assert graded == (on_sqlite / csv_path).read_text()
        with Gradebook(url) as gradebook:
            totals = {submission.student_id: submission.score
                      for submission in gradebook.assignment_submissions(ASSIGNMENT)}
        assert set(totals) == {"ada", "bob", "cy"}
        assert totals["ada"] == 11 and totals["bob"] == 0 and 0 < totals["cy"] < 11
        nncourse("report", ASSIGNMENT, "--root", str(on_postgres), "--db", url)
        assert (on_postgres / csv_path).read_text() == graded
        assert not (on_postgres / "gradebook.db").exists(), "wrote the SQLite gradebook too"
