"""``nncourse grade``: autograde a whole class with nbgrader, in parallel, safely, resumably.

For each submission a worker process runs nbgrader's own ``autograde`` and
``generate_feedback`` for that one student, with nbgrader's ``Execute`` replaced by
:class:`~nncourse.autograde.execute.SandboxedExecute`; nbgrader keeps doing its bookkeeping
(restoring edited or deleted test cells from the gradebook, scores, late penalties,
feedback). Workers run side by side (``--jobs``); the gradebook serialises their writes.

Every finished submission leaves a record, ``grades/<assignment>/records/<student>.json``,
with a key made of the submission's bytes, the assignment's source and the limits: a rerun
(after a crash or a kill) grades only submissions without a record of the same key.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import multiprocessing
import multiprocessing.util
import os
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nncourse.autograde import skip_slow_optional_imports
from nncourse.autograde.course import (
    GRADES_DIR,
    KERNEL_MEMORY_MB,
    SUBMISSION_TIMEOUT_S,
    Layout,
    course_config,
    course_layout,
    default_data_dir,
)
from nncourse.autograde.gradebook import course_id, ensure_in_gradebook, share_engines
from nncourse.autograde.journal import write_ahead_log
from nncourse.autograde.notebook import (
    NotebookError,
    code_imports,
    given_imports,
    is_test_cell,
    read_notebook,
    read_notebook_json,
)
from nncourse.autograde.release import venv_tools_on_path
from nncourse.autograde.status import Outcome, Status, test_cell_outcome
from nncourse.autograde.submissions import expected_notebooks, import_submissions

if TYPE_CHECKING:
    from nncourse.autograde.execute import KernelKind
    from nncourse.autograde.kernels import KernelTemplate


@dataclass(frozen=True)
class GradeOptions:
    """How ``nncourse grade`` runs.

    Attributes
    ----------
    jobs : int
        Submissions graded at the same time.
    timeout : int
        Seconds one notebook may run in all before its kernel is killed.
    memory_mb : int
        Address-space limit of each kernel, in MiB.
    db_url : str or None
        SQLAlchemy URL of the gradebook; the course config's by default.
    force : bool
        Regrade submissions that already have a record.
    scheduler : str or None
        Address of a Dask scheduler (``tcp://host:8786``): grade on its workers instead of
        ``jobs`` local processes (see :mod:`~nncourse.autograde.cluster`).
    preload : tuple of str
        Modules the kernel template imports before forking (see :func:`preload_modules`;
        :func:`grade` sets them).
    """

    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    timeout: int = SUBMISSION_TIMEOUT_S
    memory_mb: int = KERNEL_MEMORY_MB
    db_url: str | None = None
    force: bool = False
    scheduler: str | None = None
    preload: tuple[str, ...] = ()


@dataclass(frozen=True)
class Record:
    """How one submission was graded (its scores are in the gradebook).

    Attributes
    ----------
    student : str
    key : str
        Hash of the submission, the assignment's source and the limits it was graded with.
    status : str
        ``graded``, ``timeout``, ``crashed`` (the kernel died), ``invalid`` (not a readable
        notebook) or ``error`` (nbgrader failed on it).
    reason : str
        Why, for anything but ``graded``; what the import changed; empty otherwise.
    failed_tasks : list of str
        Test cells that scored 0, each with the first line of its error.
    seconds : float
        Wall-clock time of the whole grading of this submission.
    kernel_seconds : float
        Of which running the notebook in its kernel.
    """

    student: str
    key: str
    status: str
    reason: str = ""
    failed_tasks: list[str] = field(default_factory=list)
    seconds: float = 0.0
    kernel_seconds: float = 0.0


MAX_REASON_CHARS = 400
"""Characters of one failed task's reason kept in its record (and ``grades.csv``)."""


def records_dir(root: Path, assignment: str) -> Path:
    """Where the records of ``assignment`` are kept."""
    return root / GRADES_DIR / assignment / "records"


def read_records(root: Path, assignment: str) -> dict[str, Record]:
    """The records of ``assignment``, by student (unreadable records are skipped)."""
    records = {}
    for path in sorted(records_dir(root, assignment).glob("*.json")):
        try:
            record = Record(**json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            continue
        records[record.student] = record
    return records


def _write_record(root: Path, assignment: str, record: Record) -> None:
    folder = records_dir(root, assignment)
    folder.mkdir(parents=True, exist_ok=True)
    scratch = folder / f".{record.student}.json.part"
    scratch.write_text(json.dumps(asdict(record), indent=1), encoding="utf-8")
    scratch.replace(folder / f"{record.student}.json")  # atomic: a record is whole or absent


def submission_key(layout: Layout, assignment: str, student: str, options: GradeOptions) -> str:
    """What a record must match to be reused: submission, sources, limits and gradebook."""
    digest = hashlib.sha256()
    submitted = layout.student_dir("submitted", student, assignment)
    for path in (*expected_notebooks(layout, student, assignment),
                 *sorted(path for path in submitted.rglob("*") if path.is_file()),
                 *sorted(layout.source_dir(assignment).glob("*.ipynb"))):
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    digest.update(f"{options.timeout}/{options.memory_mb}/{options.db_url or ''}".encode())
    return digest.hexdigest()


def failed_tasks(notebook: Any) -> list[str]:
    """Test cells of a graded notebook that did not earn full points, ``"grade_id: why"``.

    Decided by :func:`~nncourse.autograde.status.test_cell_outcome`, the rule of
    ``nncourse check`` too. Of each reason, the first line is kept, and for a partial score
    the checks that failed (``passed 3 of 5 checks: FAIL ...; FAIL ...``).
    """
    failures = []
    for cell in notebook.cells:
        if not is_test_cell(cell):
            continue
        outcome, reason = test_cell_outcome(cell)
        if outcome is not Outcome.PASSED:
            first, *rest = [" ".join(line.split()) for line in reason.strip().splitlines()
                            ] or [str(outcome)]
            failed = [line for line in rest if line.startswith("FAIL")]
            why = f"{first} {'; '.join(failed)}" if outcome is Outcome.PARTIAL and failed \
                else first
            failures.append(f"{cell.metadata.nbgrader['grade_id']}: {why[:MAX_REASON_CHARS]}")
    return failures


def grade_submission(root: str, assignment: str, student: str, key: str, note: str,
                     options: GradeOptions, *, executed: str | None = None,
                     feedback: bool = True) -> Record:
    """Autograde one student's submission and write their feedback (runs in a worker).

    Parameters
    ----------
    root : str
        The course folder.
    assignment : str
        The assignment's name.
    student : str
        The student's id.
    key : str
        The submission's key (see :func:`submission_key`).
    note : str
        What the import changed, prefixed to the reason.
    options : GradeOptions
        Limits and gradebook.
    executed : str, optional
        A folder with the notebooks as a cluster worker executed them and its
        ``report.json`` (see :mod:`~nncourse.autograde.cluster`): their outputs are replayed
        instead of running a kernel here.
    feedback : bool, default True
        Also write the feedback pages.

    Returns
    -------
    Record
    """
    skip_slow_optional_imports()  # a grading worker: before nbformat is first imported
    import nbformat
    from nbgrader.converters import Autograde, GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.preprocessors import CheckCellMetadata, Execute
    from nbgrader.utils import capture_log

    from nncourse.autograde.execute import ReplayOutputs, RestoreCellMetadata, SandboxedExecute
    from nncourse.autograde.metadata import CheckCellMetadataOnce

    warnings.filterwarnings("ignore", module="nbgrader")  # its SQLAlchemy session chatter
    share_engines()
    started = time.monotonic()
    course = Path(root)
    base = Record(student, key, Status.GRADED, note)
    config = course_config(course, options.db_url)
    layout = course_layout(course, config)
    notebooks = expected_notebooks(layout, student, assignment)
    present = [path for path in notebooks if path.exists()]
    missing = [path.name for path in notebooks if not path.exists()]
    try:
        for path in present or notebooks[:1]:  # none at all: say which file was expected
            read_notebook(path)
    except (FileNotFoundError, NotebookError) as error:
        reason = str(error).replace(f"{course}{os.sep}", "")  # the same in every course copy
        return replace(base, status=Status.INVALID, reason=_join(note, reason))
    if missing:
        note = _join(note, f"missing {', '.join(missing)} (its tasks score 0)")
        base = replace(base, reason=note)
    with tempfile.TemporaryDirectory(prefix="nncourse-grade-") as scratch:
        report_path = Path(executed or scratch) / "report.json"
        ours = {Execute: ReplayOutputs if executed else SandboxedExecute,
                CheckCellMetadata: CheckCellMetadataOnce}
        steps = Autograde.class_traits()
        config.Autograde.autograde_preprocessors = [
            ours.get(step, step) for step in steps["autograde_preprocessors"].default()]
        config.ReplayOutputs.folder = executed or ""
        config.Autograde.sanitize_preprocessors = [
            RestoreCellMetadata,
            *(ours.get(step, step) for step in steps["sanitize_preprocessors"].default())]
        config.SandboxedExecute.report_path = str(report_path)
        _set_executor_limits(config, options)
        config.HTMLExporter.template_name = "feedback"
        config.GenerateFeedback.setdefault(  # pages with MathJax inline, see feedback_page
            "exporter_class", "nncourse.autograde.feedback_page.FeedbackPage")
        coursedir = CourseDirectory(config=config, assignment_id=assignment, student_id=student)
        with venv_tools_on_path():
            autograde = Autograde(coursedir=coursedir, config=config)
            autograde.force, autograde.create_student = True, True
            result = capture_log(autograde)
            if result["success"] and feedback:
                pages = GenerateFeedback(coursedir=coursedir, config=config)
                pages.force = True
                result = capture_log(pages)
        report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    if not result["success"]:
        return replace(base, status=Status.ERROR, seconds=time.monotonic() - started,
                       reason=_join(note, "nbgrader failed: " + _last_error(result)))
    graded = layout.student_dir("autograded", student, assignment)
    names = layout.notebooks(assignment)
    failures = [f"{name}/{task}" if len(names) > 1 else task for name in names
                if (graded / f"{name}.ipynb").is_file()
                for task in failed_tasks(nbformat.read(graded / f"{name}.ipynb", as_version=4))]
    return replace(
        base, status=report.get("status", Status.GRADED),
        reason=_join(note, report.get("reason", ""), *report.get("problems", [])),
        failed_tasks=failures,
        seconds=round(time.monotonic() - started, 3),
        kernel_seconds=report.get("seconds", 0.0))


def _set_executor_limits(config: Any, options: GradeOptions) -> None:
    """Give the course's ``SandboxedExecute`` the limits and preloaded modules of ``options``."""
    config.SandboxedExecute.preload = list(options.preload)
    config.SandboxedExecute.memory_mb = options.memory_mb
    config.SandboxedExecute.submission_timeout = options.timeout


def _join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


def _last_error(result: dict[str, Any]) -> str:
    """The most telling line of a failed nbgrader run: its last own error message."""
    log = (result.get("log") or "").splitlines()
    errors = [line.removeprefix("[ERROR] ") for line in log if line.startswith("[ERROR]")
              and "see the above traceback" not in line]
    text = (result.get("error") or "unknown error").strip().splitlines()
    return (errors[-1] if errors else text[-1])[:300]


def _exit_with_parent(parent: int) -> None:
    """End this worker once the grading command is gone (e.g. killed).

    Otherwise a worker outlives a killed ``nncourse grade`` for good, waiting for work.
    """
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="nncourse-exit-with-parent", daemon=True).start()


def preload_modules(layout: Layout, assignment: str, students: Iterable[str] = ()
                    ) -> tuple[str, ...]:
    """Slow-to-import modules for the kernel template: what the assignment's given cells
    import, and what at least two of ``students``' submissions import.

    Only :data:`~nncourse.autograde.kernels.PRELOADABLE` modules: ones that start no thread
    and keep no per-user state (caches, configuration folders) when imported. A module in
    the template costs its import once per machine instead of once per submission that
    imports it (PyTorch: a second).
    """
    from nncourse.autograde.kernels import PRELOADABLE

    wanted = set()
    for name in layout.notebooks(assignment):
        wanted |= given_imports(read_notebook_json(layout.source_dir(assignment)
                                                   / f"{name}.ipynb"))
    counts: dict[str, int] = {}
    for student in students:
        imported = set()
        for path in expected_notebooks(layout, student, assignment):
            with contextlib.suppress(OSError, NotebookError):
                imported |= code_imports(read_notebook_json(path))
        for module in imported & PRELOADABLE:
            counts[module] = counts.get(module, 0) + 1
    wanted |= {module for module, count in counts.items() if count >= 2}
    return tuple(sorted(wanted & PRELOADABLE))


def _start_worker(parent: int, kind: KernelKind, shared: str | None) -> None:
    """Worker initializer: exit with the parent; fork kernels from the ``shared`` template
    (its folder of jobs) when there is one, else start the first submission's kernel.

    With a shared template the worker does not wait for it here: it boots while the worker
    does the first submission's steps before the execution. The worker's kernels are stopped
    when it ends (see :class:`~nncourse.autograde.execute.KernelSupply`).
    """
    from nncourse.autograde.execute import KERNELS

    _exit_with_parent(parent)
    multiprocessing.util.Finalize(None, KERNELS.close, exitpriority=10)
    if shared:
        KERNELS.share(kind, Path(shared))
    else:
        KERNELS.start(kind)


def _start_template_early() -> KernelTemplate | None:
    """A kernel template for this machine's workers, started before anything else.

    Reading a course's config imports nbgrader and nbconvert: most of a second in which the
    template imports IPython and numpy beside it. It gets the data sets of this process's
    environment and only what every kernel loads; :func:`_shared_template` keeps it when
    the course's kernels are of that kind, and has it import what they preload.
    """
    from nncourse.autograde.kernels import KernelTemplate, TemplateUnavailable

    try:
        return KernelTemplate(default_data_dir(), wait=False)
    except (TemplateUnavailable, OSError):
        return None


def _shared_template(kind: KernelKind, early: KernelTemplate | None) -> KernelTemplate | None:
    """The machine's kernel template for the workers: ``early`` if it fits ``kind``, else
    one started now (neither waited for); None where kernels are not forked from one.

    One template per machine rather than per worker: its imports (PyTorch: a second of CPU
    and hundreds of MB) are paid once, while the workers start.
    """
    from nncourse.autograde.kernels import KernelTemplate, TemplateUnavailable

    if not kind.template:
        return None
    if early is not None and early.data_dir == kind.data_dir and not early.preload:
        early.preload_more(kind.preload)
        return early
    try:
        return KernelTemplate(kind.data_dir, kind.preload, wait=False)
    except (TemplateUnavailable, OSError):
        return None


def _worker_context() -> multiprocessing.context.BaseContext:
    """How grading workers start: forked on Linux, with the grading modules loaded first.

    A worker that imports nbgrader, nbconvert and SQLAlchemy itself spends about two seconds
    on it; forked from a process that has them, none. Elsewhere (macOS) forking a process
    with these libraries is unsafe, and workers are spawned.
    """
    if sys.platform != "linux":
        return multiprocessing.get_context("spawn")
    import nbgrader.converters  # noqa: F401 (loaded once, here, for every worker)

    import nncourse.autograde.execute
    import nncourse.autograde.feedback_page
    import nncourse.autograde.metadata  # noqa: F401
    return multiprocessing.get_context("fork")


def grade(root: str | Path, assignment: str, source: str | Path | None = None,
          options: GradeOptions | None = None,
          progress: Callable[[Iterator[Record], int], Iterable[Record]] | None = None,
          started: Callable[[], None] | None = None) -> dict[str, Record]:
    """Grade every submission of ``assignment`` that has no up-to-date record.

    Parameters
    ----------
    root : str or Path
        The course folder.
    assignment : str
        The assignment's name (a folder under the course's source folder).
    source : str or Path, optional
        Submissions to import first (see
        :func:`~nncourse.autograde.submissions.import_submissions`).
    options : GradeOptions, optional
        Jobs or scheduler, limits and gradebook; the defaults otherwise.
    progress : callable, optional
        Wraps the iterator of finished records (and their count), e.g. with a progress bar.
    started : callable, optional
        Called once the submissions are being graded (the local workers forked: this process
        may start threads from then on).

    Returns
    -------
    dict of str to Record
        The records of every student of the assignment, old and new.

    Raises
    ------
    ValueError
        For an unknown assignment or unusable submissions.
    """
    options = options or GradeOptions()
    template = None if options.scheduler else _start_template_early()
    try:
        return _grade(Path(root).resolve(), assignment, source, options, progress, started,
                      template)
    finally:
        if template is not None:
            template.close()


def _grade(root: Path, assignment: str, source: str | Path | None, options: GradeOptions,
           progress: Callable[[Iterator[Record], int], Iterable[Record]] | None,
           started: Callable[[], None] | None, template: KernelTemplate | None,
           ) -> dict[str, Record]:
    """:func:`grade`, with the kernel template it started early (or None)."""
    config = course_config(root, options.db_url)
    layout = course_layout(root, config)
    if not layout.notebooks(assignment):
        raise ValueError(f"no assignment {assignment!r}: no notebook in "
                         f"{layout.source_dir(assignment)} (the config's source folder is "
                         f"{layout.source!r})")
    ensure_in_gradebook(root, assignment, config.CourseDirectory.db_url, course_id(config))
    imported = import_submissions(layout, assignment, source)
    records = read_records(root, assignment)
    todo = {}
    for student in imported.students:
        key = submission_key(layout, assignment, student, options)
        if options.force or student not in records or records[student].key != key:
            todo[student] = key
    options = replace(options, preload=preload_modules(layout, assignment, todo))
    if options.scheduler:
        from nncourse.autograde.cluster import grade_on_cluster

        finished = grade_on_cluster(layout, assignment, todo, imported.notes, options)
        if started is not None:
            started()
    else:
        finished = _grade_locally(root, assignment, todo, imported.notes, options, config,
                                  started, template)
    for record in progress(finished, len(todo)) if progress else finished:
        _write_record(root, assignment, record)
        records[record.student] = record
    return {student: records[student] for student in imported.students}


def _grade_locally(root: Path, assignment: str, todo: dict[str, str], notes: dict[str, str],
                   options: GradeOptions, config: Any,
                   started: Callable[[], None] | None = None,
                   early: KernelTemplate | None = None) -> Iterator[Record]:
    """Grade the ``todo`` students (student -> key) in ``options.jobs`` local processes.

    ``config`` is the course's: each worker starts its first kernel with the settings its
    ``SandboxedExecute`` will ask for. ``started`` is called once every worker is forked.
    ``early`` is a kernel template started before the config was read, used if it fits
    (its starter closes it); a template started here is closed here.
    """
    if not todo:
        return
    from nncourse.autograde.execute import SandboxedExecute

    config = copy.deepcopy(config)
    _set_executor_limits(config, options)
    kind = SandboxedExecute(config=config).kernel_kind()
    context = _worker_context()
    shared = _shared_template(kind, early)
    with contextlib.ExitStack() as stack:
        if shared is not None and shared is not early:
            stack.callback(shared.close)
        stack.enter_context(write_ahead_log(config.CourseDirectory.db_url))
        pool = stack.enter_context(ProcessPoolExecutor(
            max_workers=max(1, options.jobs), mp_context=context, initializer=_start_worker,
            initargs=(os.getpid(), kind, str(shared.jobs) if shared else None)))
        futures = {pool.submit(grade_submission, str(root), assignment, student, key,
                               notes.get(student, ""), options): student
                   for student, key in todo.items()}
        if started is not None:  # a forking pool has forked all its workers at the first submit
            started()
        for future in as_completed(futures):
            student = futures[future]
            try:
                yield future.result()
            except BrokenProcessPool:
                yield Record(student, "", Status.ERROR,
                             "the grading worker died; run the command again to retry")
            except Exception as error:  # noqa: BLE001 (one submission must not stop the class)
                yield Record(student, "", Status.ERROR, f"grading failed: {error!r}")
