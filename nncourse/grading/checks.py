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

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from nncourse.grading.asserts import (
    Case,
    _as_call,
    _check_unchanged,
    _describe_call,
    _quietly,
    assert_close,
)

Part = int | str | tuple[int | str, ...]
"""Which part of a result a check compares: an index or key, or a tuple of several."""


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

    def compare(self, student_fn: Callable, reference_fn: Callable, cases: Iterable[Case],
                parts: Mapping[str, Part], *, name: str | None = None, rtol: float = 1e-7,
                atol: float = 1e-12, hint: str | None = None,
                weight: float | Mapping[str, float] = 1.0,
                check_inputs_unchanged: bool = True) -> None:
        """Compare a function with a reference on every case, one check per part of the result.

        :func:`~nncourse.grading.check_function` with partial credit: every case runs once on
        each side (each with its own deep copy of the arguments), then each part of the results
        (an entry of a returned tuple or dict) is its own check over all the cases, which by
        default also requires the student's function to leave its arguments as they were. A
        case where the student's function raises fails every part with that error.

        Parameters
        ----------
        student_fn, reference_fn : callable
            The function under test and the trusted implementation.
        cases : iterable of tuple or dict
            Positional arguments (a tuple) or keyword arguments (a dict) of each call.
        parts : mapping of str to int, str or tuple of them
            Check name -> the index or key of the result it compares, or a tuple of several.
        name : str, optional
            The function's name in messages; ``student_fn.__name__`` by default.
        rtol, atol : float
            Tolerances of the comparison (:func:`~nncourse.grading.assert_close`).
        hint : str, optional
            A line added to a failure's message.
        weight : float or mapping of str to float, default 1.0
            The weight of every part's check, or of each by its name (1 when not named).
        check_inputs_unchanged : bool, default True
            Every part's check also fails when the student's function changed an argument in
            place (never a check of its own: an answer that does nothing would earn it).

        Examples
        --------
        >>> check = Checks(points=2)
        >>> check.compare(lambda x: (x, 2 * x), lambda x: (x, 3 * x), [(1.0,), (2.0,)],
        ...               {"the first value": 0, "the second value": 1}, name="pair")
        >>> check.score()
        passed 1 of 2 checks:
          ok    the first value
          FAIL  the second value: AssertionError: pair(x=1)[1]: wrong value (largest difference 1)
        1.0
        """
        name = name or getattr(student_fn, "__name__", "the function")
        runs = []
        for case in cases:
            args, kwargs = _as_call(case)
            call = _describe_call(student_fn, name, args, kwargs)
            expected = _quietly(reference_fn, *copy.deepcopy((args, kwargs)))
            student_args, student_kwargs = copy.deepcopy((args, kwargs))
            try:
                got: Any = _quietly(student_fn, student_args, student_kwargs)
            except Exception as error:  # noqa: BLE001 (fails every part below)
                got = error
            runs.append((call, got, expected, (student_args, student_kwargs), (args, kwargs)))
        for label, part in parts.items():
            keys = part if isinstance(part, tuple) else (part,)
            share = weight.get(label, 1.0) if isinstance(weight, Mapping) else weight
            with self(label, weight=share):
                for call, got, expected, after, before in runs:
                    if isinstance(got, Exception):
                        raise got
                    for key in keys:
                        try:
                            value = got[key]
                        except (KeyError, IndexError, TypeError):
                            raise AssertionError(
                                f"{call} returned {type(got).__name__} without the part "
                                f"[{key!r}]") from None
                        assert_close(value, expected[key], rtol=rtol, atol=atol,
                                     name=f"{call}[{key!r}]", hint=hint)
                    if check_inputs_unchanged:
                        _check_unchanged(call, after, before)

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
