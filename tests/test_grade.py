"""``nncourse grade`` against hostile, broken and odd submissions (issue #7).

A submission gets the grade its honest code earns and nothing more, and never affects another
submission or the gradebook. One temporary course of ch02_loss_functions gets every
submission of :mod:`grade_cases` (tampered test cells, kernels that exit, crash or hang,
patched grading tools, reaching for the reference code, reads and writes outside the sandbox,
background processes, floods of output, files that are no notebook) and is graded once, for
real: nbgrader, sandboxed kernels, two at a time. The tests then read ``grades.csv``, the
records, the gradebook and the graded notebooks. A second, small course is killed while
grading and resumed.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import signal
import subprocess
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import psutil
import pytest
from conftest import REPO, VENV_BIN, tool_env
from grade_cases import (
    ASSIGNMENT,
    OWN_ANSWER,
    SOLUTION_TEXT,
    SUBMISSIONS,
    TASKS,
    Submission,
    case,
    submission_bytes,
)

from nncourse.autograde.course import RELEASE_DIR, SOURCE_DIR
from nncourse.autograde.execute import SandboxedExecute
from nncourse.autograde.grade import Record, read_records
from nncourse.autograde.notebook import graded_cells
from nncourse.autograde.release import prepare_course
from nncourse.autograde.sandbox import isolation

TIMEOUT_S = 20
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
POINTS = {cell.grade_id: cell.points for cell in graded_cells(
    nbformat.read(REPO / SOURCE_DIR / ASSIGNMENT / NOTEBOOK, as_version=4))}
MAX_TOTAL = sum(POINTS.values())
HONEST = ("reference", "wrongly_named", "nbformat_3", "escapes")
"""Submissions whose every answer is right, whatever else they do."""
BY_STUDENT = {submission.student: submission for submission in SUBMISSIONS}


def released() -> nbformat.NotebookNode:
    return nbformat.read(REPO / RELEASE_DIR / ASSIGNMENT / NOTEBOOK, as_version=4)


def solution() -> nbformat.NotebookNode:
    return nbformat.read(REPO / SOURCE_DIR / ASSIGNMENT / NOTEBOOK, as_version=4)


def write_submissions(course: Path, submissions: list[Submission], marker: str) -> None:
    """Put each submission in nbgrader's layout, ``submitted/<student>/<assignment>/``."""
    for submission in submissions:
        path = course / "submitted" / submission.student / ASSIGNMENT / (
            submission.file_name or NOTEBOOK)
        path.parent.mkdir(parents=True)
        path.write_bytes(submission_bytes(submission, released(), solution(), str(course),
                                          marker))


