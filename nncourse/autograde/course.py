"""The course: its folders, its nbgrader config and the grader's defaults, written once.

Everything else imports these names instead of repeating a folder name or a limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CONFIG_FILE = "nbgrader_config.py"
SOURCE_DIR = "solutions"
"""nbgrader's source folder of this course (nbgrader's own default is ``source``)."""
RELEASE_DIR = "exercises"
GRADES_DIR = "grades"
"""Where ``nncourse grade`` writes records, ``grades.csv`` and ``grades.png``."""

SUBMISSION_TIMEOUT_S = 600
"""Seconds one submission may run in all before its kernel is killed."""
CELL_TIMEOUT_S = 60
"""Seconds one cell may run in ``nncourse check``."""
KERNEL_MEMORY_MB = 3072
"""Address-space limit of a grading kernel."""
SQLITE_BUSY_TIMEOUT_S = 60
"""How long a SQLite gradebook write waits for another worker's."""


def find_course_root(start: str | Path | None = None) -> Path:
    """The nearest folder at or above ``start`` that holds ``nbgrader_config.py``.

    Parameters
    ----------
    start : str or Path, optional
        Where to look first; the current directory by default.

    Returns
    -------
    Path

    Raises
    ------
    FileNotFoundError
        When no folder up to the file system root has the config.
    """
    start = Path(start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise FileNotFoundError(f"no {CONFIG_FILE} in {start} or above: run this in the course "
                            "repository or pass --root")


def course_config(root: str | Path, db_url: str | None = None) -> Any:
    """The course's nbgrader config, with the gradebook at ``db_url`` when given.

    Without a ``db_url`` in the config either, the gradebook is nbgrader's default,
    ``gradebook.db`` in the course folder. A SQLite gradebook gets a busy timeout, so that
    parallel workers wait for each other's writes instead of failing.

    Parameters
    ----------
    root : str or Path
        The course folder.
    db_url : str, optional
        SQLAlchemy URL of the gradebook.

    Returns
    -------
    traitlets.config.Config
    """
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root).resolve()
    config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    configured = config.CourseDirectory.get("db_url")
    url = db_url or (configured if isinstance(configured, str) else None)
    url = url or f"sqlite:///{root / 'gradebook.db'}"
    if url.startswith("sqlite:") and "timeout=" not in url:
        url += ("&" if "?" in url else "?") + f"timeout={SQLITE_BUSY_TIMEOUT_S}"
    config.CourseDirectory.db_url = url
    return config
