"""The assignments through the real nbgrader pipeline, and the rules their notebooks follow.

The slow tests build one temporary course with every assignment: ``generate_assignment``,
then one submission per student under ``submitted/<student>/<assignment>/`` (the reference
solution, the blank student version, and the hand-written answers of ``exercise_cases``),
one ``nncourse grade`` run per assignment for all its students (nbgrader's autograde and
generate_feedback, in sandboxed kernels, two at a time), and the scores read back from the
gradebook.
"""

from __future__ import annotations

import ast
import html
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from conftest import REPO, VENV_BIN, tool_env
from exercise_cases import Answer, answers, fill
from exercise_cases.cheats import CATEGORIES, cheat_cells

from nncourse.autograde.course import RELEASE_DIR, SOURCE_DIR
from nncourse.autograde.notebook import graded_cells, is_given_cell, solution_cells
from nncourse.autograde.release import (
    generate_assignments,
    list_assignments,
    prepare_course,
)
from nncourse.autograde.sandbox import KERNEL_VISIBLE

ASSIGNMENTS = list_assignments(REPO)
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.DOTALL)
REFERENCE, BLANK, HONEST_WRONG = "reference", "blank", "honest_wrong"


def notebook_path(folder: Path, assignment: str) -> Path:
    return folder / assignment / f"{assignment}.ipynb"


def source(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(notebook_path(REPO / SOURCE_DIR, assignment), as_version=4)


def autograded_ids(assignment: str) -> list[str]:
    return [cell.grade_id for cell in graded_cells(source(assignment)) if cell.autograded]


def hidden_lines(assignment: str) -> list[str]:
    """Lines of the hidden tests long enough to identify them, without whitespace."""
    lines = []
    for cell in source(assignment).cells:
        for block in HIDDEN.findall(cell.source):
            lines += [re.sub(r"\s+", "", line) for line in block.splitlines()
                      if len(line.strip()) >= 12]
    return lines


def all_notebooks() -> list[Path]:
    return sorted([*(REPO / SOURCE_DIR).rglob("*.ipynb"), *(REPO / RELEASE_DIR).rglob("*.ipynb")])


# --- Rules for the notebooks (fast) ---------------------------------------------------------

def test_assignments_are_found() -> None:
    assert {"ch01_gradient_descent", "ch02_loss_functions", "ch03_numerical_gradients",
            "ch04_backpropagation"} <= set(ASSIGNMENTS)
    assert [p.name for p in (REPO / RELEASE_DIR).iterdir() if p.is_dir()], "exercises/ is empty"


@pytest.mark.parametrize("path", all_notebooks(), ids=lambda p: str(p.relative_to(REPO)))
def test_notebooks_are_stored_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name}: cell {cell.get('id')} has outputs; clear them before committing")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_points_table_matches_the_graded_cells(assignment: str) -> None:
    notebook = source(assignment)
    intro = notebook.cells[0].source
    rows = re.findall(r"^\| (\d+) \| .* \| (\d+) \|$", intro, re.MULTILINE)
    total = re.search(r"\*\*Total\*\* \| \*\*(\d+)\*\*", intro)
    points = [cell.points for cell in graded_cells(notebook)]
    assert [float(p) for _, p in rows] == points
    assert total and float(total.group(1)) == sum(points)
    assert 3 <= sum(cell.autograded for cell in graded_cells(notebook)) <= 6


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_task_has_visible_and_hidden_tests(assignment: str) -> None:
    for cell in source(assignment).cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade") and cell.cell_type == "code":
            visible = HIDDEN.sub("", cell.source)
            assert HIDDEN.search(cell.source), f"{cell.id} has no hidden tests"
            assert "assert_written_by_hand(" in visible, f"{cell.id} does not refuse copied code"
            assert "references" not in visible and "check_function" not in visible, (
                f"the visible tests of {cell.id} name the reference")


