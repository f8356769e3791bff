"""nncourse.gradients: finite differences against known derivatives, descent on a bowl, checks."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.extra import numpy as hnp

from nncourse import gradients
from nncourse.gradients import (
    forward_diff,
    gradient_check,
    gradient_descent,
    numerical_diff,
    numerical_gradient,
    relative_error,
)


def bowl(x: np.ndarray) -> float:
    """f(x0, x1) = x0^2 + x1^2, the source material's example function."""
    return float(np.sum(x**2))


# --- derivatives of one variable ---------------------------------------------------------


def test_numerical_diff_of_the_textbook_function():
    def f(x):
        return 0.01 * x**2 + 0.1 * x

    assert numerical_diff(f, 5.0) == pytest.approx(0.2, abs=1e-9)
    assert numerical_diff(f, 10.0) == pytest.approx(0.3, abs=1e-9)


def test_central_difference_error_is_order_h_squared_forward_is_order_h():
    # f = exp at x = 1, f' = e. Shrinking h tenfold divides the central error by ~100
    # (error ~ h^2 f'''/6) and the forward error by ~10 (error ~ h f''/2).
    def error(diff, h):
        return abs(diff(math.exp, 1.0, h) - math.e)

    central_ratio = error(numerical_diff, 1e-2) / error(numerical_diff, 1e-3)
    forward_ratio = error(forward_diff, 1e-2) / error(forward_diff, 1e-3)
    assert 90 < central_ratio < 110
    assert 9 < forward_ratio < 11
    assert error(numerical_diff, 1e-2) == pytest.approx(1e-4 * math.e / 6, rel=1e-3)
    assert error(forward_diff, 1e-2) == pytest.approx(1e-2 * math.e / 2, rel=1e-2)


def test_a_tiny_step_rounds_away():
    # 1.0 + 1e-50 == 1.0 in float64: the difference quotient is exactly zero.
    assert numerical_diff(math.exp, 1.0, h=1e-50) == 0.0


# --- gradients of arrays -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("point", "expected"),
    [((3.0, 4.0), (6.0, 8.0)), ((0.0, 2.0), (0.0, 4.0)), ((3.0, 0.0), (6.0, 0.0))],
)
def test_numerical_gradient_of_the_bowl(point, expected):
    np.testing.assert_allclose(numerical_gradient(bowl, np.array(point)), expected, atol=1e-7)


@settings(deadline=None, max_examples=40)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=4, max_side=4),
                    elements={"min_value": -3, "max_value": 3}))
def test_numerical_gradient_any_shape_and_exact_restore(x):
    original = x.copy()
    grad = numerical_gradient(lambda z: float(np.sum(np.sin(z))), x)
    assert grad.shape == x.shape
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, np.cos(original), atol=1e-8)
    np.testing.assert_array_equal(x, original)  # bit for bit


def test_numerical_gradient_through_a_non_contiguous_view():
    base = np.arange(12, dtype=float).reshape(3, 4) / 10
    view = base[:, ::2]
    grad = numerical_gradient(lambda z: float(np.sum(z**3)), view)
    np.testing.assert_allclose(grad, 3 * view**2, rtol=1e-7, atol=1e-8)
    np.testing.assert_array_equal(base, np.arange(12, dtype=float).reshape(3, 4) / 10)


def test_numerical_gradient_moves_x_in_place_for_closures():
    # The pattern networks use: f ignores its argument and reads the parameter array.
    weights = np.array([[0.5, -1.0], [2.0, 0.25]])
    inputs = np.array([1.0, 3.0])
    grad = numerical_gradient(lambda _: float(np.sum(inputs @ weights)), weights)
    np.testing.assert_allclose(grad, [[1.0, 1.0], [3.0, 3.0]], rtol=1e-9)


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([0.1, 0.2, 0.3])
    calls = []

    def failing(z):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("boom")
        return bowl(z)

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(failing, x)
    np.testing.assert_array_equal(x, [0.1, 0.2, 0.3])


def test_numerical_gradient_refuses_integer_arrays():
    with pytest.raises(TypeError, match=r"array of floats; got dtype int64"):
        numerical_gradient(bowl, np.array([3, 4]))


def test_numerical_gradient_of_float32_is_float64_and_restores():
    x = np.array([3.0, 4.0], dtype=np.float32)
    grad = numerical_gradient(bowl, x, h=1e-2)
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, [6.0, 8.0], rtol=1e-3)
    np.testing.assert_array_equal(x, np.array([3.0, 4.0], dtype=np.float32))


