"""A grading worker opens nbgrader's gradebook with one engine per URL, tables checked once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import tool_env

SCRIPT = textwrap.dedent("""
    import sys
    from sqlalchemy import event
    from nbgrader.api import Gradebook
    from nncourse.autograde.gradebook import share_engines

    share_engines()
    share_engines()  # twice: still one wrapper
    first, second = sys.argv[1], sys.argv[2]
    with Gradebook(first, "course") as gradebook:  # creates the tables
        gradebook.add_student("ada")
        engine = gradebook.engine
    queries = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: queries.append(statement))
    with Gradebook(first, "course") as gradebook:
        assert gradebook.engine is engine, "one engine per URL"
        assert [student.id for student in gradebook.students] == ["ada"]
    checks = [query for query in queries if "table_info" in query]
    assert not checks, checks  # no longer asked for each table
    with Gradebook(second, "course") as gradebook:  # a new gradebook still gets its tables
        gradebook.add_student("grace")
        assert [student.id for student in gradebook.students] == ["grace"]
    print("ok")
""")


def test_one_engine_per_url_and_tables_checked_once(tmp_path: Path) -> None:
    first, second = (f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db"))
    result = subprocess.run([sys.executable, "-c", SCRIPT, first, second],
                            capture_output=True, text=True, check=False, env=tool_env())
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"
