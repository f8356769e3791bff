"""nbgrader's autograde with student code in a sandbox and the tests outside it.

:class:`SandboxedExecute` replaces nbgrader's ``Execute`` preprocessor in ``nncourse grade``:
it runs the submission through :func:`~nncourse.autograde.runner.run_notebook` (the student's
cells in a kernel inside :mod:`~nncourse.autograde.sandbox`: no course files, no reference
implementations, no network, own process tree, memory limit, scrubbed environment; the test
cells in this process, against proxies that pass plain data only) and writes what happened
as JSON to :attr:`SandboxedExecute.report_path`.

:class:`RestoreCellMetadata` puts back the nbgrader metadata of every cell before nbgrader's
own checks, which otherwise stop at a test cell whose flags or grade id a student changed.
:class:`ReplayOutputs` stands in for the execution on the machine that books a cluster
worker's results.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbformat import NotebookNode
from nbgrader.api import Gradebook
from nbgrader.nbgraderformat import SCHEMA_VERSION
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Integer, List, Unicode

from nncourse.autograde import sandbox
from nncourse.autograde.course import (
    KERNEL_MEMORY_MB,
    SUBMISSION_TIMEOUT_S,
    default_data_dir,
)
from nncourse.autograde.kernels import (
    Kernel,
    KernelTemplate,
    TemplateClient,
    TemplateUnavailable,
)
from nncourse.autograde.notebook import grade_id
from nncourse.autograde.runner import RunOptions, RunReport, run_notebook

NBGRADER_CELL_TIMEOUT_S = 30
"""nbgrader's default time limit of a cell when grading, in seconds."""


class SandboxedExecute(NbGraderPreprocessor):
    """nbgrader's Execute step, with the kernel sandboxed and limited, the tests outside it."""

    report_path = Unicode(help="Where to write the JSON report of the run.").tag(config=True)
    timeout = Integer(NBGRADER_CELL_TIMEOUT_S, help="Seconds a cell, or one call of the "
                      "student's code from a test, may run (nbgrader's Execute.timeout if that "
                      "is set, as for nbgrader's own step)").tag(config=True)
    memory_mb = Integer(KERNEL_MEMORY_MB,
                        help="Address-space limit of the kernel, in MiB.").tag(config=True)
    submission_timeout = Integer(
        SUBMISSION_TIMEOUT_S, help="Seconds the whole notebook may run before its kernel is "
                                   "killed.",
    ).tag(config=True)
    data_dir = Unicode(default_data_dir() or "",
                       help="NNCOURSE_DATA for the kernel.").tag(config=True)
    max_output_chars = Integer(
        100_000, help="Characters of output kept per cell; later output is dropped.",
    ).tag(config=True)
    start_ahead = Bool(True, help="Start the next notebook's kernel (in a sandbox of its own) "
                                  "while this one runs.").tag(config=True)
    kernel_template = Bool(True, help="Fork kernels from a template that has loaded the "
                                      "common modules, each into namespaces of its own, where "
                                      "bubblewrap and the system allow it.").tag(config=True)
    preload = List(Unicode(), help="Modules the kernel template imports before forking, "
                                   "beyond what every kernel loads (e.g. torch).",
                   ).tag(config=True)

    def kernel_kind(self) -> KernelKind:
        """What this step's kernels need (the grading workers start one ahead with it)."""
        return KernelKind(self.memory_mb, self.data_dir or None, tuple(self.preload),
                          self.kernel_template)

    def preprocess(self, nb: NotebookNode, resources: Any) -> tuple[NotebookNode, Any]:
        import nbformat

        kind = self.kernel_kind()
        kernel = KERNELS.take(kind)
        if self.start_ahead:
            KERNELS.start(kind)
        workdir = kernel.spec.workdir
        try:
            self._copy_assignment_files(resources, workdir)
            options = RunOptions(self._cell_timeout(), self.submission_timeout,
                                 self.max_output_chars)
            report = run_notebook(nb.cells, kernel, workdir, options, nbformat.from_dict)
        finally:
            KERNELS.retire(kernel)
        if report.language_info:
            nb.metadata["language_info"] = nbformat.from_dict(report.language_info)
        self._write_report(report)
        return nb, resources

    def _cell_timeout(self) -> int:
        """This step's ``timeout``, else nbgrader's ``Execute.timeout`` from the course config."""
        if "timeout" in self.config.get("SandboxedExecute", {}):
            return self.timeout
        return int(self.config.get("Execute", {}).get("timeout", self.timeout))

    @staticmethod
    def _copy_assignment_files(resources: Any, workdir: Path) -> None:
        """Put the files beside the notebook (data, images) in the kernel's working folder.

        A sandboxed kernel sees nothing of the course, so a notebook that reads
        ``data.csv`` next to itself gets a copy; notebooks are left out.
        """
        folder = (resources or {}).get("metadata", {}).get("path")
        if not folder or not Path(folder).is_dir():
            return
        shutil.copytree(folder, workdir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
            "*.ipynb", ".ipynb_checkpoints", "__pycache__"))

    def _write_report(self, report: RunReport) -> None:
        if not self.report_path:
            return
        summary = {"status": report.status, "reason": report.reason,
                   "problems": report.problems, "seconds": report.seconds}
        Path(self.report_path).write_text(json.dumps(summary, indent=1), encoding="utf-8")


