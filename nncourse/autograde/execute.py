"""Execute a submission for nbgrader's autograde, in a sandboxed kernel that cannot fool it.

:class:`SandboxedExecute` replaces nbgrader's ``Execute`` preprocessor in
``nncourse grade``. Compared with it:

- the kernel runs in :mod:`~nncourse.grading.sandbox` (no course files, no network, own
  process tree, memory limit, scrubbed environment), reached over Unix sockets in its
  working folder;
- :mod:`~nncourse.grading.kernel_guard` restores the grading tools before every test cell
  and fails a test during which the tested code changed them;
- a whole-submission wall-clock limit kills the kernel however it loops;
- when the kernel dies (``os._exit``, a segfault, the time limit), every test cell that did
  not run gets an error, so it scores 0 instead of nbgrader's default of full points for a
  cell without an error output;
- a failed test cell keeps no ``execute_result`` output: nbgrader reads the first one as
  partial credit (full points for anything but a number), and the code under test can
  publish one, e.g. with ``sys.displayhook``, before the test fails;
- a cell keeps at most :attr:`SandboxedExecute.max_output_chars` characters of output, so
  a submission that prints without end cannot fill the grader's memory.

:class:`RestoreCellMetadata` puts back the nbgrader metadata of every cell before nbgrader's
own checks, which otherwise stop at a test cell whose flags or grade id a student changed.

What happened is written as JSON to :attr:`SandboxedExecute.report_path`.
"""

from __future__ import annotations

import ast
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.nbgraderformat import SCHEMA_VERSION
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Integer, Unicode

from nncourse.grading import kernel_launcher, sandbox
from nncourse.grading.notebook import is_test_cell

STATUS_GRADED = "graded"
STATUS_TIMEOUT = "timeout"
STATUS_CRASHED = "crashed"


def error_output(name: str, message: str) -> NotebookNode:
    """An nbformat error output, as a failing cell would have."""
    return NotebookNode(output_type="error", ename=name, evalue=message,
                        traceback=[f"{name}: {message}"])


class SandboxedKernelManager(AsyncKernelManager):
    """Starts the kernel through the limits launcher, inside the sandbox of :attr:`spec`."""

    spec: sandbox.SandboxSpec

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        # By file, not ``-m``: importing the nncourse.grading package costs a second (jsonschema).
        command = [sys.executable, kernel_launcher.__file__,
                   "--memory", str(self.spec.memory_mb),
                   "-f", os.path.realpath(self.connection_file), *(extra_arguments or [])]
        return sandbox.wrap(command, self.spec)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        kw["env"] = dict(self.spec.env)
        kw["cwd"] = str(self.spec.workdir)
        kw["stdout"] = kw["stderr"] = subprocess.DEVNULL  # what bypasses sys.stdout is lost
        await super()._async_launch_kernel(kernel_cmd, **kw)


