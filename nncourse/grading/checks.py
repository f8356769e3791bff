"""Partial credit: a task's points split over independent checks, each with its own message.

A test cell makes a :class:`Checks`, runs each check in ``with check("what it checks"):``,
and ends with ``check.score()``. When every check passes the cell shows nothing and
nbgrader gives the task's full points; when some fail it prints which passed and which did
not (with the first line of each failure) and shows the points earned as the cell's value,
which nbgrader reads as a partial score; when all fail it raises the first failure, so the
task scores 0 with the reason a student needs first.

Examples
--------
>>> check = Checks(points=2)
>>> with check("one plus one"):
...     assert 1 + 1 == 2
>>> with check("two plus two"):
...     assert 2 + 2 == 5, "2 + 2 is not 5"
>>> check.score()
passed 1 of 2 checks:
  ok    one plus one
  FAIL  two plus two: AssertionError: 2 + 2 is not 5
1.0
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class _Result:
    name: str
    weight: float
    error: Exception | None


class Checks:
    """The checks of one task and the points they share.

    Parameters
    ----------
    points : float
        The task's points (the test cell's points in nbgrader).
    """

    def __init__(self, points: float) -> None:
        if points <= 0:
            raise ValueError(f"points must be positive, got {points}")
        self.points = float(points)
        self.results: list[_Result] = []

    @contextmanager
    def __call__(self, name: str, weight: float = 1.0) -> Iterator[None]:
        """Run the block as the check ``name``, worth ``weight`` shares of the points.

        An exception in the block fails this check only; the cell goes on.
        """
        if weight <= 0:
            raise ValueError(f"the weight of {name!r} must be positive, got {weight}")
        try:
            yield
        except Exception as error:  # noqa: BLE001 (any failure fails this check alone)
            self.results.append(_Result(name, weight, error))
        else:
            self.results.append(_Result(name, weight, None))

    def score(self) -> float | None:
        """None when every check passed; else print the checks and return the points earned.

        Raises
        ------
        Exception
            The first check's error when every check failed (the task scores 0).
        """
        failed = [result for result in self.results if result.error is not None]
        if not failed:
            return None
        if len(failed) == len(self.results):
            raise failed[0].error
        total = sum(result.weight for result in self.results)
        earned = sum(result.weight for result in self.results if result.error is None)
        lines = [f"passed {len(self.results) - len(failed)} of {len(self.results)} checks:"]
        for result in self.results:
            if result.error is None:
                lines.append(f"  ok    {result.name}")
            else:
                message = (str(result.error).strip().splitlines() or [""])[0]
                lines.append(f"  FAIL  {result.name}: {type(result.error).__name__}: {message}")
        print("\n".join(lines))
        return round(self.points * earned / total, 6)
