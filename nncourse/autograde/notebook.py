"""The nbgrader structure of an assignment notebook: which cells are graded, for how much."""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # nbformat takes ~2 s to import: only reading a notebook pays for it
    from nbformat import NotebookNode


CELL_TYPES = frozenset({"code", "markdown", "raw"})


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
    path = _notebook_file(path)
    import nbformat

    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except (ValueError, nbformat.ValidationError) as error:  # bad JSON, bad UTF-8, bad schema
        reason = str(error).splitlines()[0]
        raise NotebookError(f"{path} is not a valid Jupyter notebook ({reason})") from error
    return notebook


def read_notebook_json(path: str | Path) -> dict[str, Any]:
    """Read a notebook as plain JSON, checking what running and checking it relies on.

    The cheap reader of ``nncourse check``: nbformat's schema validation costs a second of
    imports (jsonschema), this a few milliseconds. A notebook of another major version than
    4 goes through :func:`read_notebook`, which converts it.

    Parameters
    ----------
    path : str or Path
        The ``.ipynb`` file.

    Returns
    -------
    dict
        The notebook, each cell's ``source`` joined into one string.

    Raises
    ------
    FileNotFoundError, NotebookError
        As :func:`read_notebook`.
    """
    path = _notebook_file(path)
    try:
        notebook = json.loads(path.read_bytes().decode("utf-8"))
    except ValueError as error:  # bad JSON, bad UTF-8
        reason = str(error).splitlines()[0]
        raise NotebookError(f"{path} is not a valid Jupyter notebook ({reason})") from error
    if isinstance(notebook, dict) and notebook.get("nbformat") not in (4, None):
        return read_notebook(path)
    problem = _structure_problem(notebook)
    if problem:
        raise NotebookError(f"{path} is not a valid Jupyter notebook ({problem})")
    for cell in notebook["cells"]:
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
        cell.setdefault("metadata", {})
    return notebook


def _structure_problem(notebook: Any) -> str | None:
    """What makes ``notebook`` (parsed JSON) unusable as an nbformat 4 notebook, if anything."""
    if not isinstance(notebook, dict) or notebook.get("nbformat") != 4:
        return "no nbformat 4 notebook in the file"
    if not isinstance(notebook.get("cells"), list):
        return "'cells' is not a list"
    for index, cell in enumerate(notebook["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") not in CELL_TYPES:
            return f"cell {index + 1} has no valid cell_type"
        source = cell.get("source")
        if not (isinstance(source, str) or isinstance(source, list)
                and all(isinstance(line, str) for line in source)):
            return f"cell {index + 1} has no text source"
        if not isinstance(cell.get("metadata", {}), dict):
            return f"cell {index + 1} has malformed metadata"
    return None


def _notebook_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no notebook at {path}: check the file name and the folder "
                                "you are in")
    if path.suffix != ".ipynb":
        raise NotebookError(f"{path} is not a Jupyter notebook: give the .ipynb file")
    return path


def checksum(cell: dict[str, Any]) -> str:
    """nbgrader's checksum of a graded or locked cell (``nbgrader.utils.compute_checksum``).

    Computed here so that the self-check need not import nbgrader (a second); a test keeps
    the two equal.
    """
    meta = _nbgrader(cell)
    grade, solution = meta.get("grade", False), meta.get("solution", False)
    locked = False if solution else True if grade else meta.get("locked", False)
    digest = hashlib.md5()  # noqa: S324 (nbgrader's choice: a change detector, not security)
    for part in (cell["source"], cell["cell_type"], str(grade), str(solution), str(locked),
                 meta["grade_id"]):
        digest.update(part.encode("utf-8"))
    if grade:
        digest.update(str(float(meta["points"])).encode("utf-8"))
    return digest.hexdigest()


def _nbgrader(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell: NotebookNode) -> str | None:
    """nbgrader's id of a cell (``"test_softmax"``), or None for a cell nbgrader ignores."""
    return _nbgrader(cell).get("grade_id")


def is_test_cell(cell: NotebookNode) -> bool:
    """Whether ``cell`` is an autograded test cell (graded code that is not a solution)."""
    meta = _nbgrader(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_given_cell(cell: NotebookNode) -> bool:
    """Whether ``cell`` is code the instructor gives (locked, neither test nor answer)."""
    meta = _nbgrader(cell)
    return (cell.get("cell_type") == "code" and bool(meta.get("locked")) and not meta.get("grade")
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
    for cell in notebook["cells"]:
        meta = _nbgrader(cell)
        if not (meta.get("grade") or meta.get("task")):
            continue
        cells.append(GradedCell(meta["grade_id"], float(meta.get("points", 0)),
                                is_test_cell(cell)))
    return cells


def given_imports(notebook: dict[str, Any]) -> set[str]:
    """The top-level modules the instructor's given cells import (``torch`` for ``torch.nn``)."""
    return code_imports(notebook, given_only=True)


def code_imports(notebook: dict[str, Any], *, given_only: bool = False) -> set[str]:
    """The top-level modules a notebook's code cells import; cells that do not parse skipped.

    Parameters
    ----------
    notebook : dict
        nbformat 4 notebook (plain JSON or ``NotebookNode``).
    given_only : bool, default False
        Only the instructor's given cells (see :func:`is_given_cell`).
    """
    modules = set()
    for cell in notebook["cells"]:
        if cell.get("cell_type") != "code" or given_only and not is_given_cell(cell):
            continue
        try:
            tree = ast.parse(cell["source"])
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
    return modules


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
    return {_nbgrader(cell)["grade_id"]: cell for cell in notebook["cells"]
            if _nbgrader(cell).get("solution")}
