"""CheckCellMetadataOnce accepts and refuses exactly what nbgrader's CheckCellMetadata does."""

from __future__ import annotations

import copy
from collections.abc import Callable

import nbformat
import pytest
from conftest import REPO
from nbgrader.nbgraderformat import ValidationError
from nbgrader.preprocessors import CheckCellMetadata

from nncourse.autograde.metadata import CheckCellMetadataOnce

SOURCE = REPO / "solutions" / "ch02_loss_functions" / "ch02_loss_functions.ipynb"


def _graded(notebook: nbformat.NotebookNode) -> list[dict]:
    return [cell.metadata.nbgrader for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("grade")]


def _points_as_text(notebook: nbformat.NotebookNode) -> None:
    _graded(notebook)[0]["points"] = "two"


def _unknown_key(notebook: nbformat.NotebookNode) -> None:
    _graded(notebook)[0]["colour"] = "red"


def _old_schema(notebook: nbformat.NotebookNode) -> None:
    _graded(notebook)[0]["schema_version"] = 2


def _new_schema(notebook: nbformat.NotebookNode) -> None:
    _graded(notebook)[0]["schema_version"] = 9


def _duplicate_id(notebook: nbformat.NotebookNode) -> None:
    first, second = _graded(notebook)[:2]
    second["grade_id"] = first["grade_id"]


def _no_points(notebook: nbformat.NotebookNode) -> None:
    del _graded(notebook)[0]["points"]


def _empty_id(notebook: nbformat.NotebookNode) -> None:
    _graded(notebook)[0]["grade_id"] = ""


def _unchanged(notebook: nbformat.NotebookNode) -> None:
    del notebook


def _verdict(step: type, notebook: nbformat.NotebookNode) -> str:
    """``ok``, or the type and message of what ``step`` raised, with the first error it
    logged (the reason nbgrader shows)."""
    logged: list[str] = []
    check = step()
    check.log.error = lambda message, *args: logged.append(str(message).splitlines()[-1])
    try:
        check.preprocess(copy.deepcopy(notebook), {})
    except Exception as error:  # noqa: BLE001 (the verdict is what is compared)
        return f"{type(error).__name__}: {error} / {logged[:1]}"
    return "ok"


@pytest.mark.parametrize("change", [_unchanged, _points_as_text, _unknown_key, _old_schema,
                                    _new_schema, _duplicate_id, _no_points, _empty_id])
def test_the_same_verdict_as_nbgraders(change: Callable[[nbformat.NotebookNode], None]
                                       ) -> None:
    notebook = nbformat.read(SOURCE, as_version=4)
    change(notebook)
    ours = _verdict(CheckCellMetadataOnce, notebook)
    assert ours == _verdict(CheckCellMetadata, notebook)
    assert (ours == "ok") == (change is _unchanged)


def test_every_source_notebook_passes() -> None:
    for path in sorted((REPO / "solutions").glob("*/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        CheckCellMetadataOnce().preprocess(notebook, {})  # raises ValidationError if not


def test_a_refusal_is_nbgraders_error_type() -> None:
    notebook = nbformat.read(SOURCE, as_version=4)
    _points_as_text(notebook)
    with pytest.raises(ValidationError, match="nbgrader metadata may be corrupted"):
        CheckCellMetadataOnce().preprocess(notebook, {})
