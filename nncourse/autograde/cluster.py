"""``nncourse grade --scheduler``: the submissions of a class graded on a Dask cluster.

The workers need the same environment as the grading machine (this package, nbgrader,
bubblewrap, the data sets) but no shared file system: each submission travels as a
:class:`Bundle` of bytes (the course's config, the assignment's source folder, the student's
submitted folder), a worker grades it in a scratch course of its own (sandboxed kernel,
tests outside it, exactly as on one machine), and the executed notebooks come back as bytes.
Only the driver then writes the gradebook, ``autograded/``, ``feedback/`` and the records:
it runs nbgrader's autograde again with the worker's outputs replayed
(:class:`~nncourse.autograde.execute.ReplayOutputs`) instead of a kernel.

A worker that dies mid-run costs nothing: Dask gives its tasks to another worker. A driver
that dies leaves the records of what it finished; the same command resumes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from nncourse.autograde.course import CONFIG_FILE, Layout, course_config, course_layout
from nncourse.autograde.grade import GradeOptions, Record, grade_submission
from nncourse.autograde.gradebook import course_id, ensure_in_gradebook
from nncourse.autograde.status import Status


@dataclass(frozen=True)
class Bundle:
    """Everything a worker needs to grade one submission, as plain data.

    Attributes
    ----------
    assignment, student, key : str
        What is graded, and its record key.
    config : bytes
        The course's ``nbgrader_config.py``.
    source : dict of str to bytes
        The assignment's source folder, by path relative to it.
    submission : dict of str to bytes
        The student's submitted folder, by path relative to it.
    options : GradeOptions
        Limits (the gradebook is the worker's own).
    """

    assignment: str
    student: str
    key: str
    config: bytes
    source: dict[str, bytes]
    submission: dict[str, bytes]
    options: GradeOptions


def _files(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()
            and ".ipynb_checkpoints" not in path.parts}


def _write(files: dict[str, bytes], folder: Path) -> None:
    for name, content in files.items():
        target = (folder / name).resolve()
        if folder.resolve() not in target.parents:
            raise ValueError(f"a bundle's file {name!r} points outside its folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def make_bundle(layout: Layout, assignment: str, student: str, key: str,
                options: GradeOptions) -> Bundle:
    """The :class:`Bundle` of one student's submission of ``assignment``."""
    return Bundle(assignment, student, key, (layout.root / CONFIG_FILE).read_bytes(),
                  _files(layout.source_dir(assignment)),
                  _files(layout.student_dir("submitted", student, assignment)),
                  replace(options, db_url=None, scheduler=None, jobs=1))


_TEMPLATES: dict[str, Path] = {}
"""Per worker process: scratch courses with the assignment already in their gradebook."""


def _template(bundle: Bundle) -> Path:
    """A course with this bundle's config and source, registered once per worker."""
    digest = hashlib.sha256(bundle.config)
    for name, content in sorted(bundle.source.items()):
        digest.update(name.encode() + content)
    key = f"{bundle.assignment}-{digest.hexdigest()[:16]}"
    if key not in _TEMPLATES:
        root = Path(tempfile.mkdtemp(prefix="nncourse-worker-course-"))
        (root / CONFIG_FILE).write_bytes(bundle.config)
        config = course_config(root)
        _write(bundle.source, course_layout(root, config).source_dir(bundle.assignment))
        ensure_in_gradebook(root, bundle.assignment, config.CourseDirectory.db_url,
                            course_id(config))
        _TEMPLATES[key] = root
    return _TEMPLATES[key]


def grade_bundle(bundle: Bundle) -> dict[str, Any]:
    """Grade one submission on a worker; return its record and executed notebooks.

    Returns
    -------
    dict
        ``record`` (a :class:`~nncourse.autograde.grade.Record` as a dict) and ``executed``
        (the autograded notebooks, by file name, as bytes).
    """
    template = _template(bundle)
    with tempfile.TemporaryDirectory(prefix="nncourse-worker-") as scratch:
        root = Path(scratch) / "course"
        shutil.copytree(template, root)
        layout = course_layout(root)
        _write(bundle.submission, layout.student_dir("submitted", bundle.student,
                                                     bundle.assignment))
        record = grade_submission(str(root), bundle.assignment, bundle.student, bundle.key, "",
                                  bundle.options, feedback=False)
        graded = layout.student_dir("autograded", bundle.student, bundle.assignment)
        executed = {path.name: path.read_bytes() for path in sorted(graded.glob("*.ipynb"))}
    return {"record": asdict(record), "executed": executed}


def _book(root: Path, assignment: str, student: str, key: str, note: str,
          options: GradeOptions, result: dict[str, Any]) -> Record:
    """Write a worker's result into the course: gradebook, autograded, feedback, record."""
    worked = Record(**result["record"])
    if worked.status in (Status.INVALID, Status.ERROR):
        return replace(worked, reason="; ".join(part for part in (note, worked.reason) if part))
    with tempfile.TemporaryDirectory(prefix="nncourse-replay-") as folder:
        _write(result["executed"], Path(folder))
        report = {"status": worked.status, "reason": worked.reason, "problems": [],
                  "seconds": worked.kernel_seconds}
        (Path(folder) / "report.json").write_text(json.dumps(report), encoding="utf-8")
        booked = grade_submission(str(root), assignment, student, key, note, options,
                                  executed=folder)
    return replace(booked, kernel_seconds=worked.kernel_seconds)


def grade_on_cluster(layout: Layout, assignment: str, todo: dict[str, str],
                     notes: dict[str, str], options: GradeOptions) -> Iterator[Record]:
    """Grade the ``todo`` students (student -> key) on the Dask cluster of ``options``.

    Yields
    ------
    Record
        One per student, as each finishes (booked in the course by then).
    """
    from distributed import Client, as_completed

    with Client(options.scheduler, timeout="30s") as client:
        futures = {client.submit(grade_bundle,
                                 make_bundle(layout, assignment, student, key, options),
                                 key=f"nncourse-{assignment}-{student}-{key[:16]}",
                                 pure=False): (student, key)
                   for student, key in todo.items()}
        for future in as_completed(futures):
            student, key = futures[future]
            try:
                result = future.result()
            except Exception as error:  # noqa: BLE001 (one submission must not stop the class)
                yield Record(student, "", Status.ERROR, f"grading failed on the cluster: "
                                                         f"{type(error).__name__}: {error}")
                continue
            yield _book(layout.root, assignment, student, key, notes.get(student, ""),
                        options, result)