class SandboxedExecute(Execute):
    """nbgrader's Execute, with the kernel sandboxed, guarded and limited in time."""

    workdir = Unicode(help="Empty folder the kernel works in (and its sockets live in).",
                      ).tag(config=True)
    report_path = Unicode(help="Where to write the JSON report of the run.").tag(config=True)
    memory_mb = Integer(3072, help="Address-space limit of the kernel, in MiB.").tag(config=True)
    submission_timeout = Integer(
        600, help="Seconds the whole notebook may run before its kernel is killed.",
    ).tag(config=True)
    data_dir = Unicode(os.environ.get("NNCOURSE_DATA", ""),
                       help="NNCOURSE_DATA for the kernel.").tag(config=True)
    max_output_chars = Integer(
        100_000, help="Characters of output kept per cell; later output is dropped.",
    ).tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)

    def create_kernel_manager(self) -> AsyncKernelManager:
        workdir = Path(self.workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        shared = (Path(self.data_dir).resolve(),) if self.data_dir else ()
        manager = super().create_kernel_manager()
        manager.spec = sandbox.SandboxSpec(
            workdir, self.memory_mb, shared,
            sandbox.kernel_environment(workdir, str(shared[0]) if shared else None))
        manager.transport = "ipc"
        manager.ip = str(workdir / "kernel")
        manager.connection_file = str(workdir / "kernel.json")
        return manager

    def preprocess(self, nb: NotebookNode, resources: Any = None,
                   km: AsyncKernelManager | None = None) -> tuple[NotebookNode, Any]:
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self._tampering: list[str] = []
        self._timed_out = False
        self._output_chars: dict[int, int] = {}
        status, reason, started = STATUS_GRADED, "", time.monotonic()
        stopped_at = 0
        try:
            with self.setup_kernel():
                watchdog = threading.Timer(self.submission_timeout, self._kill_kernel)
                watchdog.start()
                try:
                    info = self.wait_for_reply(self.kc.kernel_info())
                    self.nb.metadata["language_info"] = info["content"]["language_info"]
                    self._install_guard()
                    for index, cell in enumerate(self.nb.cells):
                        stopped_at = index
                        self._run_cell(cell, resources, index)
                    stopped_at = len(nb.cells)
                finally:
                    watchdog.cancel()
        except (DeadKernelError, RuntimeError, TimeoutError) as error:
            status, reason = self._failure(error, stopped_at)
            for cell in nb.cells[stopped_at:]:
                if is_test_cell(cell):
                    cell.outputs.append(error_output("NotGraded", f"not run: {reason}"))
        self._write_report(status, reason, time.monotonic() - started)
        return self.nb, self.resources

    def _run_cell(self, cell: NotebookNode, resources: Any, index: int) -> None:
        if not is_test_cell(cell):
            self.preprocess_cell(cell, resources, index)
            return
        self._tampering += self._check_guard()
        self.preprocess_cell(cell, resources, index)
        during = self._check_guard()
        if during:
            self._tampering += [f"during {cell.metadata.nbgrader['grade_id']}: {change}"
                                for change in during]
            cell.outputs.append(error_output(
                "GradingToolsChanged",
                "the code under test changed the grading tools while the test ran ("
                + "; ".join(during[:3]) + "), so this test cannot pass"))
        kinds = {output.output_type for output in cell.outputs}
        if {"error", "execute_result"} <= kinds:  # a failed cell shows no value of its own
            cell.outputs = [output for output in cell.outputs
                            if output.output_type != "execute_result"]
            self._tampering.append(f"during {cell.metadata.nbgrader['grade_id']}: a value was "
                                   "displayed as the test's result, although the test failed")

    def output(self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None,
               cell_index: int) -> NotebookNode | None:
        """nbclient's output handling, within :attr:`max_output_chars` per cell.

        Text past the limit is cut off with a note, a larger rich output is dropped, and an
        error is always kept (it decides the score).
        """
        kind, content = msg["msg_type"], msg["content"]
        if kind != "error":
            used = self._output_chars.get(cell_index, 0)
            size = len(content["text"]) if kind == "stream" else len(json.dumps(content))
            if used + size > self.max_output_chars:
                if kind != "stream" or used >= self.max_output_chars:
                    return None
                content["text"] = (content["text"][: self.max_output_chars - used]
                                   + "\n... output truncated: the grader keeps "
                                   f"{self.max_output_chars} characters per cell ...\n")
                size = self.max_output_chars - used
            self._output_chars[cell_index] = used + size
        return super().output(outs, msg, display_id, cell_index)

    def _install_guard(self) -> None:
        self._guard_name = f"_nncourse_guard_{secrets.token_hex(8)}"
        source = "\n".join(cell.source for cell in self.nb.cells if cell.cell_type == "code")
        extra = tuple(sorted(set(re.findall(r"\bnncourse(?:\.[A-Za-z_]\w*)+", source))))
        if "torch" in source:
            extra += ("torch", "torch.nn", "torch.nn.functional", "torch.testing", "torch.optim")
        # Installed and checked outside of any cell's run (as user expressions), so that the
        # hooks IPython swaps in while a cell runs are compared in the same state.
        expression = (f"__import__('nncourse.grading.kernel_guard', fromlist=['install'])"
                      f".install({self._guard_name!r}, {extra!r})")
        result = self._evaluate(expression)
        if result.get("status") != "ok":
            raise RuntimeError(f"the grading guard did not start: {result}")

    def _check_guard(self) -> list[str]:
        expression = f"__import__('sys').modules[{self._guard_name!r}].check()"
        result = self._evaluate(expression)
        try:
            return list(json.loads(ast.literal_eval(result["data"]["text/plain"])))
        except (KeyError, TypeError, ValueError, SyntaxError):
            return ["the grading guard was disabled"]

    def _evaluate(self, expression: str) -> dict[str, Any]:
        """The kernel's answer for one user expression, evaluated outside of any cell's run."""
        msg_id = self.kc.execute("", silent=True, store_history=False,
                                 user_expressions={"value": expression})
        reply = self.wait_for_reply(msg_id)
        return reply["content"].get("user_expressions", {}).get("value", {})

    def _kill_kernel(self) -> None:
        self._timed_out = True
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None:
            try:
                os.killpg(os.getpgid(process.pid), signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _failure(self, error: Exception, index: int) -> tuple[str, str]:
        where = f"cell {index + 1}" if index < len(self.nb.cells) else "the end"
        if self._timed_out:
            return STATUS_TIMEOUT, (f"the notebook ran longer than {self.submission_timeout} s "
                                    f"(stopped in {where})")
        if isinstance(error, DeadKernelError):
            return STATUS_CRASHED, (f"the kernel stopped in {where} (sys.exit or os._exit in a "
                                    "function, a crash, or too much memory)")
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        return STATUS_CRASHED, f"the kernel failed in {where}: {first_line}"

    def _write_report(self, status: str, reason: str, seconds: float) -> None:
        if not self.report_path:
            return
        report = {"status": status, "reason": reason, "tampering": self._tampering,
                  "seconds": round(seconds, 3)}
        Path(self.report_path).write_text(json.dumps(report, indent=1), encoding="utf-8")


class RestoreCellMetadata(NbGraderPreprocessor):
    """Give every cell back the nbgrader metadata of the assignment's source.

    nbgrader's ``OverwriteCells`` restores a cell's source, points and lock, but not whether
    it is a test, an answer or a task; a student who flips one of those flags, or renames a
    test cell's grade id, makes nbgrader stop with an error, and the whole submission goes
    ungraded. Run first among the sanitizing preprocessors, this one sets the flags, points
    and schema version of each known cell from the gradebook and strips nbgrader metadata
    that is malformed or has an unknown grade id (a test cell renamed that way counts as
    deleted, and nbgrader puts it back).
    """

    def preprocess(self, nb: NotebookNode, resources: Any) -> tuple[NotebookNode, Any]:
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            source = gradebook.find_notebook(info["notebook"], info["assignment"])
            locked = {cell.name: cell.locked for cell in source.source_cells}
            points = {cell.name: cell.max_score for cell in source.grade_cells}
            points |= {cell.name: cell.max_score for cell in source.task_cells}
            tasks = {cell.name for cell in source.task_cells}
            solutions = {cell.name for cell in source.solution_cells}
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if meta is None:
                continue
            name = meta.get("grade_id") if isinstance(meta, dict) else None
            if not isinstance(name, str) or name not in locked:
                del cell.metadata["nbgrader"]
                continue
            meta.update(grade=name in points and name not in tasks, solution=name in solutions,
                        task=name in tasks, locked=locked[name], schema_version=SCHEMA_VERSION)
            if name in points:
                meta["points"] = points[name]
            else:
                meta.pop("points", None)
        return nb, resources
