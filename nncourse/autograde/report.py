"""``nncourse report``: a class's grades as ``grades.csv``, ``grades.png`` and a summary.

Scores come from the nbgrader gradebook, status and reasons from the records that
``nncourse grade`` leaves; rows are sorted by student and hold no timings, so the same grades
always give the same CSV.
"""

from __future__ import annotations

import csv
import statistics
from dataclasses import dataclass
from pathlib import Path

from nncourse.autograde.course import GRADES_DIR, Layout, course_layout
from nncourse.autograde.grade import Record, read_records
from nncourse.autograde.notebook import graded_cells, read_notebook
from nncourse.autograde.status import Status


@dataclass(frozen=True)
class Row:
    """One student's line of ``grades.csv``.

    Attributes
    ----------
    student : str
    scores : dict of str to float or None
        Per task (grade id), the points; None for a task still to be graded by hand.
    total, max_total : float
        Points earned and available.
    status, reason : str
        From the record (``graded`` with no reason when there is none).
    """

    student: str
    scores: dict[str, float | None]
    total: float
    max_total: float
    status: str
    reason: str


def _reason(record: Record | None) -> str:
    if record is None:
        return ""
    parts = [record.reason] if record.reason else []
    if record.failed_tasks:
        parts.append("failed " + " | ".join(record.failed_tasks))
    return "; ".join(parts)


def _task_name(notebook: str, grade_id: str, several: bool) -> str:
    """A graded cell's column: its grade id, prefixed by its notebook when there are several."""
    return f"{notebook}:{grade_id}" if several else grade_id


def _notebook_order(layout: Layout, assignment: str) -> dict[str, int]:
    """Position of each graded cell (as :func:`_task_name`) in the assignment's sources."""
    names = layout.notebooks(assignment)
    order: dict[str, int] = {}
    for name in names:
        source = layout.source_dir(assignment) / f"{name}.ipynb"
        for cell in graded_cells(read_notebook(source)):
            order.setdefault(_task_name(name, cell.grade_id, len(names) > 1), len(order))
    return order


def collect_rows(root: Path, assignment: str, db_url: str, records: dict[str, Record],
                 ) -> tuple[list[str], list[Row]]:
    """Tasks and rows of every student with a submission or a record.

    Parameters
    ----------
    root : Path
        The course folder.
    assignment : str
        The assignment's name.
    db_url : str
        The gradebook.
    records : dict of str to Record
        The records of ``nncourse grade``, by student.

    Returns
    -------
    tasks : list of str
        Grade ids in notebook order.
    rows : list of Row
        Sorted by student.
    """
    from nbgrader.api import Gradebook, MissingEntry

    scores: dict[str, dict[str, float | None]] = {}
    layout = course_layout(root)
    with Gradebook(db_url) as gradebook:
        try:
            source = gradebook.find_assignment(assignment)
        except MissingEntry:
            return [], []
        several = len(source.notebooks) > 1
        order = _notebook_order(layout, assignment)
        cells = sorted(((_task_name(notebook.name, cell.name, several), cell.max_score)
                        for notebook in source.notebooks
                        for cell in [*notebook.grade_cells, *notebook.task_cells]),
                       key=lambda cell: (order.get(cell[0], len(order)), cell[0]))
        for submission in gradebook.assignment_submissions(assignment):
            if submission.student_id in records and \
                    records[submission.student_id].status == Status.INVALID:
                continue  # a stale grade from an earlier, readable submission
            scores[submission.student_id] = {
                _task_name(notebook.name, grade.name, several):
                    None if grade.needs_manual_grade else grade.score
                for notebook in submission.notebooks for grade in notebook.grades}
    tasks = [name for name, _ in cells]
    max_total = float(sum(points for _, points in cells))
    rows = []
    for student in sorted(set(scores) | set(records)):
        record = records.get(student)
        own = scores.get(student, dict.fromkeys(tasks, 0.0))
        total = float(sum(score or 0.0 for score in own.values()))
        rows.append(Row(student, {task: own.get(task) for task in tasks}, total, max_total,
                        record.status if record else Status.GRADED, _reason(record)))
    return tasks, rows


def write_csv(tasks: list[str], rows: list[Row], path: Path) -> None:
    """One row per student: ``student, <task>..., total, max, status, reason``."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *tasks, "total", "max", "status", "reason"])
        for row in rows:
            cells = ["" if row.scores[task] is None else f"{row.scores[task]:g}"
                     for task in tasks]
            writer.writerow([row.student, *cells, f"{row.total:g}", f"{row.max_total:g}",
                             row.status, row.reason])


def load_plotting() -> None:
    """Import matplotlib for :func:`plot`: a third of a second, which ``nncourse grade``
    spends in a thread while the workers grade rather than after them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot
    import matplotlib.ticker  # noqa: F401


def plot(tasks: list[str], rows: list[Row], path: Path, title: str) -> None:
    """Histogram of totals and, per task, the share of students with full points."""
    load_plotting()
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    totals = [row.total for row in rows]
    top = rows[0].max_total if rows else 1.0
    left.hist(totals, bins=min(20, max(5, int(top) + 1)), range=(0, top), color="#4c72b0")
    left.set(xlabel="total points", ylabel="students", title=f"Totals ({len(rows)} students)")
    left.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    rates = [100 * sum(row.scores[task] is not None and row.scores[task] > 0 for row in rows)
             / max(1, len(rows)) for task in tasks]
    pending = {task for task in tasks if rows and all(row.scores[task] is None for row in rows)}
    labels = [f"{task} (by hand, not graded yet)" if task in pending else task for task in tasks]
    right.barh(labels[::-1], rates[::-1], color="#55a868")
    right.set(xlim=(0, 100), xlabel="% of students with points", title="Per task")
    figure.suptitle(title)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def summary(rows: list[Row], records: dict[str, Record]) -> str:
    """The text printed at the end of a grading run."""
    lines = [f"{len(rows)} submissions: " + ", ".join(
        f"{sum(row.status == status for row in rows)} {status}"
        for status in sorted({row.status for row in rows}))]
    if rows:
        totals = [row.total for row in rows]
        lines.append(f"total points: mean {statistics.mean(totals):.2f}, median "
                     f"{statistics.median(totals):g} of {rows[0].max_total:g}")
    for row in rows:
        if row.status != Status.GRADED:
            lines.append(f"  {row.student}: {row.status}: {row.reason}")
    timed = sorted(records.values(), key=lambda record: record.seconds, reverse=True)[:3]
    if timed:
        lines.append("slowest: " + ", ".join(f"{record.student} {record.seconds:.1f} s"
                                            for record in timed))
    return "\n".join(lines)


def report(root: Path, assignment: str, db_url: str) -> tuple[Path, Path, str]:
    """Write ``grades/<assignment>/grades.csv`` and ``grades.png``; return them and a summary.

    Parameters
    ----------
    root : Path
        The course folder.
    assignment : str
        The assignment's name.
    db_url : str
        The gradebook.

    Returns
    -------
    csv_path, png_path : Path
    text : str
        The summary.
    """
    records = read_records(root, assignment)
    tasks, rows = collect_rows(root, assignment, db_url, records)
    folder = root / GRADES_DIR / assignment
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, png_path = folder / "grades.csv", folder / "grades.png"
    write_csv(tasks, rows, csv_path)
    plot(tasks, rows, png_path, f"{assignment}: grades")
    return csv_path, png_path, summary(rows, records)
