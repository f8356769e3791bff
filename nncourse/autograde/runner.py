"""Run a notebook: the student's cells in a kernel, the test cells in the grader's process.

:func:`run_notebook` is the one executor of ``nncourse grade`` (inside nbgrader's autograde,
see :mod:`~nncourse.autograde.execute`) and ``nncourse check``:

- code cells that are not tests run in the kernel (:class:`~nncourse.autograde.kernels.Kernel`,
  sandboxed when grading); their outputs are kept as a front end keeps them, at most
  :attr:`RunOptions.max_output_chars` characters per cell;
- test cells never run in the kernel: :class:`~nncourse.autograde.trusted.TrustedCells` runs
  them in this process, where the student's functions and classes are proxies that send and
  receive plain data only (:mod:`~nncourse.autograde.boundary`); the outputs that decide the
  score are written here;
- the instructor's given cells (setup, helpers) run in both places; when one fails, the
  tests after it are "not run" with its error as the reason;
- a whole-notebook wall-clock limit kills the kernel however it loops; a cell that runs past
  its own limit is interrupted; each call of the student's code has its own deadline;
- when the kernel dies (``os._exit``, a segfault, a limit), every test cell that did not
  run gets an error, so it scores 0 instead of nbgrader's default of full points for a cell
  without an error output.

Cells are dicts in nbformat 4's layout (an ``nbformat.NotebookNode`` is one); their
``outputs`` and ``execution_count`` are replaced in place.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nncourse.autograde.boundary import KernelGone, KernelLink
from nncourse.autograde.course import CELL_TIMEOUT_S, SUBMISSION_TIMEOUT_S
from nncourse.autograde.kernels import CellOutputs, Kernel
from nncourse.autograde.notebook import grade_id, is_given_cell, is_test_cell
from nncourse.autograde.status import NOT_RUN, Status
from nncourse.autograde.trusted import TrustedCells, error_output

SERVER_MODULE = "nncourse.autograde.kernel.server"
START_TIMEOUT_S = 60
"""Seconds a kernel may take to start."""


@dataclass(frozen=True)
class RunOptions:
    """The limits of one notebook's run.

    Attributes
    ----------
    cell_timeout : float
        Seconds a cell, and a single call of the student's code from a test, may run.
    submission_timeout : float
        Seconds the whole notebook may run before its kernel is killed.
    max_output_chars : int
        Characters of output kept per cell; later output is dropped.
    """

    cell_timeout: float = CELL_TIMEOUT_S
    submission_timeout: float = SUBMISSION_TIMEOUT_S
    max_output_chars: int = 100_000


@dataclass
class RunReport:
    """What happened to a notebook as a whole.

    Attributes
    ----------
    status : str
        ``graded``, ``timeout`` or ``crashed`` (:class:`~nncourse.autograde.status.Status`).
    reason : str
        Why, when not ``graded``.
    problems : list of str
        Given cells that failed in the grader's namespace.
    seconds : float
        Wall-clock time of the run.
    language_info : dict
        The kernel's ``language_info``, for the notebook's metadata.
    """

    status: str = Status.GRADED
    reason: str = ""
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    language_info: dict = field(default_factory=dict)


def run_notebook(cells: Sequence[Any], kernel: Kernel, workdir: Path, options: RunOptions,
                 make_output: Callable[[dict], Any] = dict) -> RunReport:
    """Run every cell of a notebook in order; return the report. The kernel is killed after
    (``kernel.close()`` waits for its end).

    Parameters
    ----------
    cells : sequence of dict
        The notebook's cells (nbformat 4); outputs are written into them.
    kernel : Kernel
        A started kernel for this notebook alone, its sockets in ``workdir``.
    workdir : Path
        The kernel's working folder (where the grading channel's socket is made).
    options : RunOptions
        Limits.
    make_output : callable, default dict
        Turns each output dict into what the cells hold (``nbformat.from_dict`` for nbgrader).

    Returns
    -------
    RunReport
    """
    return _NotebookRun(kernel, workdir, options, make_output).run(cells)


class _NotebookRun:
    """The state of one notebook's run: kernel, grader's namespace, first setup failure."""

    def __init__(self, kernel: Kernel, workdir: Path, options: RunOptions,
                 make_output: Callable[[dict], Any]) -> None:
        self.kernel = kernel
        self.workdir = workdir
        self.options = options
        self.make_output = make_output
        self.setup_failure = ""
        self.timed_out = False

    def run(self, cells: Sequence[Any]) -> RunReport:
        report, started = RunReport(), time.monotonic()
        stopped_at, trusted = 0, None
        watchdog = threading.Timer(self.options.submission_timeout, self._time_out)
        watchdog.start()
        try:
            report.language_info = self.kernel.wait_ready(START_TIMEOUT_S).get(
                "language_info", {})
            trusted = self._open_channel()
            for index, cell in enumerate(cells):
                stopped_at = index
                self._run_cell(cell, index, trusted)
            stopped_at = len(cells)
        except (RuntimeError, TimeoutError) as error:  # KernelGone is a RuntimeError
            report.status, report.reason = self._failure(error, stopped_at, len(cells))
            for cell in cells[stopped_at:]:
                if is_test_cell(cell):
                    cell["outputs"] = [*cell.get("outputs", []), self.make_output(
                        error_output("NotGraded", f"not run: {report.reason}"))]
        finally:
            watchdog.cancel()
            if trusted is not None:
                trusted.link.close()
            self.kernel.close(wait=False)
        report.problems = trusted.problems if trusted is not None else []
        report.seconds = round(time.monotonic() - started, 3)
        return report

    def _open_channel(self) -> TrustedCells:
        """Start the kernel's grading server and the grader's namespace for the tests."""
        path = self.workdir / "grading.sock"
        path.unlink(missing_ok=True)
        result = self.kernel.evaluate(f"__import__({SERVER_MODULE!r}, fromlist=['listen'])"
                                      f".listen({self.kernel.seen_by_kernel(path)!r})",
                                      self.options.cell_timeout)
        if result.get("status") != "ok":
            raise RuntimeError(f"the grading channel did not start: {result.get('evalue', '')}")
        link = KernelLink(str(path), float(self.options.cell_timeout))
        return TrustedCells(link, self.options.max_output_chars)

    def _run_cell(self, cell: Any, index: int, trusted: TrustedCells) -> None:
        if cell.get("cell_type") != "code":
            return
        label = grade_id(cell) or f"cell {index + 1}"
        if is_test_cell(cell):
            if self.setup_failure:  # its names are missing: a test would fail for no reason
                outputs = [error_output(NOT_RUN, f"not run because the {self.setup_failure}")]
            else:
                outputs = self._run_test(cell["source"], label, trusted)
            cell["outputs"] = [self.make_output(output) for output in outputs]
            return
        if not cell["source"].strip():
            return
        self._run_in_kernel(cell)
        if is_given_cell(cell):
            failure = _first_error(cell) or trusted.run_given(cell["source"], label)
            if failure and not self.setup_failure:
                self.setup_failure = f"{label} cell failed: {failure}"

    def _run_in_kernel(self, cell: Any) -> None:
        outputs = CellOutputs(self.options.max_output_chars)
        reply = self.kernel.run(cell["source"], self.options.cell_timeout, outputs.add)
        items = outputs.items
        if reply["timed_out"]:
            items = [output for output in items if output["output_type"] != "error"]
            items.append(error_output("CellTimeoutError", f"the cell ran longer than "
                                      f"{self.options.cell_timeout:g} s and was interrupted"))
        elif reply.get("status") == "error" and not any(
                output["output_type"] == "error" for output in items):
            items.append({"output_type": "error", "ename": reply.get("ename", "Error"),
                          "evalue": reply.get("evalue", ""),
                          "traceback": reply.get("traceback") or [reply.get("ename", "")]})
        cell["outputs"] = [self.make_output(output) for output in items]
        cell["execution_count"] = reply.get("execution_count")

    def _run_test(self, source: str, label: str, trusted: TrustedCells) -> list[dict]:
        """The test cell's outputs, from running it here against the kernel's server."""
        msg_id = self.kernel.client.execute(
            f"__import__({SERVER_MODULE!r}, fromlist=['serve']).serve()", silent=True,
            store_history=False)
        link = trusted.link
        try:
            if link.socket is None:
                link.connect()
            outputs = trusted.run_test(source, label)
            link.end_cell()
        except KernelGone:
            self.kernel.kill()
            raise
        reply = self.kernel.reply(msg_id, self.options.cell_timeout)
        if reply["content"].get("status") != "ok":
            raise KernelGone("the grading channel of the kernel failed")
        return outputs

    def _time_out(self) -> None:
        """The whole notebook ran past its limit: kill the kernel."""
        self.timed_out = True
        self.kernel.kill()

    def _failure(self, error: Exception, index: int, count: int) -> tuple[str, str]:
        where = f"cell {index + 1}" if index < count else "the end"
        if self.timed_out:
            return Status.TIMEOUT, (f"the notebook ran longer than "
                                    f"{self.options.submission_timeout:g} s (stopped in {where})")
        if isinstance(error, KernelGone) and error.timed_out:
            return Status.TIMEOUT, f"{error} (in {where})"
        if isinstance(error, KernelGone):
            return Status.CRASHED, (f"the kernel stopped in {where} (sys.exit or os._exit in a "
                                    "function, a crash, or too much memory)")
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        return Status.CRASHED, f"the kernel failed in {where}: {first_line}"


def _first_error(cell: Any) -> str | None:
    """``"Name: first line"`` of the error a cell raised in the kernel, if any."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            first = (str(output.get("evalue", "")).strip().splitlines() or [""])[0]
            return f"{output.get('ename')}: {first}" if first else str(output.get("ename"))
    return None
