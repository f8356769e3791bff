"""The students' self-check: run a notebook's tests in a fresh kernel, report task by task.

nbgrader's ``Validator`` executes the notebook (and spots edited test cells), but its exit
status says nothing; the verdict here is read from the executed cells instead. A test cell
passes when it raises nothing and writes nothing to stderr, exactly nbgrader's rule for
full marks.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from nbformat import NotebookNode

from nncourse.grading.notebook import graded_cells, read_notebook

PASSED, FAILED, ERROR, MANUAL, NOT_RUN = "passed", "failed", "error", "manual", "not run"
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
    """

    task: str
    points: float
    status: str
    reason: str = ""


@dataclass
class CheckReport:
    """All task results of a notebook, plus problems with the notebook as a whole."""

    notebook: Path
    tasks: list[TaskResult]
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every autograded task passed and the notebook has no problems."""
        return not self.problems and all(t.status in (PASSED, MANUAL) for t in self.tasks)

    def table(self) -> str:
        """A plain-text table: task / points / result / first line of the reason."""
        rows = [(t.task, f"{t.points:g}", t.status, _first_line(t.reason)) for t in self.tasks]
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
        auto = [t for t in self.tasks if t.status != MANUAL]
        passed = [t for t in auto if t.status == PASSED]
        manual_points = sum(t.points for t in self.tasks if t.status == MANUAL)
        parts = [f"{len(passed)} of {len(auto)} autograded tasks pass the visible tests "
                 f"({sum(t.points for t in passed):g} of {sum(t.points for t in auto):g} "
                 f"points); {manual_points:g} points are graded by hand."]
        parts += [f"Problem: {problem}" for problem in self.problems]
        for task in auto:
            if task.status in (FAILED, ERROR):
                parts.append(f"--- {task.task} ({task.status}) ---\n{task.reason}")
        parts.append("All visible tests pass; hidden tests run when your work is graded."
                     if self.passed else "Fix the tasks above, save the notebook, check again.")
        return "\n\n".join(parts)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= _REASON_WIDTH else line[: _REASON_WIDTH - 3] + "..."


def _outcome(cell: NotebookNode) -> tuple[str, str]:
    """(status, reason) of an executed autograded test cell, by nbgrader's scoring rules."""
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            message = f"{output.ename}: {output.evalue}" if output.evalue else output.ename
            return (FAILED if output.ename == "AssertionError" else ERROR), message
        if output.output_type == "stream" and output.name == "stderr":
            return FAILED, f"the cell wrote to stderr (nbgrader gives 0 points): {output.text}"
        if output.output_type == "execute_result":
            return FAILED, ("the cell's last line shows a value, which nbgrader reads as a "
                            "partial score: do not change test cells")
    return PASSED, ""


def task_results(executed: NotebookNode) -> list[TaskResult]:
    """Classify every graded cell of an executed notebook.

    Parameters
    ----------
    executed : NotebookNode
        The notebook after running all cells (outputs present).

    Returns
    -------
    list of TaskResult
        In notebook order; answers graded by hand are ``"manual"``.
    """
    by_id = {cell.metadata.nbgrader["grade_id"]: cell for cell in executed.cells
             if "grade_id" in cell.get("metadata", {}).get("nbgrader", {})}
    results = []
    for graded in graded_cells(executed):
        if graded.autograded:
            status, reason = _outcome(by_id[graded.grade_id])
        else:
            status, reason = MANUAL, "graded by hand"
        results.append(TaskResult(graded.grade_id, graded.points, status, reason))
    return results


def _validate(path: Path, timeout: int) -> tuple[dict, NotebookNode | None]:
    """Run nbgrader's Validator; return its results and the executed notebook."""
    # nbgrader takes seconds to import: only the check itself pays for it.
    from nbgrader.validator import Validator
    from traitlets.config import Config

    class RecordingValidator(Validator):
        executed: NotebookNode | None = None

        def _preprocess(self, nb: NotebookNode) -> NotebookNode:
            self.executed = super()._preprocess(nb)
            return self.executed

    config = Config()
    config.Execute.timeout = timeout
    if sys.platform != "win32":  # a local socket file instead of TCP ports (not on Windows)
        config.KernelManager.transport = "ipc"
    validator = RecordingValidator(config=config)
    results = validator.validate(str(path))
    return results, validator.executed


def run_check(notebook: str | Path, *, timeout: int = 60) -> CheckReport:
    """Run a notebook in a fresh kernel and grade its visible tests.

    Parameters
    ----------
    notebook : str or Path
        The ``.ipynb`` file (saved: the kernel runs the file, not an open editor).
    timeout : int, default 60
        Seconds each cell may run.

    Returns
    -------
    CheckReport

    Raises
    ------
    FileNotFoundError, NotebookError
        When the file is missing or not a notebook.
    """
    path = Path(notebook).resolve()
    original = read_notebook(path)
    results, executed = _validate(path, timeout)
    problems = [f"a {cell['old_type']} cell was changed into a {cell['new_type']} cell; "
                "undo that (Edit > Undo, or copy your answers into a fresh copy)"
                for cell in results.get("type_changed", [])]
    problems += [f"a test cell was edited (it starts with {_first_line(cell['source'])!r}); "
                 "grading uses the original test" for cell in results.get("changed", [])]
    if executed is None:
        tasks = [TaskResult(g.grade_id, g.points, NOT_RUN) for g in graded_cells(original)]
        return CheckReport(path, tasks, problems)
    return CheckReport(path, task_results(executed), problems)


def check(notebook: str | Path, *, timeout: int = 60, stream: TextIO | None = None
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
