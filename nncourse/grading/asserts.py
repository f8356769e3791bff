"""Assertions for the exercises' test cells, with messages that tell a student what to fix.

Every helper returns ``None`` (a value on a test cell's last line would count as partial
credit for nbgrader) and raises :class:`AssertionError` naming the input, the expected and
the returned value (short array reprs) and, when given, a hint.
"""

from __future__ import annotations

import copy
import inspect
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

Case = tuple | Mapping[str, Any]


def short_repr(value: Any) -> str:
    """A one-to-few-line repr of a value: arrays are summarised, floats rounded.

    Parameters
    ----------
    value : object
        Typically an ndarray, a float, or a tuple/list/dict of them.

    Returns
    -------
    str

    Examples
    --------
    >>> short_repr(np.arange(100.0))
    'array([ 0.,  1.,  2., ..., 97., 98., 99.], shape=(100,))'
    """
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=6, threshold=12, edgeitems=3, linewidth=90):
            return repr(value)
    if isinstance(value, tuple | list):
        inner = ", ".join(short_repr(item) for item in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key!r}: {short_repr(item)}" for key, item in value.items()) + "}"
    if isinstance(value, float | np.floating):
        return f"{float(value):.8g}"
    return repr(value)


def _mismatch(got: Any, expected: Any, rtol: float, atol: float, where: str) -> str | None:
    """Describe how ``got`` differs from ``expected`` (``None`` when they agree)."""
    if isinstance(expected, Mapping):
        if not isinstance(got, Mapping):
            return f"{where}: expected a dict, got {type(got).__name__}"
        if set(got) != set(expected):
            return f"{where}: expected the keys {sorted(expected)}, got {sorted(got)}"
        for key in expected:
            problem = _mismatch(got[key], expected[key], rtol, atol, f"{where}[{key!r}]")
            if problem:
                return problem
        return None
    if isinstance(expected, tuple | list):
        if not isinstance(got, tuple | list):
            return (f"{where}: expected a {type(expected).__name__} of {len(expected)} values, "
                    f"got {type(got).__name__}")
        if len(got) != len(expected):
            return f"{where}: expected {len(expected)} values, got {len(got)}"
        for index, (got_item, expected_item) in enumerate(zip(got, expected, strict=True)):
            problem = _mismatch(got_item, expected_item, rtol, atol, f"{where}[{index}]")
            if problem:
                return problem
        return None
    return _array_mismatch(got, expected, rtol, atol, where)


def _array_mismatch(got: Any, expected: Any, rtol: float, atol: float, where: str) -> str | None:
    """Compare numbers or arrays: shape first, then finiteness, then values."""
    if got is None:
        return f"{where}: got None (did you forget `return`?)"
    expected_array = np.asarray(expected, dtype=float)
    try:
        got_array = np.asarray(got)
    except (TypeError, ValueError):  # e.g. a ragged list
        got_array = np.asarray(None)
    if got_array.dtype.kind not in "biuf":
        return f"{where}: expected a number or an array of numbers, got {short_repr(got)}"
    got_array = got_array.astype(float)
    if got_array.shape != expected_array.shape:
        return (f"{where}: expected shape {expected_array.shape}, got shape {got_array.shape}\n"
                f"  expected: {short_repr(expected)}\n  got:      {short_repr(got)}")
    if np.isfinite(expected_array).all() and not np.isfinite(got_array).all():
        return (f"{where}: got nan or inf where the expected value is finite (overflow?)\n"
                f"  expected: {short_repr(expected)}\n  got:      {short_repr(got)}")
    if not np.allclose(got_array, expected_array, rtol=rtol, atol=atol, equal_nan=True):
        worst = np.abs(got_array - expected_array).max()
        return (f"{where}: wrong value (largest difference {worst:.3g})\n"
                f"  expected: {short_repr(expected)}\n  got:      {short_repr(got)}")
    return None


def _fail(message: str, hint: str | None) -> None:
    raise AssertionError(message + (f"\n  hint: {hint}" if hint else ""))


def assert_close(
    got: Any, expected: Any, *, name: str = "value", rtol: float = 1e-7, atol: float = 1e-12,
    hint: str | None = None,
) -> None:
    """Check a value against the expected one: structure, shape, finiteness and numbers.

    Passes when ``|got - expected| <= atol + rtol·|expected|`` elementwise, with equal
    shapes (and equal lengths/keys for tuples, lists and dicts, compared item by item).

    Parameters
    ----------
    got : float, ndarray, or a tuple/list/dict of them
        What the student's code returned.
    expected : same structure as ``got``
        The right answer.
    name : str, default "value"
        How the message refers to the value, e.g. ``"softmax([1, 2])"``.
    rtol, atol : float
        Relative and absolute tolerance.
    hint : str, optional
        A line added to the message when the check fails.

    Raises
    ------
    AssertionError
        With the place of the first difference, the expected and the returned value.

    Examples
    --------
    >>> assert_close(0.1 + 0.2, 0.3, name="the sum")
    >>> assert_close((1.0, np.zeros(2)), (1.0, np.zeros(3)), name="step")
    Traceback (most recent call last):
    ...
    AssertionError: step[1]: expected shape (3,), got shape (2,)
      expected: array([0., 0., 0.])
      got:      array([0., 0.])
    """
    problem = _mismatch(got, expected, rtol, atol, name)
    if problem:
        _fail(problem, hint)


