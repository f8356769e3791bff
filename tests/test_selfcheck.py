"""``nncourse check``: the per-task table, the exit status, and the errors for bad input."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import nbformat
import pytest
from conftest import REPO, VENV_BIN, tool_env
from exercise_cases import answers, fill
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from nncourse.autograde.notebook import graded_cells
from nncourse.autograde.selfcheck import CheckReport, TaskResult, task_results
from nncourse.cli import main
from nncourse.grading import check

ASSIGNMENT = "ch02_loss_functions"
SOLUTION = REPO / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
EXERCISE = REPO / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def nncourse(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "nncourse"), *args], env=tool_env(),
                          capture_output=True, text=True, timeout=600)


def table_rows(output: str) -> dict[str, list[str]]:
    """task -> [points, result, reason...] from the printed table."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("task ")) + 2
    rows = {}
    for line in lines[start:]:
        if not line.strip():
            break
        task, *rest = line.split(maxsplit=3)
        rows[task] = rest
    return rows


# --- With a kernel (slow) ---------------------------------------------------------------------

@pytest.mark.slow
def test_check_passes_on_the_solution() -> None:
    result = nncourse("check", str(SOLUTION))
    assert result.returncode == 0, result.stdout + result.stderr
    rows = table_rows(result.stdout)
    assert rows["test_softmax"][:2] == ["3", "passed"]
    assert rows["answer_accuracy"][:2] == ["2", "manual"]
    assert {row[1] for row in rows.values()} == {"passed", "manual"}
    assert "All visible tests pass" in result.stdout


@pytest.mark.slow
def test_check_fails_on_the_blank_exercise() -> None:
    result = nncourse("check", str(EXERCISE))
    assert result.returncode == 1, result.stdout + result.stderr
    rows = table_rows(result.stdout)
    assert len(rows) == 7
    for task in ("test_mean_squared_error", "test_softmax", "test_cross_entropy_error",
                 "test_softmax_cross_entropy_grad"):
        assert rows[task][1:] == ["error", "NotImplementedError"]
    assert "0 of 6 autograded tasks pass the visible tests (0 of 14 points)" in result.stdout


@pytest.mark.slow
def test_check_from_a_cell_reports_failures_and_edited_tests(tmp_path: Path) -> None:
    case = next(a for a in answers(ASSIGNMENT) if a.student == "cross_entropy_sum")
    notebook = fill(nbformat.read(EXERCISE, as_version=4), nbformat.read(SOLUTION, as_version=4),
                    case)
    test_cell = next(c for c in notebook.cells if c.get("id") == "test_softmax")
    test_cell.source += "\n# a student's edit"
    path = tmp_path / "mine.ipynb"
    nbformat.write(notebook, path)

    printed = io.StringIO()
    report = check(path, stream=printed)

    assert report is not None and not report.passed
    results = {task.task: task for task in report.tasks}
    partial = results["test_cross_entropy_error"]
    assert partial.status == "partial"
    assert "FAIL  a batch of 2: the average over the batch" in partial.reason
    assert results["test_softmax"].status == "passed"
    assert report.problems and "test cell was edited" in report.problems[0]
    assert "--- test_cross_entropy_error (partial) ---" in printed.getvalue()


# --- Without a kernel -------------------------------------------------------------------------

def test_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["check", str(tmp_path / "nope.ipynb")]) == 2
    assert "no notebook at" in capsys.readouterr().err


@pytest.mark.parametrize(("name", "content"), [
    ("notes.txt", "hello"), ("broken.ipynb", "{not json"), ("empty.ipynb", '{"a": 1}')])
def test_a_file_that_is_not_a_notebook_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    assert main(["check", str(path)]) == 2
    assert "not a" in capsys.readouterr().err


def test_release_of_an_unknown_assignment_is_a_usage_error(capsys: pytest.CaptureFixture) -> None:
    assert main(["release", "--root", str(REPO), "no_such_assignment"]) == 2
    assert "no assignment named no_such_assignment" in capsys.readouterr().err


