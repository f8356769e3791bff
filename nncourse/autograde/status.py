"""What happened to a submission and to each of its test cells: one vocabulary, one rule.

:class:`Status` is the state of a whole submission (a record, a row of ``grades.csv``);
:class:`Outcome` the state of one graded cell. :func:`test_cell_outcome` decides whether an
executed test cell passed, with nbgrader's own scoring rule (``nbgrader.utils.determine_grade``):
an error or anything written to stderr scores 0, a displayed value is a partial score, and
anything else earns the cell's points. ``nncourse check`` and ``nncourse grade`` both use it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """How the grading of one submission ended."""

    GRADED = "graded"
    """The notebook ran to the end (its tests may still have failed)."""
    TIMEOUT = "timeout"
    """It ran longer than the submission's time limit and its kernel was killed."""
    CRASHED = "crashed"
    """Its kernel died (``os._exit``, a segfault, too much memory)."""
    INVALID = "invalid"
    """The file is not a readable notebook, or is missing."""
    ERROR = "error"
    """nbgrader or the grader itself failed on it."""


NOT_RUN = "NotRun"
"""The error name the executor gives a test cell it did not run (an earlier given cell failed)."""


class Outcome(StrEnum):
    """How one graded cell ended."""

    PASSED = "passed"
    FAILED = "failed"
    """A test's assertion failed."""
    ERROR = "error"
    """Any other exception, e.g. ``NotImplementedError`` in an unfinished task."""
    PARTIAL = "partial"
    """The cell displayed a value, which nbgrader reads as a partial score."""
    MANUAL = "manual"
    """Graded by hand (a written answer)."""
    NOT_RUN = "not run"


def test_cell_outcome(cell: Any) -> tuple[Outcome, str]:
    """Whether an executed autograded test cell passed, and why not.

    Parameters
    ----------
    cell : NotebookNode or dict
        A test cell after execution (its ``outputs`` present).

    Returns
    -------
    (Outcome, str)
        ``PASSED`` with an empty reason; ``FAILED`` (an ``AssertionError``, or stderr) or
        ``ERROR`` (another exception) with ``"Name: message"``; ``PARTIAL`` with the value.

    Examples
    --------
    >>> test_cell_outcome({"outputs": [{"output_type": "error", "ename": "AssertionError",
    ...                                 "evalue": "softmax([1, 1]): wrong value"}]})
    (<Outcome.FAILED: 'failed'>, 'AssertionError: softmax([1, 1]): wrong value')
    """
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "error":
            name, message = output.get("ename", "Error"), output.get("evalue") or ""
            if name == NOT_RUN:
                return Outcome.NOT_RUN, message
            outcome = Outcome.FAILED if name == "AssertionError" else Outcome.ERROR
            return outcome, f"{name}: {message}" if message else name
        if kind == "stream" and output.get("name") == "stderr":
            return Outcome.FAILED, ("the cell wrote to stderr (nbgrader gives 0 points): "
                                   + str(output.get("text", "")))
        if kind == "execute_result":
            value = output.get("data", {}).get("text/plain", "")
            printed = "".join(str(item.get("data", {}).get("text/plain", ""))
                              for item in cell.get("outputs", [])
                              if item.get("output_type") == "display_data")
            return Outcome.PARTIAL, (f"{value} points: {printed.strip()}" if printed else
                                     f"the cell displayed {value}, read as a partial score")
    return Outcome.PASSED, ""