@dataclass(frozen=True)
class KernelKind:
    """What a grading kernel needs: its memory limit, the data sets, the modules to preload.

    Attributes
    ----------
    memory_mb : int
        Address-space limit, in MiB.
    data_dir : str or None
        The data sets' folder.
    preload : tuple of str
        Modules a kernel template imports before forking (beyond what every kernel loads).
    template : bool
        Fork kernels from a template when the machine allows it.
    """

    memory_mb: int
    data_dir: str | None
    preload: tuple[str, ...] = ()
    template: bool = True

    @property
    def template_key(self) -> tuple[str | None, tuple[str, ...]]:
        """What a kernel template of this kind is made of: kinds that share it share this."""
        return self.data_dir, self.preload


class KernelSupply:
    """Where a grading worker's kernels come from: a template, and one started ahead.

    A kernel is forked from a :class:`~nncourse.autograde.kernels.KernelTemplate` (a few
    milliseconds instead of a third of a second of CPU) where bubblewrap and nested
    namespaces allow, else started as a sandboxed process of its own. The template is this
    process's own, or one it shares with the other workers of its machine (:meth:`share`).
    Either way the next submission's kernel is started while the current one runs. Each
    kernel has its own sandbox and its own new working folder: it has run nothing when it is
    taken, and nothing of one submission reaches the kernel of another. What is left (the
    spare kernel of the last submission, the templates) is stopped when the process ends.
    """

    def __init__(self) -> None:
        self.ready: dict[KernelKind, Kernel] = {}
        self.retired: list[Kernel] = []
        self.templates: dict[tuple[str | None, tuple[str, ...]], TemplateClient | None] = {}
        self.lock = threading.Lock()  # a cluster worker may grade in several threads
        atexit.register(self.close)

    def take(self, kind: KernelKind) -> Kernel:
        """A kernel of this kind: the one started ahead, or a new one."""
        self._bury()
        with self.lock:
            kernel = self.ready.pop(kind, None)
        if kernel is not None and kernel.alive():
            return kernel
        if kernel is not None:
            _discard(kernel)
        return self._new(kind)

    def share(self, kind: KernelKind, jobs: Path) -> None:
        """Fork this kind's kernels from the template another process started in ``jobs``
        (``nncourse grade`` starts one per machine for its workers); without it, or when
        it cannot fork, this process starts its own as before."""
        try:
            client = TemplateClient(jobs)
        except TemplateUnavailable:
            return
        with self.lock:
            self.templates[kind.template_key] = client

    def retire(self, kernel: Kernel) -> None:
        """Kill a used kernel now; await its end and remove its folder at the next
        :meth:`take` or :meth:`close`, rather than while the grader waits for it."""
        kernel.close(wait=False)
        with self.lock:
            self.retired.append(kernel)

    def _bury(self) -> None:
        with self.lock:
            retired, self.retired = self.retired, []
        for kernel in retired:
            _discard(kernel)

    def start(self, kind: KernelKind) -> None:
        """Start a kernel of this kind ahead, unless one is ready."""
        with self.lock:
            if kind not in self.ready:
                self.ready[kind] = self._new(kind)

    def _new(self, kind: KernelKind) -> Kernel:
        template = self._template(kind) if kind.template else None
        if template is not None:
            try:
                spec = sandbox.grading_spec(template.new_workdir(), kind.memory_mb,
                                            kind.data_dir)
                return Kernel(spec, template=template)
            except TemplateUnavailable:
                self._drop_template(kind)
        workdir = Path(tempfile.mkdtemp(prefix="nncourse-kernel-"))
        return Kernel(sandbox.grading_spec(workdir, kind.memory_mb, kind.data_dir))

    def _template(self, kind: KernelKind) -> TemplateClient | None:
        key = kind.template_key
        if key not in self.templates:
            try:
                self.templates[key] = KernelTemplate(kind.data_dir, kind.preload)
            except TemplateUnavailable:
                self.templates[key] = None  # kernels of their own, as without a template
        return self.templates[key]

    def _drop_template(self, kind: KernelKind) -> None:
        template = self.templates.get(kind.template_key)
        self.templates[kind.template_key] = None
        if template is not None:
            template.close()

    def close(self) -> None:
        """Stop every kernel started ahead and every template; remove their folders."""
        self._bury()
        with self.lock:
            spares, self.ready = list(self.ready.values()), {}
            templates, self.templates = list(self.templates.values()), {}
        for kernel in spares:
            _discard(kernel)
        for template in templates:
            if template is not None:
                template.close()


