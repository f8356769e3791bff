"""The course: its folders, its nbgrader config and the grader's defaults, written once.

Any nbgrader course works: :func:`course_layout` reads the folder names from the course's
``nbgrader_config.py`` (nbgrader's defaults where it sets none), and everything else asks the
:class:`Layout` instead of repeating a folder name. This course's config names its source
folder ``solutions`` and its release folder ``exercises``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_FILE = "nbgrader_config.py"
SOURCE_DIR = "solutions"
"""This course's source folder (see its config; nbgrader's own default is ``source``)."""
RELEASE_DIR = "exercises"
"""This course's release folder (nbgrader's default is ``release``)."""
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


def default_data_dir() -> str | None:
    """The data sets' folder a grading kernel gets unless the course config says otherwise:
    this process's ``NNCOURSE_DATA``."""
    return os.environ.get("NNCOURSE_DATA") or None


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
    ``gradebook.db`` in the course folder; the course root is always ``root``. A SQLite
    gradebook gets a busy timeout, so that parallel workers wait for each other's writes
    instead of failing.

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
    try:
        config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    except Exception as error:  # noqa: BLE001 (any error in the file: say where, not how)
        lines = str(error).strip().splitlines() or [type(error).__name__]
        raise ValueError(f"{root / CONFIG_FILE} could not be read: {lines[-1]}") from error
    config.CourseDirectory.root = str(root)
    configured = config.CourseDirectory.get("db_url")
    url = db_url or (configured if isinstance(configured, str) else None)
    url = url or f"sqlite:///{root / 'gradebook.db'}"
    if url.startswith("sqlite:") and "timeout=" not in url:
        url += ("&" if "?" in url else "?") + f"timeout={SQLITE_BUSY_TIMEOUT_S}"
    config.CourseDirectory.db_url = url
    return config


@dataclass(frozen=True)
class Layout:
    """Where an nbgrader course keeps what (nbgrader's ``{step}/{student}/{assignment}``).

    Attributes
    ----------
    root : Path
        The course folder.
    source, release, submitted, autograded, feedback : str
        The folders of nbgrader's steps, relative to ``root``.
    """

    root: Path
    source: str = "source"
    release: str = "release"
    submitted: str = "submitted"
    autograded: str = "autograded"
    feedback: str = "feedback"

    def source_dir(self, assignment: str) -> Path:
        """``<root>/<source>/<assignment>``: the instructor's version."""
        return self.root / self.source / assignment

    def student_dir(self, step: str, student: str, assignment: str) -> Path:
        """``<root>/<step folder>/<student>/<assignment>``, for ``submitted``, ...

        Parameters
        ----------
        step : str
            ``"submitted"``, ``"autograded"`` or ``"feedback"``.
        student, assignment : str
            The student's and the assignment's ids.
        """
        return self.root / getattr(self, step) / student / assignment

    def notebooks(self, assignment: str) -> list[str]:
        """The names (without ``.ipynb``) of the assignment's notebooks, sorted."""
        return sorted(path.stem for path in self.source_dir(assignment).glob("*.ipynb"))


_STEPS = {"source": "source_directory", "release": "release_directory",
          "submitted": "submitted_directory", "autograded": "autograded_directory",
          "feedback": "feedback_directory"}


def course_layout(root: str | Path, config: Any = None) -> Layout:
    """The folders of the course at ``root``, from its nbgrader config.

    Parameters
    ----------
    root : str or Path
        The course folder.
    config : traitlets.config.Config, optional
        Its config, if already loaded.

    Returns
    -------
    Layout

    Raises
    ------
    ValueError
        When the config changes nbgrader's ``directory_structure`` (not supported).
    """
    config = config if config is not None else course_config(root)
    directories = config.CourseDirectory
    structure = directories.get("directory_structure")
    if isinstance(structure, str) and structure.replace("\\", "/") != \
            "{nbgrader_step}/{student_id}/{assignment_id}":
        raise ValueError(f"{CONFIG_FILE} sets CourseDirectory.directory_structure = "
                         f"{structure!r}; nncourse supports nbgrader's default only")
    names = {}
    for step, trait in _STEPS.items():
        value = directories.get(trait)
        if isinstance(value, str) and value:
            names[step] = value
    return Layout(Path(root).resolve(), **names)