def test_check_does_nothing_while_nbgrader_runs_the_notebook(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    printed = io.StringIO()
    assert check("anything.ipynb", stream=printed) is None
    assert "skipped" in printed.getvalue()


def graded(grade_id: str, outputs: list, *, points: int = 2) -> nbformat.NotebookNode:
    meta = {"nbgrader": {"grade": True, "solution": False, "locked": True, "grade_id": grade_id,
                         "points": points, "schema_version": 3}}
    return new_code_cell("pass", metadata=meta, outputs=outputs)


def test_task_results_follow_nbgraders_scoring() -> None:
    answer_meta = {"nbgrader": {"grade": True, "solution": True, "grade_id": "answer",
                                "points": 3, "schema_version": 3}}
    notebook = new_notebook(cells=[
        graded("ok", []),
        graded("assertion", [new_output("error", ename="AssertionError", traceback=[],
                                        evalue="f(x=1): wrong value\n  expected: 2")]),
        graded("unfinished", [new_output("error", ename="NotImplementedError", evalue="",
                                         traceback=[])]),
        graded("noisy", [new_output("stream", name="stderr", text="RuntimeWarning: overflow")]),
        graded("partial", [new_output("execute_result", data={"text/plain": "0.5"})]),
        new_markdown_cell("my answer", metadata=answer_meta),
    ])
    results = {r.task: (r.status, r.reason.splitlines()[0] if r.reason else "")
               for r in task_results(notebook)}
    assert results == {
        "ok": ("passed", ""),
        "assertion": ("failed", "AssertionError: f(x=1): wrong value"),
        "unfinished": ("error", "NotImplementedError"),
        "noisy": ("failed", "the cell wrote to stderr (nbgrader gives 0 points): "
                            "RuntimeWarning: overflow"),
        "partial": ("partial", "the cell displayed 0.5, read as a partial score"),
        "answer": ("manual", "graded by hand"),
    }


def test_report_table_and_verdict() -> None:
    long_reason = "AssertionError: " + "x" * 200
    report = CheckReport(Path("nb.ipynb"), [
        TaskResult("test_a", 2, "passed"), TaskResult("test_bb", 1.5, "failed", long_reason),
        TaskResult("answer", 2, "manual", "graded by hand")])
    lines = report.table().splitlines()
    assert lines[0].split() == ["task", "points", "result", "reason"]
    assert lines[2] == "test_a        2  passed"
    assert lines[3].startswith("test_bb     1.5  failed  AssertionError: xxx")
    assert lines[3].endswith("...") and len(lines[3]) < 110
    assert not report.passed
    assert "1 of 2 autograded tasks pass the visible tests (2 of 3.5 points)" in report.summary()
    assert CheckReport(Path("nb.ipynb"), [TaskResult("test_a", 2, "passed")]).passed
    assert not CheckReport(Path("nb.ipynb"), [TaskResult("t", 1, "passed")], ["edited"]).passed


@pytest.mark.slow
def test_a_failing_setup_cell_is_named_and_stops_the_tasks_after_it(tmp_path: Path) -> None:
    """ch06 without the MNIST files and without network: the loader's own message shows."""
    notebook = REPO / "exercises" / "ch06_mnist_two_layer" / "ch06_mnist_two_layer.ipynb"
    env = tool_env() | {"NNCOURSE_DATA": str(tmp_path / "no-data"),
                        "NNCOURSE_CACHE": str(tmp_path / "no-cache")}
    result = subprocess.run([str(VENV_BIN / "nncourse"), "check", str(notebook)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 1
    setup = next(line for line in result.stdout.splitlines() if line.startswith("setup "))
    assert setup.split()[1:6] == ["error", "the", "setup", "cell", "failed:"]
    assert "DatasetError" in setup
    tasks = [line for line in result.stdout.splitlines() if line.startswith("test_")]
    autograded = [cell for cell in graded_cells(nbformat.read(notebook, as_version=4))
                  if cell.autograded]
    assert len(tasks) == len(autograded) > 0
    for line in tasks:
        assert re.search(r"\bnot run +not run because the setup cell failed", line), line
    assert "NNCOURSE_DATA" in result.stdout and "NameError" not in result.stdout
    assert "The tasks after it were not run; fix this first." in result.stdout