def kernel_can_import(module: str) -> bool:
    """Whether a grading kernel sees ``module`` (a file or package of ``KERNEL_VISIBLE``)."""
    path = module.split(".")[1:]
    for part in KERNEL_VISIBLE:
        visible = part.removesuffix(".py").split("/")
        if visible[-1] == "__init__":
            if path == visible[:-1]:
                return True
        elif part.endswith(".py"):
            if path == visible:
                return True
        elif path[:len(visible)] == visible:  # a package: everything in it
            return True
    return False


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_given_cells_import_only_what_the_kernel_sees(assignment: str) -> None:
    """Given cells run in the student's kernel too, where reference modules do not exist."""
    assert kernel_can_import("nncourse.grading") and kernel_can_import("nncourse.datasets.mnist")
    assert not kernel_can_import("nncourse.losses")
    assert not kernel_can_import("nncourse.grading.references")
    for cell in source(assignment).cells:
        if not is_given_cell(cell):
            continue
        for node in ast.walk(ast.parse(cell.source)):
            names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module else
                     [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                assert not name.startswith("nncourse") or kernel_can_import(name), (
                    f"{assignment}: a given cell imports {name}, which grading kernels "
                    "cannot see; import it in the test cell that needs it")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_version_reveals_no_solution(assignment: str) -> None:
    text = notebook_path(REPO / RELEASE_DIR, assignment).read_text()
    for secret in ("BEGIN SOLUTION", "HIDDEN TESTS", "references", "check_function"):
        assert secret not in text


RUBRIC = re.compile(r"^\*\*Rubric \((\d+(?:\.\d+)?) points?\b", re.MULTILINE)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_written_answers_have_a_model_answer_and_a_rubric(assignment: str) -> None:
    """The instructor grades every written answer against a model answer and a rubric."""
    answers_by_hand = [cell for cell in source(assignment).cells
                       if cell.cell_type == "markdown"
                       and cell.metadata.get("nbgrader", {}).get("grade")
                       and cell.metadata.get("nbgrader", {}).get("solution")]
    assert answers_by_hand, f"{assignment} has no answer graded by hand"
    for cell in answers_by_hand:
        meta = cell.metadata.nbgrader
        rubric = RUBRIC.search(cell.source)
        assert rubric, f"{meta.grade_id}: no '**Rubric (N points ...' after the model answer"
        assert float(rubric.group(1)) == float(meta.points), (
            f"{meta.grade_id}: the rubric is for {rubric.group(1)} points, the cell has "
            f"{meta.points}")
        model_answer = cell.source[:rubric.start()].strip()
        assert len(model_answer) >= 100 and "YOUR ANSWER HERE" not in model_answer, (
            f"{meta.grade_id}: no model answer before the rubric")


def test_no_rubric_reaches_the_student_versions() -> None:
    for path in sorted((REPO / RELEASE_DIR).rglob("*")):
        if path.is_file():
            assert b"rubric" not in path.read_bytes().lower(), (
                f"{path.relative_to(REPO)} shows a rubric to students")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercise_cases_name_existing_cells(assignment: str) -> None:
    cases = answers(assignment)
    solutions, tests = set(solution_cells(source(assignment))), set(autograded_ids(assignment))
    assert any(a.student == "calls_reference" for a in cases), "no answer that calls nncourse"
    assert any(a.student != "calls_reference" for a in cases), "no typical wrong answer"
    for case in cases:
        affected = case.loses | set(case.partial)
        assert set(case.cells) <= solutions and affected and affected < tests, case.student


# --- The pipeline (slow) --------------------------------------------------------------------

@dataclass
class GradedCourse:
    """A temporary course after autograde and feedback, with every score from the gradebook."""

    root: Path
    scores: dict[tuple[str, str], dict[str, float]]  # (assignment, student) -> grade id -> score

    def feedback(self, assignment: str, student: str) -> Path:
        return self.root / "feedback" / student / assignment / f"{assignment}.html"


def submission(assignment: str, released: Path, case: Answer | None) -> nbformat.NotebookNode:
    """The released notebook with the reference's solution cells, then the case's cells."""
    notebook = nbformat.read(notebook_path(released, assignment), as_version=4)
    return notebook if case is None else fill(notebook, source(assignment), case)


def students(assignment: str) -> dict[str, Answer | None]:
    """Every submission of ``assignment``: reference, blank, typical mistakes, cheats."""
    cases = {case.student: case for case in answers(assignment)}
    cheats = {f"cheat_{category}": Answer(f"cheat_{category}",
                                          cheat_cells(source(assignment), category), frozenset())
              for category in CATEGORIES}
    wrong = Answer(HONEST_WRONG, cheat_cells(source(assignment), None), frozenset())
    return {REFERENCE: Answer(REFERENCE, {}, frozenset()), BLANK: None, **cases,
            HONEST_WRONG: wrong, **cheats}


def grade_class(course: Path, assignment: str) -> None:
    result = subprocess.run(
        [str(VENV_BIN / "nncourse"), "grade", assignment, "--jobs", "2", "--quiet",
         "--root", str(course)], cwd=course, env=tool_env(), capture_output=True, text=True,
        timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]


def read_scores(course: Path, assignments: list[str]) -> dict[tuple[str, str], dict[str, float]]:
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for assignment in assignments:
            for student in students(assignment):
                notebook = gradebook.find_submission_notebook(assignment, assignment, student)
                scores[assignment, student] = {grade.name: grade.score for grade in notebook.grades}
    return scores


def selected_assignments(session: pytest.Session) -> list[str]:
    """The assignments the collected tests ask for (``-k ch05`` grades chapter 5 only)."""
    wanted = {item.callspec.params["assignment"] for item in session.items
              if "assignment" in getattr(getattr(item, "callspec", None), "params", {})}
    return [assignment for assignment in ASSIGNMENTS if assignment in wanted]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
           ) -> GradedCourse:
    course = tmp_path_factory.mktemp("course")
    assignments = selected_assignments(request.session)
    prepare_course(REPO, course, assignments)
    generate_assignments(course, assignments)
    for assignment in assignments:
        for student, case in students(assignment).items():
            path = notebook_path(course / "submitted" / student, assignment)
            path.parent.mkdir(parents=True)
            nbformat.write(submission(assignment, course / RELEASE_DIR, case), path)
        grade_class(course, assignment)
    return GradedCourse(course, read_scores(course, assignments))


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_exercises_are_up_to_date(graded: GradedCourse, assignment: str) -> None:
    fresh = notebook_path(graded.root / RELEASE_DIR, assignment).read_bytes()
    committed = notebook_path(REPO / RELEASE_DIR, assignment).read_bytes()
    assert fresh == committed, f"exercises/{assignment} is out of date: run `nncourse release`"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_solution_gets_full_marks(graded: GradedCourse, assignment: str) -> None:
    points = {cell.grade_id: cell.points for cell in graded_cells(source(assignment))}
    scores = graded.scores[assignment, REFERENCE]
    assert {task: scores[task] for task in autograded_ids(assignment)} == {
        task: points[task] for task in autograded_ids(assignment)}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_blank_student_version_gets_zero(graded: GradedCourse, assignment: str) -> None:
    scores = graded.scores[assignment, BLANK]
    assert {task: scores[task] for task in autograded_ids(assignment)} == dict.fromkeys(
        autograded_ids(assignment), 0)


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "case"),
                         [(a, case) for a in ASSIGNMENTS for case in answers(a)],
                         ids=lambda value: getattr(value, "student", value))