def assert_shape(value: Any, shape: tuple[int, ...], *, name: str = "value") -> None:
    """Check that ``np.shape(value) == shape``.

    Parameters
    ----------
    value : array_like
        What the student's code returned.
    shape : tuple of int
        The expected shape; ``()`` for a single number.
    name : str, default "value"
        How the message refers to the value.

    Raises
    ------
    AssertionError
        Naming both shapes.

    Examples
    --------
    >>> assert_shape(np.zeros((2, 3)), (2, 3), name="softmax(x)")
    """
    if value is None:
        _fail(f"{name}: got None (did you forget `return`?)", None)
    if np.shape(value) != tuple(shape):
        _fail(f"{name}: expected shape {tuple(shape)}, got shape {np.shape(value)}", None)


def _as_call(case: Case) -> tuple[tuple, dict]:
    if isinstance(case, Mapping):
        return (), dict(case)
    if isinstance(case, tuple):
        return case, {}
    raise TypeError(f"each case must be a tuple of arguments or a dict of keyword arguments, "
                    f"got {type(case).__name__}")


def _describe_call(fn: Callable, name: str, args: tuple, kwargs: dict) -> str:
    """``name(x=array(...), t=...)`` with parameter names when the signature allows it."""
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
        parts = [f"{key}={short_repr(value)}" for key, value in bound.arguments.items()]
    except (TypeError, ValueError):
        parts = [short_repr(value) for value in args]
        parts += [f"{key}={short_repr(value)}" for key, value in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _quietly(fn: Callable, args: tuple, kwargs: dict) -> Any:
    """Call ``fn`` with numpy's floating-point warnings off: values decide, not stderr."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def check_function(
    student_fn: Callable, reference_fn: Callable, cases: Iterable[Case], *,
    name: str | None = None, rtol: float = 1e-7, atol: float = 1e-12, hint: str | None = None,
    check_inputs_unchanged: bool = True,
) -> None:
    """Compare a student's function with a reference on every case.

    Both functions get their own deep copy of each case's arguments. The student's result
    must match the reference's (see :func:`assert_close`) and, by default, the student's
    function must leave its arguments as they were.

    Parameters
    ----------
    student_fn : callable
        The function under test.
    reference_fn : callable
        The trusted implementation, called with the same arguments.
    cases : iterable of tuple or dict
        Positional arguments (a tuple) or keyword arguments (a dict) of each call.
    name : str, optional
        Name used in messages; the student's function name by default.
    rtol, atol : float
        Tolerances of the comparison.
    hint : str, optional
        A line added to the message when a case fails.
    check_inputs_unchanged : bool, default True
        Also fail when the student's function modified an argument in place.

    Raises
    ------
    AssertionError
        For the first failing case: the call with its arguments, expected vs got, the hint.

    Examples
    --------
    >>> def double(x):
    ...     return x + x
    >>> check_function(double, lambda x: 2 * x, cases=[(np.arange(3.0),), (1.5,)])
    >>> check_function(double, lambda x: 3 * x, cases=[(1.5,)], hint="three times")
    Traceback (most recent call last):
    ...
    AssertionError: double(x=1.5): wrong value (largest difference 1.5)
      expected: 4.5
      got:      3
      hint: three times
    """
    name = name or getattr(student_fn, "__name__", "the function")
    for case in cases:
        args, kwargs = _as_call(case)
        call = _describe_call(student_fn, name, args, kwargs)
        expected = _quietly(reference_fn, *copy.deepcopy((args, kwargs)))
        student_args, student_kwargs = copy.deepcopy((args, kwargs))
        got = _quietly(student_fn, student_args, student_kwargs)
        assert_close(got, expected, name=call, rtol=rtol, atol=atol, hint=hint)
        if check_inputs_unchanged:
            _check_unchanged(call, (student_args, student_kwargs), (args, kwargs))


def _check_unchanged(call: str, after: tuple[tuple, dict], before: tuple[tuple, dict]) -> None:
    for index, (now, then) in enumerate(zip(after[0], before[0], strict=True)):
        if _differs(now, then):
            _fail(f"{call} changed its argument #{index + 1} in place; restore it or work on a "
                  "copy", None)
    for key, then in before[1].items():
        if _differs(after[1][key], then):
            _fail(f"{call} changed its argument {key!r} in place; restore it or work on a copy",
                  None)


def _differs(now: Any, then: Any) -> bool:
    if isinstance(then, np.ndarray):
        return not np.array_equal(now, then, equal_nan=True)
    if isinstance(then, Sequence) and not isinstance(then, str):
        return len(now) != len(then) or any(_differs(a, b) for a, b in zip(now, then, strict=True))
    return False
