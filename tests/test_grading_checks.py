"""nncourse.grading.Checks: a task's points shared by its checks (partial credit, issue #15)."""

from __future__ import annotations

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