def test_wrong_answer_loses_exactly_its_tasks(graded: GradedCourse, assignment: str,
                                              case: Answer) -> None:
    points = {cell.grade_id: cell.points for cell in graded_cells(source(assignment))}
    scores = graded.scores[assignment, case.student]
    expected = {task: 0 if task in case.loses else case.partial.get(task, points[task])
                for task in autograded_ids(assignment)}
    assert {task: scores[task] for task in expected} == expected


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_shows_no_hidden_test(graded: GradedCourse, assignment: str) -> None:
    secrets = hidden_lines(assignment)
    assert secrets
    for student in students(assignment):
        page = graded.feedback(assignment, student)
        assert page.is_file(), f"no feedback for {student}"
        text = re.sub(r"\s+", "", html.unescape(re.sub(r"<[^>]+>", "", page.read_text())))
        assert "assert_written_by_hand(" in text, "the feedback should show the visible tests"
        leaked = [line for line in secrets if line in text]
        assert not leaked, f"{student}'s feedback shows hidden tests: {leaked[:3]}"


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "category"),
                         [(a, category) for a in ASSIGNMENTS for category in CATEGORIES])
def test_a_cheat_earns_what_honest_wrong_answers_earn(graded: GradedCourse, assignment: str,
                                                      category: str) -> None:
    """The tests run outside the student's kernel: no trick of :mod:`cheats` reaches them."""
    tasks = autograded_ids(assignment)
    honest = graded.scores[assignment, HONEST_WRONG]
    cheat = graded.scores[assignment, f"cheat_{category}"]
    assert {task: cheat[task] for task in tasks} == {task: honest[task] for task in tasks}
    assert sum(honest[task] for task in tasks) == 0


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_submission_is_graded_with_a_record_and_a_row(graded: GradedCourse,
                                                            assignment: str) -> None:
    from nncourse.autograde.grade import read_records

    records = read_records(graded.root, assignment)
    assert set(records) == set(students(assignment))
    for student, record in records.items():
        assert record.status == "graded", f"{student}: {record.status}: {record.reason}"
        if not student.startswith("cheat_"):
            assert record.reason == "", f"{student}: {record.reason}"
    grades_csv = graded.root / "grades" / assignment / "grades.csv"
    assert grades_csv.read_text().count("\n") == len(records) + 1
