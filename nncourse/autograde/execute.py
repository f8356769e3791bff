"""Execute a submission for nbgrader's autograde: student code in a sandbox, tests outside it.

:class:`SandboxedExecute` replaces nbgrader's ``Execute`` preprocessor in
``nncourse grade``. Compared with it:

- the student's cells run in a kernel inside :mod:`~nncourse.autograde.sandbox` (no course
  files, no reference implementations, no network, own process tree, memory limit, scrubbed
  environment), reached over Unix sockets in its working folder;
- test cells never run in that kernel: :class:`~nncourse.autograde.trusted.TrustedCells`
  runs them in this process, where the student's functions and classes are proxies that
  send and receive plain data only (:mod:`~nncourse.autograde.boundary`); the outputs that
  decide the score are written here;
- the instructor's given cells (setup, helpers) run in both places;
- a whole-submission wall-clock limit kills the kernel however it loops, and each call of
  the student's code has its own deadline;
- when the kernel dies (``os._exit``, a segfault, a time limit), every test cell that did
  not run gets an error, so it scores 0 instead of nbgrader's default of full points for a
  cell without an error output;
- a cell keeps at most :attr:`SandboxedExecute.max_output_chars` characters of output.

:class:`RestoreCellMetadata` puts back the nbgrader metadata of every cell before nbgrader's
own checks, which otherwise stop at a test cell whose flags or grade id a student changed.

What happened is written as JSON to :attr:`SandboxedExecute.report_path`.
"""

from __future__ import annotations

import json
import os
import shutil
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
from traitlets import Bool, Integer, Unicode

from nncourse.autograde import sandbox
from nncourse.autograde.boundary import KernelGone, KernelLink
from nncourse.autograde.course import KERNEL_MEMORY_MB, SUBMISSION_TIMEOUT_S
from nncourse.autograde.kernel import launcher as kernel_launcher
from nncourse.autograde.notebook import grade_id, is_given_cell, is_test_cell
from nncourse.autograde.status import NOT_RUN, Status
from nncourse.autograde.trusted import TrustedCells, error_output

SERVER_MODULE = "nncourse.autograde.kernel.server"


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
        kw["cwd"] = str(self.spec.cwd or self.spec.workdir)
        kw["stdout"] = kw["stderr"] = subprocess.DEVNULL  # what bypasses sys.stdout is lost
        await super()._async_launch_kernel(kernel_cmd, **kw)


