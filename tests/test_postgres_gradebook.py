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

import pytest
from conftest import VENV_BIN, tool_env
from postgres_server import postgres_server, why_not_available
from small_classes import ASSIGNMENT, ch02_class

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(why_not_available() is not None,
                                 reason=why_not_available() or "")]


def nncourse(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([str(VENV_BIN / "nncourse"), *args], env=tool_env(),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result


def test_release_grade_and_report_on_postgresql(tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    on_postgres = tmp_path / "postgres"
    students = ch02_class(on_postgres)
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
        assert set(totals) == set(students)
        wrong = next(student for student in students if student not in ("ada", "bob"))
        assert totals["ada"] == 14 and totals["bob"] == 0 and 0 < totals[wrong] < 14
        nncourse("report", ASSIGNMENT, "--root", str(on_postgres), "--db", url)
        assert (on_postgres / csv_path).read_text() == graded
        assert not (on_postgres / "gradebook.db").exists(), "wrote the SQLite gradebook too"
