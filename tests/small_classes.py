"""Small classes of ch02_loss_functions for the grading tests: a course folder with submissions."""

from __future__ import annotations

from pathlib import Path

import nbformat
from conftest import REPO
from exercise_cases import Answer, answers, fill

from nncourse.autograde.course import RELEASE_DIR, SOURCE_DIR
from nncourse.autograde.release import prepare_course

ASSIGNMENT = "ch02_loss_functions"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"


def ch02_class(folder: Path, wrong: int = 1) -> dict[str, str]:
    """A course in ``folder`` with ch02 submitted by ``ada`` (the reference solution), ``bob``
    (the blank notebook) and ``wrong`` students with the hand-written wrong answers.

    Returns
    -------
    dict of str to str
        Student -> what they handed in.
    """
    prepare_course(REPO, folder, [ASSIGNMENT])
    solution = nbformat.read(REPO / SOURCE_DIR / ASSIGNMENT / NOTEBOOK, as_version=4)
    cases = {"ada": Answer("ada", {}, frozenset()), "bob": None}
    cases |= {case.student: case for case in answers(ASSIGNMENT)[:wrong]}
    for student, case in cases.items():
        notebook = nbformat.read(REPO / RELEASE_DIR / ASSIGNMENT / NOTEBOOK, as_version=4)
        if case is not None:
            notebook = fill(notebook, solution, case)
        target = folder / "submitted" / student / ASSIGNMENT / NOTEBOOK
        target.parent.mkdir(parents=True)
        nbformat.write(notebook, target)
    return {student: "blank" if case is None else case.student for student, case in cases.items()}