# --- gradient descent ---------------------------------------------------------------------


def test_gradient_descent_on_the_bowl_reaches_the_minimum():
    init = np.array([-3.0, 4.0])
    x, path = gradient_descent(bowl, init, lr=0.1, step_num=100)
    assert path.shape == (101, 2)
    np.testing.assert_array_equal(path[0], [-3.0, 4.0])
    np.testing.assert_array_equal(path[-1], x)
    np.testing.assert_array_equal(init, [-3.0, 4.0])  # the start is copied, not changed
    # Each step multiplies x by 1 - 2 * lr = 0.8.
    np.testing.assert_allclose(x, init * 0.8**100, rtol=1e-4)
    assert np.linalg.norm(x) < 1e-8


def test_gradient_descent_with_analytic_gradient_follows_the_geometric_path():
    init = np.array([-3.0, 4.0])
    _, path = gradient_descent(bowl, init, lr=0.1, step_num=10, grad=lambda x: 2 * x)
    np.testing.assert_allclose(path, init * 0.8 ** np.arange(11)[:, None], rtol=1e-12)


def test_gradient_descent_with_too_large_a_learning_rate_diverges():
    x, path = gradient_descent(bowl, [-3.0, 4.0], lr=10.0, step_num=100)
    assert np.linalg.norm(x) > 1e10
    assert np.all(np.isfinite(path))


def test_gradient_descent_with_too_small_a_learning_rate_barely_moves():
    init = np.array([-3.0, 4.0])
    x, _ = gradient_descent(bowl, init, lr=1e-10, step_num=100)
    assert not np.array_equal(x, init)
    np.testing.assert_allclose(x, init, atol=1e-6)


def test_gradient_descent_keeps_the_shape_of_init_x():
    x, path = gradient_descent(bowl, np.ones((2, 3)), lr=0.1, step_num=5, grad=lambda x: 2 * x)
    assert x.shape == (2, 3)
    assert path.shape == (6, 2, 3)
    x, path = gradient_descent(bowl, [1.0, 2.0], step_num=0)
    assert path.shape == (1, 2)


def test_gradient_descent_refuses_negative_step_num():
    with pytest.raises(ValueError, match="step_num"):
        gradient_descent(bowl, [1.0], step_num=-1)


# --- relative error and gradient check ---------------------------------------------------


def test_relative_error_values():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([0.0], [0.0]) == 0.0  # no 0 / 0
    assert relative_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 4.2)
    assert relative_error([1.0], [-1.0]) == 1.0
    assert relative_error([1e-9], [2e-9]) == pytest.approx(1 / 3)  # scale-free
    assert type(relative_error(np.ones(3), np.ones(3))) is float
    assert relative_error(np.zeros(0), np.zeros(0)) == 0.0


def test_relative_error_is_symmetric_and_takes_the_worst_element():
    a, b = np.array([[1.0, 5.0], [3.0, 1.0]]), np.array([[1.0, 5.5], [3.0, 2.0]])
    assert relative_error(a, b) == relative_error(b, a) == pytest.approx(1 / 3)


def test_relative_error_refuses_different_shapes():
    with pytest.raises(ValueError, match=r"same shape; got \(2,\) and \(3,\)"):
        relative_error(np.ones(2), np.ones(3))


def test_gradient_check_compares_key_by_key():
    w = np.array([[1.0, -2.0], [0.5, 3.0]])

    def loss(_):
        return float(np.sum(w**2))

    analytic = {"W": 2 * w, "b": np.array([1.0, 2.0])}
    numeric = {"b": np.array([1.0, 2.2]), "W": numerical_gradient(loss, w)}
    errors = gradient_check(analytic, numeric)
    assert list(errors) == ["W", "b"]
    assert errors["W"] < 1e-9
    assert errors["b"] == pytest.approx(0.2 / 4.2)


def test_gradient_check_refuses_mismatched_keys():
    with pytest.raises(KeyError, match=r"only in grads_a: \['b1'\], only in grads_b: \['b2'\]"):
        gradient_check({"W1": np.ones(1), "b1": np.ones(1)}, {"W1": np.ones(1), "b2": np.ones(1)})


def test_gradient_check_names_the_key_with_a_shape_mismatch():
    with pytest.raises(ValueError, match="gradient 'W1'"):
        gradient_check({"W1": np.ones((2, 2))}, {"W1": np.ones(4)})


def test_docstring_examples():
    assert doctest.testmod(gradients).failed == 0
