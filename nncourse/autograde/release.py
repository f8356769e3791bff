"""``nncourse release``: generate the student versions of the assignments with nbgrader.

nbgrader runs in a throw-away copy of the course (the config and the chosen sources), so a
release neither touches the course's gradebook nor depends on it, and the output is
normalised (no outputs, no run-dependent metadata): releasing twice gives identical bytes.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat

from nncourse.autograde.course import CONFIG_FILE, course_config, course_layout, find_course_root

_KEPT_CELL_METADATA = ("deletable", "editable", "nbgrader", "tags")


def list_assignments(root: str | Path) -> list[str]:
    """Names of the assignments under ``<root>/solutions`` (folders holding a notebook).

    Parameters
    ----------
    root : str or Path
        The course folder.

    Returns
    -------
    list of str
        Sorted, e.g. ``["ch01_gradient_descent", "ch02_loss_functions"]``.
    """
    source = Path(root) / course_layout(root).source
    if not source.is_dir():
        return []
    return sorted(folder.name for folder in source.iterdir()
                  if folder.is_dir() and any(folder.glob("*.ipynb")))


@contextmanager
def venv_tools_on_path() -> Iterator[None]:
    """Put this interpreter's ``bin`` first on PATH: nbgrader starts ``alembic`` from PATH."""
    previous = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{previous}"
    try:
        yield
    finally:
        os.environ["PATH"] = previous


def normalise_notebook(path: str | Path) -> None:
    """Rewrite a notebook without outputs and without metadata that depends on the run.

    Keeps per cell only ``deletable``, ``editable``, ``nbgrader`` and ``tags``; per notebook
    the kernelspec and the language name. Writes nbformat's canonical JSON.

    Parameters
    ----------
    path : str or Path
        The notebook, rewritten in place.
    """
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        cell.metadata = {key: cell.metadata[key] for key in _KEPT_CELL_METADATA
                         if key in cell.metadata}
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    language = notebook.metadata.get("language_info", {}).get("name", "python")
    notebook.metadata = {"kernelspec": notebook.metadata.get("kernelspec", {}),
                         "language_info": {"name": language}}
    nbformat.write(notebook, path)


def prepare_course(root: str | Path, course: str | Path, assignments: Iterable[str]) -> None:
    """Copy the config and the sources of ``assignments`` from ``root`` into ``course``.

    Parameters
    ----------
    root : str or Path
        The course folder to copy from.
    course : str or Path
        A new course folder (created if missing).
    assignments : iterable of str
        Folder names under ``solutions/``.
    """
    root, course = Path(root), Path(course)
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy(root / CONFIG_FILE, course / CONFIG_FILE)
    source = course_layout(root).source
    for assignment in assignments:
        shutil.copytree(root / source / assignment, course / source / assignment,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))


def generate_assignments(course: str | Path, assignments: Iterable[str],
                         db_url: str | None = None) -> None:
    """Run nbgrader's generate_assignment in ``course`` and normalise what it writes.

    The assignments are recorded in the course's gradebook, so the folder is ready for
    ``nbgrader autograde``.

    Parameters
    ----------
    course : str or Path
        A course folder with ``nbgrader_config.py`` and ``solutions/``.
    assignments : iterable of str
        Folder names under ``solutions/``.
    db_url : str, optional
        The gradebook to record them in; the course folder's own by default.

    Raises
    ------
    RuntimeError
        When nbgrader fails (its log is in the message).
    """
    # nbgrader takes seconds to import: only a release pays for it.
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    course = Path(course).resolve()
    config = course_config(course, db_url)
    release_dir = course_layout(course, config).release
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    with venv_tools_on_path():
        for assignment in assignments:
            result = api.generate_assignment(assignment, force=True, create=True)
            if not result["success"]:
                raise RuntimeError(f"nbgrader could not generate {assignment}:\n"
                                   f"{result.get('log', '')}\n{result.get('error', '')}")
            for notebook in (course / release_dir / assignment).rglob("*.ipynb"):
                normalise_notebook(notebook)


def generate_release(root: str | Path, output: str | Path,
                     assignments: Iterable[str] | None = None) -> list[Path]:
    """Generate student versions of assignments of the course at ``root`` into ``output``.

    Parameters
    ----------
    root : str or Path
        The course folder (``nbgrader_config.py``, ``solutions/``).
    output : str or Path
        Where ``<assignment>/`` folders are written; an existing one is replaced.
    assignments : iterable of str, optional
        Names under ``solutions/``; all of them by default.

    Returns
    -------
    list of Path
        The written assignment folders.

    Raises
    ------
    ValueError
        When an assignment has no folder under ``solutions/``.
    RuntimeError
        When nbgrader fails (its log is in the message).
    """
    root, output = Path(root).resolve(), Path(output).resolve()
    available = list_assignments(root)
    chosen = list(assignments) if assignments else available
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        raise ValueError(f"no assignment named {', '.join(unknown)} under "
                         f"{root / course_layout(root).source}; "
                         f"available: {', '.join(available)}")
    written = []
    with tempfile.TemporaryDirectory(prefix="nncourse-release-") as scratch:
        course = Path(scratch)
        prepare_course(root, course, chosen)
        generate_assignments(course, chosen)
        for assignment in chosen:
            target = output / assignment
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(course / course_layout(course).release / assignment, target)
            written.append(target)
    return written


def release(root: str | Path | None = None, assignments: Iterable[str] | None = None
            ) -> list[Path]:
    """Regenerate ``exercises/`` from ``solutions/`` (what ``nncourse release`` does).

    Parameters
    ----------
    root : str or Path, optional
        The course folder; found from the current directory by default.
    assignments : iterable of str, optional
        Which assignments; all by default.

    Returns
    -------
    list of Path
        The written ``exercises/<assignment>`` folders.
    """
    root = find_course_root(root)
    return generate_release(root, root / course_layout(root).release, assignments)