def nncourse(command: str, course: Path, *args: str) -> subprocess.CompletedProcess:
    """Run ``nncourse COMMAND ASSIGNMENT --root COURSE ARGS`` and check that it succeeded."""
    result = subprocess.run(
        [str(VENV_BIN / "nncourse"), command, ASSIGNMENT, "--root", str(course), *args],
        cwd=course.parent, env=tool_env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    return result


def grades_csv(course: Path) -> str:
    return (course / "grades" / ASSIGNMENT / "grades.csv").read_text(encoding="utf-8")


def processes_with(marker: str) -> list[psutil.Process]:
    """The processes on this machine whose command line mentions ``marker``."""
    return [process for process in psutil.process_iter(["cmdline"])
            if marker in " ".join(process.info["cmdline"] or ())]


def outputs_text(notebook: nbformat.NotebookNode, grade_id: str | None = None) -> str:
    """Everything the cells (or the cell ``grade_id``) of a graded notebook showed."""
    texts = []
    for cell in notebook.cells:
        if grade_id and cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") != grade_id:
            continue
        for output in cell.get("outputs", []):
            texts.append(output.get("text", "") + output.get("evalue", "")
                         + str(output.get("data", "")))
    return "\n".join(texts)


@dataclass
class GradedClass:
    """The course after one ``nncourse grade`` run, and what was seen right after it."""

    root: Path
    marker: str
    rows: dict[str, dict[str, str]]
    records: dict[str, Record]
    csv_text: str
    solutions_before: dict[str, bytes]
    survivors: list[str]
    kernels: str
    """``forked`` from a template, or ``started`` one by one."""

    def autograded(self, student: str) -> nbformat.NotebookNode:
        return nbformat.read(self.root / "autograded" / student / ASSIGNMENT / NOTEBOOK,
                             as_version=4)

    def feedback(self, student: str) -> Path:
        return self.root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


sandboxed = pytest.mark.skipif(isolation() != "bubblewrap",
                               reason="kernels run sandboxed only with bubblewrap (bwrap)")


@pytest.fixture(scope="module", params=["forked", "started"])
def graded(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[GradedClass]:
    """The class graded with kernels forked from a template, and with kernels started one by
    one (what machines without nested user namespaces get): the same verdicts either way."""
    course = tmp_path_factory.mktemp("grade") / "course"
    prepare_course(REPO, course, [ASSIGNMENT])
    if request.param == "started":
        with (course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
            config.write("\nc.SandboxedExecute.kernel_template = False\n")
    marker = f"nncourse-test-{uuid.uuid4().hex}"
    write_submissions(course, SUBMISSIONS, marker)
    solutions_before = snapshot(course / SOURCE_DIR)

    nncourse("grade", course, "--jobs", "2", "--quiet", "--timeout", str(TIMEOUT_S),
             "--memory", "2048")

    # A sandbox's processes die with it; give the kernel a moment to be reaped.
    deadline = time.monotonic() + 10
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    survivors = processes_with(marker)
    text = grades_csv(course)
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO(text))}
    yield GradedClass(course, marker, rows, read_records(course, ASSIGNMENT), text,
                      solutions_before, [" ".join(process.info["cmdline"] or ())
                                         for process in survivors], request.param)
    # Without a sandbox, what the submissions started or wrote is still there: remove it.
    for process in survivors:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    for folder in ("/tmp", "/var/tmp"):
        for path in Path(folder).glob(f"pwned-{marker}*"):
            path.unlink()


# --- Grades ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_every_submission_gets_one_row(graded: GradedClass) -> None:
    assert sorted(graded.rows) == sorted(BY_STUDENT)
    assert set(graded.records) == set(BY_STUDENT)
    header = graded.csv_text.splitlines()[0].split(",")
    assert header[1:len(TASKS) + 1] == list(TASKS)


@pytest.mark.slow
@pytest.mark.parametrize("submission", SUBMISSIONS, ids=lambda case: case.student)
def test_grade_status_and_reason(graded: GradedClass, submission: Submission) -> None:
    row = graded.rows[submission.student]
    expected = {task: 0.0 if task in submission.loses
                else submission.partial.get(task, POINTS[task]) for task in TASKS}
    assert {task: float(row[task]) for task in TASKS} == expected, row["reason"]
    assert row["status"] == submission.status, row["reason"]
    assert float(row["max"]) == MAX_TOTAL
    assert float(row["total"]) == sum(expected.values())  # the hand-graded answer is pending
    for words in submission.reason:
        assert words in row["reason"], f"{words!r} not in {row['reason']!r}"
    for task, points in submission.partial.items():  # with the checks that failed
        assert re.search(rf"{task}: {points} points: passed \d of \d checks: FAIL ",
                         row["reason"]), row["reason"]
    if not submission.reason and not submission.loses and not submission.partial:
        assert row["reason"] == ""


@pytest.mark.slow
def test_honest_submissions_keep_full_points_beside_hostile_ones(graded: GradedClass) -> None:
    autograded_total = sum(POINTS[task] for task in TASKS)
    for student in HONEST:
        assert float(graded.rows[student]["total"]) == autograded_total, student
        assert graded.records[student].status == "graded"


@pytest.mark.slow
def test_gradebook_keeps_the_assignment_and_the_csv_its_scores(graded: GradedClass) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded.root / 'gradebook.db'}") as gradebook:
        source = gradebook.find_notebook(ASSIGNMENT, ASSIGNMENT)
        assert {cell.name: cell.max_score for cell in source.grade_cells} == POINTS
        assert gradebook.find_assignment(ASSIGNMENT).max_score == MAX_TOTAL
        students = {submission.student_id for submission
                    in gradebook.assignment_submissions(ASSIGNMENT)}
        graded_ids = {s for s, record in graded.records.items() if record.status != "invalid"}
        assert students == graded_ids
        for student in graded_ids:
            notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            assert notebook.max_score == MAX_TOTAL, student
            scores = {grade.name: grade.score for grade in notebook.grades}
            assert {task: scores[task] for task in TASKS} == {
                task: float(graded.rows[student][task]) for task in TASKS}, student