def _discard(kernel: Kernel) -> None:
    kernel.close()
    shutil.rmtree(kernel.spec.workdir, ignore_errors=True)


KERNELS = KernelSupply()
"""This process's supply of grading kernels."""


class RestoreCellMetadata(NbGraderPreprocessor):
    """Give every cell back the nbgrader metadata of the assignment's source, and the
    instructor's given cells back to the notebook.

    nbgrader's ``OverwriteCells`` restores a cell's source, points and lock, but not whether
    it is a test, an answer or a task; a student who flips one of those flags, or renames a
    test cell's grade id, makes nbgrader stop with an error, and the whole submission goes
    ungraded. Run first among the sanitizing preprocessors, this one sets the flags, points
    and schema version of each known cell from the gradebook and strips nbgrader metadata
    that is malformed or has an unknown grade id (a test cell renamed that way counts as
    deleted, and nbgrader puts it back).

    A given cell (the setup cell, a helper: locked, neither test nor answer) that is missing,
    deleted or made unrecognisable, is put back from the gradebook after the cell that comes
    before it in the source. nbgrader only puts back tests; without its given cells the
    grader's namespace would lack the setup's names (``assert_close``, ``Checks``), and the
    tests would borrow the student's versions of them from the kernel.
    """

    def preprocess(self, nb: NotebookNode, resources: Any) -> tuple[NotebookNode, Any]:
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            source = gradebook.find_notebook(info["notebook"], info["assignment"])
            order = [cell.name for cell in source.source_cells]
            locked = {cell.name: cell.locked for cell in source.source_cells}
            points = {cell.name: cell.max_score for cell in source.grade_cells}
            points |= {cell.name: cell.max_score for cell in source.task_cells}
            tasks = {cell.name for cell in source.task_cells}
            solutions = {cell.name for cell in source.solution_cells}
            given = {cell.name: _given_cell(cell) for cell in source.source_cells
                     if cell.locked and cell.name not in points and cell.name not in solutions}
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
        _put_back(nb, order, given)
        return nb, resources


def _given_cell(cell: Any) -> NotebookNode:
    """A notebook cell made from the gradebook's record of a given (locked) source cell."""
    from nbformat.v4 import new_code_cell, new_markdown_cell

    meta = {"nbgrader": {"grade": False, "solution": False, "task": False, "locked": True,
                         "grade_id": cell.name, "checksum": cell.checksum,
                         "schema_version": SCHEMA_VERSION}}
    make = new_code_cell if cell.cell_type == "code" else new_markdown_cell
    return make(cell.source, metadata=meta)


def _put_back(nb: NotebookNode, order: list[str], given: dict[str, NotebookNode]) -> None:
    """Insert each given cell the notebook lacks after the source cell that precedes it."""
    for name, cell in given.items():
        present = [grade_id(other) for other in nb.cells]
        if name in present:
            continue
        before = [other for other in order[: order.index(name)] if other in present]
        nb.cells.insert(present.index(before[-1]) + 1 if before else 0, cell)


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

