"""Hand-written student answers to the assignments, for the grading pipeline tests.

Each module is named after an assignment and lists ``ANSWERS``: submissions that differ from
the reference solution in a few cells (typical mistakes, or answers that merely call the
course's reference code), each with the test cells that must score 0 and those that keep a
part of their points (tasks whose points are shared by checks). Every other test cell of
that submission must keep its full points.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from textwrap import dedent

from nbformat import NotebookNode

from nncourse.autograde.notebook import solution_cells


@dataclass(frozen=True)
class Answer:
    """A submission: the reference solution with some solution cells replaced.

    Attributes
    ----------
    student : str
        The student id it is graded under (also says what is wrong).
    cells : dict of str to str
        Grade id of a solution cell -> the source the student wrote there.
    loses : frozenset of str
        Grade ids of the test cells that must score 0.
    partial : dict of str to float
        Grade ids of test cells that must earn these points (some of their checks fail).
    """

    student: str
    cells: dict[str, str]
    loses: frozenset[str]
    partial: dict[str, float] = field(default_factory=dict)


def answer(student: str, loses: tuple[str, ...], partial: dict[str, float] | None = None,
           **cells: str) -> Answer:
    """An :class:`Answer` whose cell sources are written indented in the case modules."""
    return Answer(student, {key: dedent(source).strip() for key, source in cells.items()},
                  frozenset(loses), dict(partial or {}))


def answers(assignment: str) -> list[Answer]:
    """The hand-written answers to ``assignment`` (its module's ``ANSWERS``)."""
    return importlib.import_module(f"{__name__}.{assignment}").ANSWERS


def fill(student_version: NotebookNode, solution: NotebookNode, case: Answer) -> NotebookNode:
    """The student version with the solution's answers, except where ``case`` has its own.

    Parameters
    ----------
    student_version : NotebookNode
        The released notebook; changed in place and returned.
    solution : NotebookNode
        The source notebook the reference answers come from.
    case : Answer
        The cells this student wrote differently.
    """
    reference = solution_cells(solution)
    for grade_id, cell in solution_cells(student_version).items():
        cell.source = case.cells.get(grade_id, reference[grade_id].source)
    return student_version
