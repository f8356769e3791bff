"""nncourse.grading.Checks: a task's points shared by its checks (partial credit, issue #15)."""

from __future__ import annotations

import numpy as np
import pytest

from nncourse.grading import Checks


def run(outcomes: dict[str, bool | Exception], points: float = 3,
        weights: dict[str, float] | None = None) -> Checks:
    check = Checks(points)
    for name, outcome in outcomes.items():
        with check(name, weight=(weights or {}).get(name, 1.0)):
            if isinstance(outcome, Exception):
                raise outcome
            assert outcome, f"{name} is wrong"
    return check


def test_all_passed_means_no_value_so_nbgrader_gives_full_points(capsys) -> None:
    assert run({"a": True, "b": True}).score() is None
    assert capsys.readouterr().out == ""


def test_some_failed_earn_their_share_and_say_which(capsys) -> None:
    check = run({"shape": True, "values": False, "other sizes": ValueError("bad")},
                weights={"other sizes": 2})
    assert check.score() == pytest.approx(3 * 1 / 4)
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["passed 1 of 3 checks:", "  ok    shape",
                       "  FAIL  values: AssertionError: values is wrong",
                       "  FAIL  other sizes: ValueError: bad"]


def test_all_failed_raises_the_first_failure() -> None:
    with pytest.raises(NotImplementedError):
        run({"a": NotImplementedError(), "b": False}).score()


@pytest.mark.parametrize(("points", "weight"), [(0, 1), (2, 0)])
def test_points_and_weights_must_be_positive(points: float, weight: float) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        with Checks(points if points else 0)("x", weight=weight):
            pass


def test_compare_makes_one_check_per_part(capsys) -> None:
    def student(x):
        return {"double": 2 * x, "square": x * x + 1}

    def reference(x):
        return {"double": 2 * x, "square": x * x}

    check = Checks(points=3)
    check.compare(student, reference, [(1.0,), (2.0,)],
                  {"the double": "double", "the square": "square", "both": ("double", "square")},
                  weight={"both": 2})
    assert check.score() == pytest.approx(3 * 1 / 4)
    printed = capsys.readouterr().out
    assert "FAIL  the square: AssertionError: student(x=1)['square']" in printed
    assert "ok    the double" in printed


def test_compare_fails_every_part_when_the_function_raises() -> None:
    def student(x):
        raise NotImplementedError

    check = Checks(points=1)
    check.compare(student, lambda x: (x, x), [(1.0,)], {"first": 0, "second": 1})
    with pytest.raises(NotImplementedError):
        check.score()


def test_compare_fails_every_part_when_an_argument_is_changed_in_place() -> None:
    def student(a):
        total = a.sum()
        a[0] = 5.0
        return (total, a.size)

    check = Checks(points=2)
    check.compare(student, lambda a: (a.sum(), a.size), [(np.array([1.0, 2.0]),)],
                  {"the sum": 0, "the size": 1})
    with pytest.raises(AssertionError, match="changed its argument #1 in place"):
        check.score()
    check = Checks(points=2)
    check.compare(student, lambda a: (a.sum(), a.size), [(np.array([1.0, 2.0]),)],
                  {"the sum": 0}, check_inputs_unchanged=False)
    assert check.score() is None


def test_compare_names_a_missing_part() -> None:
    check = Checks(points=1)
    check.compare(lambda x: x, lambda x: (x, x), [(1.0,)], {"second": 1}, name="f")
    with pytest.raises(AssertionError, match=r"f\(x=1\) returned float without the part \[1\]"):
        check.score()
