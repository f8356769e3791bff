"""The test-cell helpers: what passes, what fails, and what the messages tell a student."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from nncourse.grading import assert_close, assert_shape, check_function, short_repr


def failure(function, *args, **kwargs) -> str:
    """The message of the AssertionError that ``function(*args, **kwargs)`` must raise."""
    with pytest.raises(AssertionError) as caught:
        function(*args, **kwargs)
    return str(caught.value)


# --- assert_close -----------------------------------------------------------------------------

@pytest.mark.parametrize(("got", "expected"), [
    (0.1 + 0.2, 0.3),
    (np.float64(2.0), 2),
    (np.array(1.5), 1.5),
    ([np.zeros(2), 1.0], (np.zeros(2), 1.0)),
    ({"W": np.eye(2), "b": 0.0}, {"W": np.eye(2), "b": 0.0}),
    (np.array([np.nan, 1.0]), np.array([np.nan, 1.0])),
])
def test_assert_close_accepts_equal_values(got, expected) -> None:
    assert assert_close(got, expected) is None


def test_assert_close_reports_the_shape_first() -> None:
    message = failure(assert_close, np.zeros((1, 3)), np.zeros(3), name="softmax(x)")
    assert message.startswith("softmax(x): expected shape (3,), got shape (1, 3)")
    assert "expected: array([0., 0., 0.])" in message


def test_assert_close_reports_overflow() -> None:
    message = failure(assert_close, np.array([np.nan, 0.0]), np.array([1.0, 0.0]), name="p")
    assert "nan or inf" in message and "got:      array([nan,  0.])" in message


def test_assert_close_reports_the_largest_difference_and_the_hint() -> None:
    message = failure(assert_close, 4.5, 3.0, name="loss", hint="mind the ½")
    assert message.splitlines() == [
        "loss: wrong value (largest difference 1.5)", "  expected: 3", "  got:      4.5",
        "  hint: mind the ½"]


def test_assert_close_respects_the_tolerances() -> None:
    assert_close(1.0 + 1e-9, 1.0, rtol=1e-8)
    failure(assert_close, 1.0 + 1e-7, 1.0, rtol=1e-8)
    assert_close(1e-10, 0.0, atol=1e-9)


@pytest.mark.parametrize(("got", "expected", "words"), [
    (None, 1.0, "forget `return`"),
    ("0.5", 0.5, "expected a number"),
    (np.zeros(3), (np.zeros(3), 1.0), "expected a tuple of 2 values, got ndarray"),
    ((1.0,), (1.0, 2.0), "expected 2 values, got 1"),
    ((1.0, 3.0), (1.0, 2.0), "value[1]: wrong value"),
    ({"W": 1.0}, {"W": 1.0, "b": 2.0}, "expected the keys ['W', 'b'], got ['W']"),
    ({"W": 1.0, "b": 3.0}, {"W": 1.0, "b": 2.0}, "value['b']: wrong value"),
    (1.0, {"W": 1.0}, "expected a dict"),
])
def test_assert_close_says_where_the_structure_differs(got, expected, words: str) -> None:
    assert words in failure(assert_close, got, expected)


def test_assert_shape() -> None:
    assert assert_shape(np.zeros((2, 3)), (2, 3)) is None
    assert assert_shape(1.5, ()) is None
    assert failure(assert_shape, np.zeros(3), (1, 3), name="o") == (
        "o: expected shape (1, 3), got shape (3,)")
    assert "forget `return`" in failure(assert_shape, None, ())


def test_short_repr_summarises_large_arrays() -> None:
    text = short_repr(np.arange(1000.0))
    assert "..." in text and "shape=(1000,)" in text and len(text) < 100
    assert short_repr((1 / 3, [np.int64(2)])) == "(0.33333333, [np.int64(2)])"
    assert short_repr({"a": 0.25}) == "{'a': 0.25}"


# --- check_function ---------------------------------------------------------------------------

def reference_softmax(x):
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def naive_softmax(x):
    return np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)


def test_check_function_passes_a_right_answer() -> None:
    cases = [(np.array([1.0, 2.0]),), (np.array([[3.0, 1.0], [0.0, 0.0]]),)]
    assert check_function(naive_softmax, reference_softmax, cases) is None


def test_check_function_names_the_failing_input_with_parameter_names() -> None:
    message = failure(check_function, naive_softmax, reference_softmax,
                      cases=[(np.array([1.0, 2.0]),), (np.array([1000.0, 0.0]),)],
                      hint="subtract the maximum")
    assert message.splitlines()[0] == (
        "naive_softmax(x=array([1000.,    0.])): got nan or inf where the expected value is "
        "finite (overflow?)")
    assert message.endswith("hint: subtract the maximum")


def test_check_function_keeps_numpy_warnings_off_stderr() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        failure(check_function, naive_softmax, reference_softmax, [(np.array([1000.0]),)])
    assert caught == []


def test_check_function_accepts_keyword_cases_and_a_custom_name() -> None:
    def scale(x, factor=2.0):
        return x * factor

    check_function(scale, lambda x, factor=2.0: factor * x, [{"x": 1.5, "factor": 3.0}])
    message = failure(check_function, scale, lambda x, factor=2.0: x, [{"x": 1.5}], name="f")
    assert message.startswith("f(x=1.5): wrong value")


def test_check_function_catches_changed_arguments() -> None:
    def subtract_in_place(x, y):
        x -= y
        return x

    message = failure(check_function, subtract_in_place, lambda x, y: x - y,
                      [(np.ones(2), np.ones(2))])
    assert "changed its argument #1 in place" in message
    check_function(subtract_in_place, lambda x, y: x - y, [(np.ones(2), np.ones(2))],
                   check_inputs_unchanged=False)


def test_check_function_catches_changed_lists_and_keyword_arguments() -> None:
    def pop_last(values):
        values.pop()
        return len(values)

    assert "argument #1" in failure(check_function, pop_last, lambda v: len(v) - 1, [([1, 2],)])
    assert "argument 'values'" in failure(check_function, pop_last, lambda values: 1,
                                          [{"values": [1, 2]}])


def test_check_function_gives_each_function_its_own_copy() -> None:
    def spoil(x):
        x[:] = 7.0
        return 0.0

    check_function(lambda x: float(x.sum()), lambda x: (float(x.sum()), spoil(x))[0],
                   [(np.ones(3),)])


def test_check_function_lets_student_errors_through() -> None:
    def unfinished(x):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError):
        check_function(unfinished, reference_softmax, [(np.ones(2),)])


def test_check_function_refuses_malformed_cases() -> None:
    with pytest.raises(TypeError, match="tuple of arguments or a dict"):
        check_function(abs, abs, [1.0])
