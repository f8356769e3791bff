"""The students' self-check: run a notebook's tests in a fresh kernel, report task by task.

The notebook runs through the grader's own executor (:mod:`nncourse.autograde.runner`):
the student's cells in a fresh kernel, the test cells outside it. The verdict of each task
comes from :func:`~nncourse.autograde.status.test_cell_outcome`, the rule ``nncourse grade``
uses too; locked cells that were edited are named, as nbgrader's validator would.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from nncourse.autograde import sandbox
from nncourse.autograde.course import CELL_TIMEOUT_S, KERNEL_MEMORY_MB
from nncourse.autograde.kernels import Kernel
from nncourse.autograde.notebook import (
    NotebookError,
    checksum,
    grade_id,
    graded_cells,
    is_given_cell,
    read_notebook_json,
)
from nncourse.autograde.status import Outcome, test_cell_outcome

_REASON_WIDTH = 72


@dataclass(frozen=True)
class TaskResult:
    """The outcome of one graded cell.

    Attributes
    ----------
    task : str
        The cell's grade id.
    points : float
        What the task is worth.
    status : str
        ``"passed"``, ``"failed"`` (a test's assertion), ``"error"`` (any other exception,
        e.g. ``NotImplementedError`` in an unfinished task), ``"manual"`` (graded by hand)
        or ``"not run"``.
    reason : str
        Why, in full (the error message); empty when the task passed.
    graded : bool
        False for a row about a cell that is not a task (a setup cell that failed).
    """

    task: str
    points: float
    status: Outcome
    reason: str = ""
    graded: bool = True


@dataclass
class CheckReport:
    """All task results of a notebook, plus problems with the notebook as a whole."""

    notebook: Path
    tasks: list[TaskResult]
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every autograded task passed and the notebook has no problems."""
        done = (Outcome.PASSED, Outcome.MANUAL)
        return not self.problems and all(task.status in done and task.graded
                                         for task in self.tasks)

    def table(self) -> str:
        """A plain-text table: task / points / result / first line of the reason."""
        rows = [(t.task, f"{t.points:g}" if t.graded else "", t.status, _first_line(t.reason))
                for t in self.tasks]
        header = ("task", "points", "result", "reason")
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
        lines = [f"{header[0]:<{widths[0]}}  {header[1]:>{widths[1]}}  "
                 f"{header[2]:<{widths[2]}}  {header[3]}"]
        lines.append("-" * (sum(widths) + 6 + len(header[3])))
        for task, points, status, reason in rows:
            line = f"{task:<{widths[0]}}  {points:>{widths[1]}}  {status:<{widths[2]}}  {reason}"
            lines.append(line.rstrip())
        return "\n".join(lines)

    def summary(self) -> str:
        """Points passed, the failures in full, and what to do next."""
        auto = [t for t in self.tasks if t.status != Outcome.MANUAL and t.graded]
        broken = [t for t in self.tasks if not t.graded]
        passed = [t for t in auto if t.status == Outcome.PASSED]
        manual_points = sum(t.points for t in self.tasks if t.status == Outcome.MANUAL)
        parts = [f"{len(passed)} of {len(auto)} autograded tasks pass the visible tests "
                 f"({sum(t.points for t in passed):g} of {sum(t.points for t in auto):g} "
                 f"points); {manual_points:g} points are graded by hand."]
        parts += [f"Problem: {problem}" for problem in self.problems]
        for task in broken:
            parts.append(f"--- {task.task} (not a task: the cell failed) ---\n{task.reason}\n"
                         "The tasks after it were not run; fix this first.")
        for task in auto:
            if task.status in (Outcome.FAILED, Outcome.ERROR, Outcome.PARTIAL):
                parts.append(f"--- {task.task} ({task.status}) ---\n{task.reason}")
        parts.append("All visible tests pass; hidden tests run when your work is graded."
                     if self.passed else "Fix the tasks above, save the notebook, check again.")
        return "\n\n".join(parts)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= _REASON_WIDTH else line[: _REASON_WIDTH - 3] + "..."