# --- The sandbox ----------------------------------------------------------------------------

@pytest.mark.slow
@sandboxed
def test_submissions_cannot_read_course_files(graded: GradedClass) -> None:
    shown = outputs_text(graded.autograded("escapes"), "mean_squared_error")
    assert shown.count("cannot read: FileNotFoundError") == 4, shown
    assert shown.count("cannot list: FileNotFoundError") == 2, shown
    assert ("listed /job " in shown) == (graded.kernels == "forked"), shown  # its HOME
    for student, record in graded.records.items():
        if record.status == "invalid":
            continue
        shown = outputs_text(graded.autograded(student))
        page = graded.feedback(student).read_text(encoding="utf-8")  # sources too
        for secret in (SOLUTION_TEXT, "SQLite format 3", "c.CourseDirectory"):
            assert secret not in shown and secret not in page, f"{student} shows {secret!r}"
        assert "### BEGIN SOLUTION" not in shown, student
    assert OWN_ANSWER in nbformat.writes(graded.autograded("escapes"))


@pytest.mark.slow
@sandboxed
def test_the_kernel_cannot_reach_the_reference_implementations(graded: GradedClass) -> None:
    shown = outputs_text(graded.autograded("reads_reference"), "mean_squared_error")
    assert shown.count("cannot import:") == 4 and "imported" not in shown, shown
    listing = shown[shown.index("the package holds"):]
    assert "datasets" in listing and "grading" in listing
    for hidden in ("losses.py", "functions.py", "optim.py", "torch_pipeline.py"):
        assert hidden not in listing, listing


@pytest.mark.slow
@sandboxed
def test_writes_outside_the_working_folder_do_not_reach_the_host(graded: GradedClass) -> None:
    shown = outputs_text(graded.autograded("escapes"), "mean_squared_error_grad")
    assert f"wrote /tmp/pwned-{graded.marker}.txt" in shown  # into the sandbox's own /tmp
    assert shown.count("cannot write:") == 3, shown
    assert not list(graded.root.rglob(f"pwned-{graded.marker}*"))
    assert not list(Path("/tmp").glob(f"pwned-{graded.marker}*"))
    assert not list(Path("/var/tmp").glob(f"pwned-{graded.marker}*"))
    assert snapshot(graded.root / SOURCE_DIR) == graded.solutions_before


@pytest.mark.slow
@sandboxed
def test_no_process_of_a_submission_survives_grading(graded: GradedClass) -> None:
    assert "spawned" in outputs_text(graded.autograded("escapes"), "mean_absolute_error")
    assert graded.survivors == []


@pytest.mark.slow
def test_a_flood_of_output_is_cut(graded: GradedClass) -> None:
    limit = SandboxedExecute.max_output_chars.default_value
    shown = outputs_text(graded.autograded("escapes"), "softmax")
    assert "output truncated" in shown
    assert limit <= len(shown) < limit + 200
    notebook = graded.root / "autograded" / "escapes" / ASSIGNMENT / NOTEBOOK
    assert notebook.stat().st_size < 20 * limit
    page = graded.feedback("escapes").read_text(encoding="utf-8")
    without_scripts = re.sub(r"<script.*?</script>", "", page, flags=re.DOTALL)  # MathJax
    assert len(without_scripts) < 30 * limit


