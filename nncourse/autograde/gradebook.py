"""nbgrader's gradebook, on SQLite or PostgreSQL: what must exist before grading writes to it.

nbgrader records every assignment under a course row. With the course id a config leaves
empty (nbgrader's default), ``nbgrader.api.Gradebook`` creates no such row; SQLite does not
enforce the foreign key, but PostgreSQL refuses the assignment (``ForeignKeyViolation ...
assignment_course_id_fkey``). :func:`ensure_course` creates the row first, whatever the id.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

from nncourse.autograde.release import generate_assignments, prepare_course, venv_tools_on_path


def share_engines() -> None:
    """Make every nbgrader ``Gradebook`` of this process use one SQLAlchemy engine per URL.

    nbgrader opens the gradebook about ten times per submission (each step that reads or
    writes it), each time with a new engine: SQLAlchemy then compiles every query afresh,
    a tenth of a second per submission. With one engine per URL, a grading worker compiles
    each query once, and checks once that the gradebook's tables exist. nbgrader still
    opens, commits and closes its sessions as before (closing disposes of the pooled
    connections, not of the engine), so what is written and when is unchanged.
    """
    import nbgrader.api
    from sqlalchemy import create_engine

    if not isinstance(nbgrader.api.create_engine, functools._lru_cache_wrapper):
        nbgrader.api.create_engine = functools.cache(create_engine)
    metadata = nbgrader.api.Base.metadata
    if not isinstance(metadata.create_all, _CreateTablesOnce):
        metadata.create_all = _CreateTablesOnce(metadata.create_all)


class _CreateTablesOnce:
    """nbgrader's ``Base.metadata.create_all``, run once per engine in this process.

    Each ``Gradebook`` nbgrader opens asks the database whether each of its fifteen tables
    exists (``create_all`` creates the missing ones): two thirds of the queries of grading a
    submission. Once they exist for an engine (one per URL, see :func:`share_engines`), they
    stay: nothing drops a gradebook's tables while it is graded.
    """

    def __init__(self, create_all: Any) -> None:
        self.create_all = create_all
        self.done: set[Any] = set()

    def __call__(self, bind: Any, **kwargs: Any) -> None:
        if bind not in self.done:
            self.create_all(bind=bind, **kwargs)
            self.done.add(bind)


def course_id(config: Any) -> str:
    """The course id of an nbgrader config (nbgrader's default, ``""``, when not set)."""
    value = config.CourseDirectory.get("course_id")
    return value if isinstance(value, str) else ""


def ensure_course(db_url: str, course: str) -> None:
    """Create the gradebook's tables and the course's row, if they do not exist yet.

    Parameters
    ----------
    db_url : str
        SQLAlchemy URL of the gradebook (``sqlite:///...``, ``postgresql://...``).
    course : str
        The course id the assignments are recorded under.
    """
    from nbgrader.api import Course, Gradebook

    with Gradebook(db_url, course) as gradebook:
        if gradebook.db.get(Course, course) is None:
            gradebook.db.add(Course(id=course))
            gradebook.db.commit()


def ensure_in_gradebook(root: Path, assignment: str, db_url: str, course: str = "") -> None:
    """Record ``assignment`` in the gradebook, from its source folder, if it is not there yet.

    nbgrader's generate_assignment runs in a scratch copy of the course, so the release
    folder is left as released.

    Parameters
    ----------
    root : Path
        The course folder.
    assignment : str
        The assignment's name.
    db_url : str
        The gradebook.
    course : str, default ""
        The course id.
    """
    from nbgrader.api import Gradebook, MissingEntry

    ensure_course(db_url, course)
    with Gradebook(db_url, course) as gradebook:
        try:
            if gradebook.find_assignment(assignment).notebooks:
                return
        except MissingEntry:
            pass
    with tempfile.TemporaryDirectory(prefix="nncourse-register-") as scratch, \
            venv_tools_on_path():
        prepare_course(root, scratch, [assignment])
        generate_assignments(scratch, [assignment], db_url=db_url)