class SandboxedExecute(Execute):
    """nbgrader's Execute with the tests outside the kernel, the kernel sandboxed and limited."""

    workdir = Unicode(help="Empty folder the kernel works in (and its sockets live in).",
                      ).tag(config=True)
    report_path = Unicode(help="Where to write the JSON report of the run.").tag(config=True)
    memory_mb = Integer(KERNEL_MEMORY_MB,
                        help="Address-space limit of the kernel, in MiB.").tag(config=True)
    submission_timeout = Integer(
        SUBMISSION_TIMEOUT_S, help="Seconds the whole notebook may run before its kernel is "
                                   "killed.",
    ).tag(config=True)
    data_dir = Unicode(os.environ.get("NNCOURSE_DATA", ""),
                       help="NNCOURSE_DATA for the kernel.").tag(config=True)
    max_output_chars = Integer(
        100_000, help="Characters of output kept per cell; later output is dropped.",
    ).tag(config=True)
    isolated = Bool(
        True, help="Sandbox the kernel with a scrubbed environment (grading). Without, the "
                   "kernel runs as the user, in `cwd`, with the user's environment: the "
                   "students' self-check, on their own machine.").tag(config=True)
    cwd = Unicode(help="Working folder of a kernel that is not isolated.").tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)

    def create_kernel_manager(self) -> AsyncKernelManager:
        workdir = Path(self.workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        shared = (Path(self.data_dir).resolve(),) if self.data_dir else ()
        manager = super().create_kernel_manager()
        if self.isolated:
            manager.spec = sandbox.SandboxSpec(
                workdir, self.memory_mb, shared,
                sandbox.kernel_environment(workdir, str(shared[0]) if shared else None))
        else:
            manager.spec = sandbox.SandboxSpec(
                workdir, self.memory_mb, env={**os.environ, "MPLBACKEND": "Agg",
                                              "NBGRADER_EXECUTION": "validate"},
                isolated=False, cwd=Path(self.cwd) if self.cwd else None)
        manager.transport = "ipc"
        manager.ip = str(workdir / "kernel")
        manager.connection_file = str(workdir / "kernel.json")
        return manager

    def preprocess(self, nb: NotebookNode, resources: Any = None,
                   km: AsyncKernelManager | None = None) -> tuple[NotebookNode, Any]:
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self._timed_out = False
        self._setup_failure = ""
        self._output_chars: dict[int, int] = {}
        status, reason, started = Status.GRADED, "", time.monotonic()
        stopped_at = 0
        trusted = None
        self._copy_assignment_files(resources)
        try:
            with self.setup_kernel():
                watchdog = threading.Timer(self.submission_timeout, self._time_out)
                watchdog.start()
                try:
                    info = self.wait_for_reply(self.kc.kernel_info())
                    self.nb.metadata["language_info"] = info["content"]["language_info"]
                    trusted = self._open_channel()
                    for index, cell in enumerate(self.nb.cells):
                        stopped_at = index
                        self._run_cell(cell, resources, index, trusted)
                    stopped_at = len(nb.cells)
                finally:
                    watchdog.cancel()
                    if trusted is not None:
                        trusted.link.close()
        except (DeadKernelError, KernelGone, RuntimeError, TimeoutError) as error:
            status, reason = self._failure(error, stopped_at)
            for cell in nb.cells[stopped_at:]:
                if is_test_cell(cell):
                    cell.outputs.append(NotebookNode(error_output("NotGraded",
                                                                  f"not run: {reason}")))
        problems = trusted.problems if trusted is not None else []
        self._write_report(status, reason, problems, time.monotonic() - started)
        return self.nb, self.resources

    def _copy_assignment_files(self, resources: Any) -> None:
        """Put the files beside the notebook (data, images) in the kernel's working folder.

        A sandboxed kernel sees nothing of the course, so a notebook that reads
        ``data.csv`` next to itself gets a copy; notebooks are left out.
        """
        folder = (resources or {}).get("metadata", {}).get("path")
        if not self.isolated or not folder or not Path(folder).is_dir():
            return
        Path(self.workdir).mkdir(parents=True, exist_ok=True)
        shutil.copytree(folder, self.workdir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
            "*.ipynb", ".ipynb_checkpoints", "__pycache__"))

    def _open_channel(self) -> TrustedCells:
        """Start the kernel's grading server and the grader's namespace for the tests."""
        path = str(Path(self.workdir) / "grading.sock")
        Path(path).unlink(missing_ok=True)  # left by the kernel of the notebook before
        result = self._evaluate(f"__import__({SERVER_MODULE!r}, fromlist=['listen'])"
                                f".listen({path!r})")
        if result.get("status") != "ok":
            raise RuntimeError(f"the grading channel did not start: {result.get('evalue', '')}")
        link = KernelLink(path, float(self.timeout or 60))
        return TrustedCells(link, self.max_output_chars)

    def _run_cell(self, cell: NotebookNode, resources: Any, index: int,
                  trusted: TrustedCells) -> None:
        label = grade_id(cell) or f"cell {index + 1}"
        if is_test_cell(cell):
            if self._setup_failure:  # its names are missing: a test would fail for no reason
                cell.outputs = [NotebookNode(error_output(
                    NOT_RUN, f"not run because the {self._setup_failure}"))]
                return
            cell.outputs = [NotebookNode(output) for output in self._run_test(cell, label,
                                                                               trusted)]
            return
        self.preprocess_cell(cell, resources, index)
        if is_given_cell(cell):
            failure = _first_error(cell) or trusted.run_given(cell.source, label)
            if failure and not self._setup_failure:
                self._setup_failure = f"{label} cell failed: {failure}"

    def _run_test(self, cell: NotebookNode, label: str, trusted: TrustedCells) -> list[dict]:
        """The test cell's outputs, from running it here against the kernel's server."""
        msg_id = self.kc.execute(f"__import__({SERVER_MODULE!r}, fromlist=['serve']).serve()",
                                 silent=True, store_history=False)
        link = trusted.link
        try:
            if link.socket is None:
                link.connect()
            outputs = trusted.run_test(cell.source, label)
            link.end_cell()
        except KernelGone:
            self._kill_kernel()
            raise
        reply = self.wait_for_reply(msg_id)
        if reply is None or reply["content"].get("status") != "ok":
            raise KernelGone("the grading channel of the kernel failed")
        return outputs

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

    def _evaluate(self, expression: str) -> dict[str, Any]:
        """The kernel's answer for one user expression, evaluated outside of any cell's run."""
        msg_id = self.kc.execute("", silent=True, store_history=False,
                                 user_expressions={"value": expression})
        reply = self.wait_for_reply(msg_id)
        return reply["content"].get("user_expressions", {}).get("value", {})

    def _time_out(self) -> None:
        """The whole notebook ran past its limit: kill the kernel."""
        self._timed_out = True
        self._kill_kernel()

    def _kill_kernel(self) -> None:
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None:
            try:
                os.killpg(os.getpgid(process.pid), signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _failure(self, error: Exception, index: int) -> tuple[str, str]:
        where = f"cell {index + 1}" if index < len(self.nb.cells) else "the end"
        if self._timed_out:
            return Status.TIMEOUT, (f"the notebook ran longer than {self.submission_timeout} s "
                                    f"(stopped in {where})")
        if isinstance(error, KernelGone) and error.timed_out:
            return Status.TIMEOUT, f"{error} (in {where})"
        if isinstance(error, DeadKernelError | KernelGone):
            return Status.CRASHED, (f"the kernel stopped in {where} (sys.exit or os._exit in a "
                                    "function, a crash, or too much memory)")
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        return Status.CRASHED, f"the kernel failed in {where}: {first_line}"

    def _write_report(self, status: str, reason: str, problems: list[str],
                      seconds: float) -> None:
        if not self.report_path:
            return
        report = {"status": status, "reason": reason, "problems": problems,
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


class ReplayOutputs(NbGraderPreprocessor):
    """Give every code cell the outputs it got when a cluster worker executed the notebook.

    With ``nncourse grade --scheduler``, a Dask worker runs the submission (sandbox, tests in
    the worker's grader process) through the same nbgrader steps and sends the executed
    notebooks back; the driver then runs nbgrader's autograde again with this step instead
    of the execution, so that only the driver writes the gradebook, ``autograded/`` and
    ``feedback/``. Both sides sanitize the same submission against the same source, so their
    cells correspond one to one; a notebook whose cells do not is refused.
    """

    folder = Unicode(help="Where the executed notebooks are, as <name>.ipynb.").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: Any) -> tuple[NotebookNode, Any]:
        import nbformat

        name = resources["metadata"]["name"]
        done = nbformat.read(Path(self.folder) / f"{name}.ipynb", as_version=4)
        if [(cell.cell_type, grade_id(cell)) for cell in done.cells] != \
                [(cell.cell_type, grade_id(cell)) for cell in nb.cells]:
            raise ValueError(f"the executed {name}.ipynb does not match the submission's cells")
        for cell, executed in zip(nb.cells, done.cells, strict=True):
            if cell.cell_type == "code":
                cell.outputs = executed.outputs
                cell.execution_count = executed.get("execution_count")
        if "language_info" in done.metadata:
            nb.metadata["language_info"] = done.metadata["language_info"]
        return nb, resources


def _first_error(cell: NotebookNode) -> str | None:
    """``"Name: first line"`` of the error a cell raised in the kernel, if any."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            first = (str(output.get("evalue", "")).strip().splitlines() or [""])[0]
            return f"{output.get('ename')}: {first}" if first else str(output.get("ename"))
    return None

