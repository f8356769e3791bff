"""Reading assignment notebooks, normalising releases, and hiding tests from feedback."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from nncourse.autograde.feedback import HideHiddenTests
from nncourse.autograde.notebook import (
    GradedCell,
    NotebookError,
    checksum,
    code_imports,
    given_imports,
    graded_cells,
    read_notebook,
    read_notebook_json,
    solution_cells,
)
from nncourse.autograde.release import (
    find_course_root,
    generate_release,
    list_assignments,
    normalise_notebook,
    venv_tools_on_path,
)

REPO = Path(__file__).resolve().parents[1]


def nbgrader_meta(grade_id: str, **flags) -> dict:
    meta = {"grade": False, "solution": False, "locked": False, "grade_id": grade_id,
            "schema_version": 3, "task": False, **flags}
    return {"nbgrader": meta}


def toy_notebook() -> nbformat.NotebookNode:
    notebook = new_notebook(cells=[
        new_markdown_cell("# Toy", id="intro"),
        new_code_cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n"
                      "    ### END SOLUTION", id="double", metadata=nbgrader_meta(
                          "double", solution=True)),
        new_code_cell("assert double(1) == 2\n### BEGIN HIDDEN TESTS\nassert double(-4) == -8, "
                      "'negative numbers'\n### END HIDDEN TESTS", id="test_double",
                      metadata=nbgrader_meta("test_double", grade=True, locked=True, points=2),
                      execution_count=3, outputs=[
                          new_output("stream", name="stdout",
                                     text="assert double(-4) == -8  # printed by student code"),
                          new_output("error", ename="AssertionError", evalue="negative numbers",
                                     traceback=["----", "assert double(-4) == -8, 'negative "
                                                "numbers'"])]),
        new_markdown_cell("An answer", id="why", metadata=nbgrader_meta(
            "why", grade=True, solution=True, points=1)),
    ])
    notebook.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"},
                         "language_info": {"name": "python", "version": "3.11.2"}}
    notebook.cells[2].metadata["execution"] = {"iopub.status.busy": "2024-01-01T00:00:00"}
    return notebook


def test_graded_and_solution_cells() -> None:
    notebook = toy_notebook()
    assert graded_cells(notebook) == [GradedCell("test_double", 2.0, True),
                                      GradedCell("why", 1.0, False)]
    assert list(solution_cells(notebook)) == ["double", "why"]


def test_read_notebook(tmp_path: Path) -> None:
    path = tmp_path / "toy.ipynb"
    nbformat.write(toy_notebook(), path)
    assert len(read_notebook(path).cells) == 4
    with pytest.raises(FileNotFoundError, match="no notebook at"):
        read_notebook(tmp_path / "missing.ipynb")
    (tmp_path / "toy.py").write_text("print(1)")
    with pytest.raises(NotebookError, match="not a Jupyter notebook"):
        read_notebook(tmp_path / "toy.py")


@pytest.mark.parametrize("broken, reason", [
    ('{"cells": [], "nbformat": 4', "not a valid Jupyter notebook"),
    ('[1, 2]', "no nbformat 4 notebook"),
    ('{"nbformat": 4, "cells": {}}', "'cells' is not a list"),
    ('{"nbformat": 4, "cells": [{"cell_type": "python", "source": ""}]}', "cell 1 has no valid"),
    ('{"nbformat": 4, "cells": [{"cell_type": "code", "source": 3}]}', "cell 1 has no text"),
    ('{"nbformat": 4, "cells": [{"cell_type": "code", "source": "", "metadata": []}]}',
     "cell 1 has malformed metadata"),
])
def test_read_notebook_json_refuses_what_it_cannot_run(tmp_path: Path, broken: str,
                                                       reason: str) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text(broken)
    with pytest.raises(NotebookError, match=reason):
        read_notebook_json(path)


def test_read_notebook_json_reads_what_nbformat_reads(tmp_path: Path) -> None:
    path = tmp_path / "toy.ipynb"
    nbformat.write(toy_notebook(), path)
    light, full = read_notebook_json(path), read_notebook(path)
    assert [cell["source"] for cell in light["cells"]] == [cell.source for cell in full.cells]
    assert [cell["metadata"] for cell in light["cells"]] == [cell.metadata for cell in full.cells]
    nbformat.write(nbformat.v4.downgrade(toy_notebook()), path)  # nbformat 3: converted
    assert len(read_notebook_json(path)["cells"]) == 4


def test_checksum_is_nbgraders() -> None:
    from nbgrader.utils import compute_checksum, is_grade, is_locked, is_solution

    cells = [cell for folder in ("solutions", "exercises")
             for path in sorted((REPO / folder).glob("*/*.ipynb"))
             for cell in read_notebook(path).cells
             if is_grade(cell) or is_solution(cell) or is_locked(cell)]
    cells += [cell for cell in toy_notebook().cells if "nbgrader" in cell.metadata]
    assert len(cells) > 100
    assert [checksum(cell) for cell in cells] == [compute_checksum(cell) for cell in cells]


def test_imports_of_the_code_cells_and_of_the_given_ones() -> None:
    notebook = toy_notebook()
    notebook.cells[1].source = "import torch.nn as nn\nfrom numpy import linalg\n" + \
        notebook.cells[1].source
    notebook.cells.insert(0, new_code_cell("import os, json\nfrom . import sibling\n%magic",
                                           metadata=nbgrader_meta("setup", locked=True)))
    notebook.cells.append(new_code_cell("def broken(:"))
    assert code_imports(notebook) == {"torch", "numpy"}  # the given cell's magic: skipped
    notebook.cells[0].source = "import os, json\nfrom . import sibling"
    assert code_imports(notebook) == {"torch", "numpy", "os", "json"}
    assert given_imports(notebook) == {"os", "json"}


def test_feedback_hides_hidden_tests_and_their_tracebacks() -> None:
    notebook = toy_notebook()
    cleaned, _ = HideHiddenTests().preprocess(notebook, {})
    test_cell = cleaned.cells[2]
    assert test_cell.source == "assert double(1) == 2"
    assert [output.output_type for output in test_cell.outputs] == ["error"]
    assert test_cell.outputs[0].traceback == ["AssertionError: negative numbers"]
    assert cleaned.cells[1].source == toy_notebook().cells[1].source


def test_normalise_notebook_drops_outputs_and_run_metadata(tmp_path: Path) -> None:
    path = tmp_path / "toy.ipynb"
    nbformat.write(toy_notebook(), path)
    normalise_notebook(path)
    first = path.read_bytes()
    notebook = nbformat.read(path, as_version=4)
    assert notebook.cells[2].outputs == [] and notebook.cells[2].execution_count is None
    assert set(notebook.cells[2].metadata) == {"nbgrader"}
    assert notebook.metadata.language_info == {"name": "python"}
    normalise_notebook(path)
    assert path.read_bytes() == first


def test_course_root_and_assignments(tmp_path: Path) -> None:
    assert find_course_root(REPO / "nncourse" / "grading") == REPO
    assert "ch01_gradient_descent" in list_assignments(REPO)
    with pytest.raises(FileNotFoundError, match="nbgrader_config.py"):
        find_course_root(tmp_path)


def test_venv_tools_go_first_on_path_for_a_while() -> None:
    before = os.environ["PATH"]
    with venv_tools_on_path():
        assert os.environ["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert os.environ["PATH"] == before


@pytest.mark.slow
def test_generate_release_is_a_clean_student_version(tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course / "solutions" / "toy").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text((REPO / "nbgrader_config.py").read_text())
    nbformat.write(toy_notebook(), course / "solutions" / "toy" / "toy.ipynb")

    first = generate_release(course, tmp_path / "out")
    released = (tmp_path / "out" / "toy" / "toy.ipynb").read_bytes()
    again = generate_release(course, tmp_path / "out", ["toy"])

    assert first == again == [tmp_path / "out" / "toy"]
    assert (tmp_path / "out" / "toy" / "toy.ipynb").read_bytes() == released
    notebook = nbformat.read(tmp_path / "out" / "toy" / "toy.ipynb", as_version=4)
    assert "# YOUR CODE HERE\n    raise NotImplementedError()" in notebook.cells[1].source
    assert notebook.cells[2].source == "assert double(1) == 2"
    assert notebook.cells[2].outputs == []
    assert notebook.cells[3].source == "YOUR ANSWER HERE"
    assert not (course / "gradebook.db").exists()
