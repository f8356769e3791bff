"""Bring submissions into nbgrader's ``submitted/<student>/<assignment>/`` layout.

Instructors get submissions in one of three shapes: already in nbgrader's layout, a folder of
loose notebooks named after students (an LMS export), or a zip of such a folder. Loose files
are copied, never moved: the originals stay where they were.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from nncourse.autograde.course import Layout


@dataclass(frozen=True)
class Imported:
    """What an import did.

    Attributes
    ----------
    students : list of str
        Students with a submission of the assignment after the import.
    notes : dict of str to str
        Per student, what the import had to change (a renamed or duplicate file).
    """

    students: list[str]
    notes: dict[str, str]


def student_id(file_name: str, assignment: str) -> str:
    """The student id a loose notebook's name stands for.

    The assignment name and the ``.ipynb`` suffix are dropped, everything but letters,
    digits, ``.``, ``_`` and ``-`` becomes ``_``: ``"Ada Lovelace_ch02.ipynb"`` becomes
    ``"Ada_Lovelace"``.

    Parameters
    ----------
    file_name : str
        The file's name, without folders.
    assignment : str
        The assignment's name.

    Returns
    -------
    str
        The id; empty when nothing of the name is left.
    """
    stem = Path(file_name).name.removesuffix(".ipynb").replace(assignment, "")
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")


def expected_notebooks(layout: Layout, student: str, assignment: str) -> list[Path]:
    """Where nbgrader looks for ``student``'s notebooks of ``assignment`` (one per source)."""
    folder = layout.student_dir("submitted", student, assignment)
    return [folder / f"{name}.ipynb" for name in layout.notebooks(assignment)]


def _single_notebook(layout: Layout, assignment: str) -> str:
    """The name of the assignment's only notebook (loose files can only be that one)."""
    names = layout.notebooks(assignment)
    if len(names) != 1:
        raise ValueError(f"{assignment} has {len(names)} notebooks ({', '.join(names)}): loose "
                         "files cannot say which is which; give a folder in nbgrader's layout, "
                         f"<student>/{assignment}/<notebook>.ipynb")
    return names[0]


def _copy_loose(files: list[Path], layout: Layout, assignment: str,
                notes: dict[str, str]) -> None:
    name = _single_notebook(layout, assignment)
    by_student: dict[str, list[Path]] = {}
    for path in files:
        by_student.setdefault(student_id(path.name, assignment), []).append(path)
    for student, paths in sorted(by_student.items()):
        if not student:
            raise ValueError(f"cannot tell the student from the file name {paths[0].name}")
        chosen = sorted(paths)[-1]
        if len(paths) > 1:
            notes[student] = (f"{len(paths)} files for this student; graded {chosen.name}")
        target = layout.student_dir("submitted", student, assignment) / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(chosen, target)


def _rename_lone_notebooks(layout: Layout, assignment: str, notes: dict[str, str]) -> None:
    """Copy a single wrongly named notebook of a student to the name nbgrader expects."""
    names = layout.notebooks(assignment)
    if len(names) != 1:
        return
    for folder in sorted((layout.root / layout.submitted).glob(f"*/{assignment}")):
        target = folder / f"{names[0]}.ipynb"
        others = sorted(folder.glob("*.ipynb"))
        if not target.exists() and len(others) == 1:
            shutil.copyfile(others[0], target)
            notes[folder.parent.name] = f"graded {others[0].name} under the expected name"


def import_submissions(layout: Layout, assignment: str,
                       source: str | Path | None = None) -> Imported:
    """Copy submissions of ``assignment`` into the course and list the students.

    Parameters
    ----------
    layout : Layout
        The course's folders.
    assignment : str
        The assignment's name.
    source : str or Path, optional
        A folder in nbgrader's layout (``<student>/<assignment>/*.ipynb``), a folder of loose
        ``<student>.ipynb`` files, or a zip of either. By default, the course's own
        ``submitted/`` folder.

    Returns
    -------
    Imported

    Raises
    ------
    FileNotFoundError
        When ``source`` does not exist.
    ValueError
        When ``source`` holds no notebook, or a name says no student.
    """
    notes: dict[str, str] = {}
    if source is not None:
        source = Path(source)
        if not source.exists():
            raise FileNotFoundError(f"no submissions at {source}")
        if source.is_file():
            _import_zip(source, layout, assignment, notes)
        else:
            _import_folder(source, layout, assignment, notes)
    _rename_lone_notebooks(layout, assignment, notes)
    students = sorted(folder.parent.name
                      for folder in (layout.root / layout.submitted).glob(f"*/{assignment}")
                      if folder.is_dir())
    return Imported(students, notes)


def _import_folder(source: Path, layout: Layout, assignment: str,
                   notes: dict[str, str]) -> None:
    in_layout = sorted(source.glob(f"*/{assignment}"))
    submitted = layout.root / layout.submitted
    if in_layout and source.resolve() != submitted.resolve():
        for folder in in_layout:
            shutil.copytree(folder, submitted / folder.parent.name / assignment,
                            dirs_exist_ok=True)
        return
    loose = sorted(path for path in source.iterdir() if path.suffix == ".ipynb")
    if not in_layout and not loose:
        raise ValueError(f"{source} holds no notebooks: expected <student>.ipynb files or "
                         f"<student>/{assignment}/{assignment}.ipynb folders")
    _copy_loose(loose, layout, assignment, notes)


def _import_zip(source: Path, layout: Layout, assignment: str, notes: dict[str, str]) -> None:
    try:
        archive = zipfile.ZipFile(source)
    except zipfile.BadZipFile as error:
        raise ValueError(f"{source} is neither a folder nor a zip file") from error
    with archive, tempfile.TemporaryDirectory(prefix="nncourse-import-") as scratch:
        files = []
        for member in archive.infolist():
            name = Path(member.filename)
            if member.is_dir() or name.suffix != ".ipynb" or name.name.startswith("."):
                continue
            # Only the file name is used, never the member's path: nothing lands outside.
            in_layout = name.parent.name == assignment and len(name.parts) >= 3
            stem = name.parts[-3] if in_layout else name.name
            target = Path(scratch) / (f"{stem}.ipynb" if in_layout else stem)
            target.write_bytes(archive.read(member))
            files.append(target)
        if not files:
            raise ValueError(f"{source} holds no notebooks")
        _copy_loose(files, layout, assignment, notes)