@pytest.mark.slow
def test_report_rewrites_the_same_csv(graded: GradedClass) -> None:
    result = nncourse("report", graded.root)
    assert grades_csv(graded.root) == graded.csv_text
    assert "1 timeout" in result.stdout and "3 invalid" in result.stdout


# --- Resuming -------------------------------------------------------------------------------

RESUMED = [case("ada"), case("bob", loses=tuple(TASKS), blank=True),
           case("cy", partial={"test_softmax": 1.5}, softmax="""
               def softmax(x):
                   return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)
               """)]


def zip_of_loose_notebooks(path: Path, course: Path) -> None:
    """The submissions of RESUMED as an LMS export: loose files, odd names, a folder."""
    names = {"ada": "ada.ipynb", "bob": f"bob_{ASSIGNMENT}.ipynb", "cy": "export/cy.ipynb"}
    with zipfile.ZipFile(path, "w") as archive:
        for submission in RESUMED:
            archive.writestr(names[submission.student], submission_bytes(
                submission, released(), solution(), str(course), "unused"))


@pytest.mark.slow
def test_a_killed_run_resumes_where_it_stopped(tmp_path: Path) -> None:
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    for course in (killed, whole):
        prepare_course(REPO, course, [ASSIGNMENT])
    write_submissions(killed, RESUMED, "unused")
    zip_of_loose_notebooks(tmp_path / "export.zip", whole)

    records = killed / "grades" / ASSIGNMENT / "records"
    run = subprocess.Popen(
        [str(VENV_BIN / "nncourse"), "grade", ASSIGNMENT, "--root", str(killed), "--jobs", "1",
         "--quiet"], cwd=tmp_path, env=tool_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not list(records.glob("*.json")) and run.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.02)
        helpers = psutil.Process(run.pid).children(recursive=True)
        os.kill(run.pid, signal.SIGKILL)
    finally:
        run.wait(timeout=60)
    _, alive = psutil.wait_procs(helpers, timeout=20)
    assert alive == [], f"still running after the kill: {[p.cmdline() for p in alive]}"
    done = {path.name: path.stat().st_mtime_ns for path in records.glob("*.json")}
    assert 1 <= len(done) < len(RESUMED)

    # The rerun, and an uninterrupted run of the same class imported from a zip, side by side.
    runs = [subprocess.Popen(
        [str(VENV_BIN / "nncourse"), "grade", ASSIGNMENT, "--root", str(course), "--jobs", "1",
         "--quiet", *extra], cwd=tmp_path, env=tool_env(), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
        for course, extra in ((killed, ()), (whole, ("--submissions", "export.zip")))]
    for run in runs:
        output, _ = run.communicate(timeout=600)
        assert run.returncode == 0, output[-6000:]

    assert {name: (records / name).stat().st_mtime_ns for name in done} == done
    assert sorted(path.name for path in records.glob("*.json")) == [
        f"{submission.student}.json" for submission in RESUMED]
    assert grades_csv(killed) == grades_csv(whole)
    rows = list(csv.DictReader(io.StringIO(grades_csv(whole))))
    assert [(row["student"], row["total"]) for row in rows] == [("ada", "14"), ("bob", "0"),
                                                                ("cy", "12.5")]


def test_grade_cases_name_real_cells() -> None:
    """The cases refer to the assignment's cells, so they fail for the reason they state."""
    answers = {cell.metadata.nbgrader["grade_id"] for cell in solution().cells
               if cell.metadata.get("nbgrader", {}).get("solution")}
    assert set(TASKS) == {task for task in POINTS if task.startswith("test_")}
    for submission in SUBMISSIONS:
        assert set(submission.cells) <= answers, submission.student
        assert submission.loses <= set(TASKS), submission.student
        assert set(submission.partial) <= set(TASKS) - submission.loses, submission.student
        assert all(0 < points < POINTS[task] for task, points in submission.partial.items())
        assert re.fullmatch(r"[a-z0-9_]+", submission.student)
