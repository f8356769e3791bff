"""The nbgrader structure of an assignment notebook: which cells are graded, for how much."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # nbformat takes ~2 s to import: only reading a notebook pays for it
    from nbformat import NotebookNode


class NotebookError(ValueError):
    """A file that should be a Jupyter notebook is not one."""


@dataclass(frozen=True)
class GradedCell:
    """One graded cell of an assignment.

    Attributes
    ----------
    grade_id : str
        nbgrader's id of the cell, e.g. ``"test_softmax"``.
    points : float
        What the cell is worth.
    autograded : bool
        True for a code cell of tests; False for an answer (or task) graded by hand.
    """

    grade_id: str
    points: float
    autograded: bool


def read_notebook(path: str | Path) -> NotebookNode:
    """Read a notebook file, with errors a student understands.

    Parameters
    ----------
    path : str or Path
        The ``.ipynb`` file.

    Returns
    -------
    NotebookNode
        The notebook, nbformat 4.

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    NotebookError
        When the file is not a readable Jupyter notebook.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}: check the file name and the folder "
                                "you are in")
    if path.suffix != ".ipynb":
        raise NotebookError(f"{path} is not a Jupyter notebook: give the .ipynb file")
    import nbformat

    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except (ValueError, nbformat.ValidationError) as error:  # bad JSON, bad UTF-8, bad schema
        reason = str(error).splitlines()[0]
        raise NotebookError(f"{path} is not a valid Jupyter notebook ({reason})") from error
    return notebook


def _nbgrader(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell: NotebookNode) -> str | None:
    """nbgrader's id of a cell (``"test_softmax"``), or None for a cell nbgrader ignores."""
    return _nbgrader(cell).get("grade_id")


def is_test_cell(cell: NotebookNode) -> bool:
    """Whether ``cell`` is an autograded test cell (graded code that is not a solution)."""
    meta = _nbgrader(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_given_cell(cell: NotebookNode) -> bool:
    """Whether ``cell`` is code the instructor gives (locked, neither test nor answer)."""
    meta = _nbgrader(cell)
    return (cell.cell_type == "code" and bool(meta.get("locked")) and not meta.get("grade")
            and not meta.get("solution"))


def graded_cells(notebook: NotebookNode) -> list[GradedCell]:
    """The graded cells of a notebook, in order.

    Parameters
    ----------
    notebook : NotebookNode
        A source or student notebook with nbgrader metadata.

    Returns
    -------
    list of GradedCell
        Autograded test cells (grade, not solution, code) and cells graded by hand
        (grade and solution, or task).
    """
    cells = []
    for cell in notebook.cells:
        meta = _nbgrader(cell)
        if not (meta.get("grade") or meta.get("task")):
            continue
        cells.append(GradedCell(meta["grade_id"], float(meta.get("points", 0)),
                                is_test_cell(cell)))
    return cells


def solution_cells(notebook: NotebookNode) -> dict[str, NotebookNode]:
    """The cells a student writes in, by grade id (code and written answers).

    Parameters
    ----------
    notebook : NotebookNode
        A source or student notebook with nbgrader metadata.

    Returns
    -------
    dict of str to NotebookNode
    """
    return {_nbgrader(cell)["grade_id"]: cell for cell in notebook.cells
            if _nbgrader(cell).get("solution")}