def task_results(executed: dict[str, Any]) -> list[TaskResult]:
    """Classify every graded cell of an executed notebook.

    Parameters
    ----------
    executed : dict
        The notebook after running all cells (outputs present); an ``nbformat.NotebookNode``
        or the plain JSON.

    Returns
    -------
    list of TaskResult
        In notebook order; answers graded by hand are ``"manual"``.
        A given cell (setup) that raised comes as its own row, before the tasks it stopped.
    """
    graded = {cell.grade_id: cell for cell in graded_cells(executed)}
    results = []
    for cell in executed["cells"]:
        cell_id = grade_id(cell)
        if is_given_cell(cell) and any(output.get("output_type") == "error"
                                       for output in cell.get("outputs", [])):
            _, reason = test_cell_outcome(cell)
            results.append(TaskResult(cell_id, 0, Outcome.ERROR,
                                      f"the {cell_id} cell failed: {reason}", graded=False))
        if cell_id not in graded:
            continue
        if graded[cell_id].autograded:
            status, reason = test_cell_outcome(cell)
        else:
            status, reason = Outcome.MANUAL, "graded by hand"
        results.append(TaskResult(cell_id, graded[cell_id].points, status, reason))
    return results


def _edited_cells(notebook: dict[str, Any]) -> list[str]:
    """Problems nbgrader's validator would name: locked cells edited, cell types changed."""
    problems = []
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader")
        if not meta or not (meta.get("grade") or meta.get("solution") or meta.get("locked")):
            continue
        if meta.get("cell_type") and meta["cell_type"] != cell["cell_type"]:
            problems.append(f"a {meta['cell_type']} cell was changed into a "
                            f"{cell['cell_type']} cell; undo that (Edit > Undo, or copy your "
                            "answers into a fresh copy)")
        elif (meta.get("grade") or meta.get("locked")) and not meta.get("solution") \
                and "checksum" in meta and checksum(cell) != meta["checksum"]:
            problems.append(f"a test cell was edited (it starts with "
                            f"{_first_line(cell['source'])!r}); grading uses the original test")
    return problems


def run_check(notebook: str | Path, *, timeout: int = CELL_TIMEOUT_S) -> CheckReport:
    """Run a notebook in a fresh kernel and grade its visible tests.

    The student's cells run in the kernel; the test cells run outside it and call the
    student's functions across the same boundary as ``nncourse grade`` (see
    :mod:`nncourse.autograde.runner`), so a task passes here exactly when it would pass the
    same tests when graded. The kernel starts first, and boots while the notebook is read.

    Parameters
    ----------
    notebook : str or Path
        The ``.ipynb`` file (saved: the kernel runs the file, not an open editor).
    timeout : int
        Seconds each cell (and each call of the student's code) may run.

    Returns
    -------
    CheckReport

    Raises
    ------
    FileNotFoundError, NotebookError
        When the file is missing or not a notebook.
    """
    path = Path(notebook).resolve()
    if not path.is_file():
        read_notebook_json(path)  # raises the error that says what is wrong
    with tempfile.TemporaryDirectory(prefix="nncourse-check-") as scratch:
        workdir = Path(scratch)
        kernel = Kernel(sandbox.self_check_spec(workdir, path.parent, KERNEL_MEMORY_MB))
        try:
            executed = read_notebook_json(path)
        except NotebookError:
            kernel.close()
            raise
        problems = _edited_cells(executed)
        cells = executed["cells"]
        from nncourse.autograde.runner import RunOptions, run_notebook  # numpy: while it boots

        run_notebook(cells, kernel, workdir,
                     RunOptions(timeout, timeout * max(1, len(cells))))
    return CheckReport(path, task_results(executed), problems)


def check(notebook: str | Path, *, timeout: int = CELL_TIMEOUT_S, stream: TextIO | None = None
          ) -> CheckReport | None:
    """Check a notebook and print the table: what ``nncourse check NOTEBOOK`` does.

    Call it from a notebook cell as ``check("ch01_gradient_descent.ipynb")`` after saving.
    While nbgrader itself runs the notebook (grading or validating), it does nothing.

    Parameters
    ----------
    notebook : str or Path
        The ``.ipynb`` file.
    timeout : int, default 60
        Seconds each cell may run.
    stream : text file, optional
        Where to print; standard output by default.

    Returns
    -------
    CheckReport or None
        ``None`` when skipped inside nbgrader.
    """
    stream = stream or sys.stdout
    if os.environ.get("NBGRADER_EXECUTION"):
        print("nncourse check: skipped while nbgrader runs this notebook.", file=stream)
        return None
    report = run_check(notebook, timeout=timeout)
    print(f"{report.notebook.name}\n\n{report.table()}\n\n{report.summary()}", file=stream)
    return report
