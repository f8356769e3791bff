"""Numerical differentiation, plain gradient descent and gradient checks.

Finite differences are slow (two evaluations of ``f`` per element of ``x``) but need
nothing except ``f`` itself, which makes them the independent oracle for every gradient
derived by hand: :func:`gradient_check` compares the two.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "forward_diff",
    "gradient_check",
    "gradient_descent",
    "numerical_diff",
    "numerical_gradient",
    "relative_error",
]


def numerical_diff(f: Callable[[float], float], x: float, h: float = 1e-4) -> float:
    """Central difference: ``f'(x) ~ (f(x + h) - f(x - h)) / (2h)``, error O(h^2).

    ``h`` should not be tiny: with ``h = 1e-50``, ``x + h == x`` in floating point and
    the estimate is 0. ``1e-4`` balances truncation and rounding error.

    Parameters
    ----------
    f : callable
        Function of one real number returning a real number.
    x : float
        Where to differentiate.
    h : float, default 1e-4
        Step size.

    Returns
    -------
    float

    Examples
    --------
    >>> round(numerical_diff(lambda x: 0.01 * x**2 + 0.1 * x, 5.0), 6)  # exact: 0.2
    0.2
    """
    return float((f(x + h) - f(x - h)) / (2 * h))


def forward_diff(f: Callable[[float], float], x: float, h: float = 1e-4) -> float:
    """Forward difference: ``f'(x) ~ (f(x + h) - f(x)) / h``, error O(h).

    Shown for comparison with :func:`numerical_diff`, which is more accurate for the
    same ``h``.

    Parameters
    ----------
    f : callable
        Function of one real number returning a real number.
    x : float
        Where to differentiate.
    h : float, default 1e-4
        Step size.

    Returns
    -------
    float
    """
    return float((f(x + h) - f(x)) / h)


def numerical_gradient(
    f: Callable[[NDArray[np.floating]], float], x: NDArray[np.floating], h: float = 1e-4
) -> NDArray[np.float64]:
    """Gradient of a scalar function of an array by central differences, one element at a time.

    ``grad[i] = (f(x with x[i] + h) - f(x with x[i] - h)) / (2h)``.

    ``x`` is changed in place while ``f`` is evaluated and restored exactly afterwards
    (even if ``f`` raises). So ``f`` may ignore its argument and read ``x`` through
    another name, e.g. ``numerical_gradient(lambda _: net.loss(x, t), net.params["W1"])``.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to a real number.
    x : ndarray of any shape, floating dtype
        Where to differentiate. Integer arrays are refused: ``x[i] + h`` would be
        rounded back to an integer.
    h : float, default 1e-4
        Step size.

    Returns
    -------
    ndarray of float64, same shape as ``x``

    Examples
    --------
    >>> numerical_gradient(lambda x: x[0]**2 + x[1]**2, np.array([3.0, 4.0])).round(6)
    array([6., 8.])
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"x must be an array of floats; got dtype {x.dtype}. Integer entries cannot "
            f"hold x + h, so the differences would be wrong: use e.g. np.array([3.0, 4.0]) "
            f"or x.astype(float)"
        )
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        original = x[index]  # a NumPy scalar: a copy, not a view
        try:
            x[index] = original + h
            f_plus = float(f(x))
            x[index] = original - h
            f_minus = float(f(x))
        finally:
            x[index] = original
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


def gradient_descent(
    f: Callable[[NDArray[np.floating]], float],
    init_x: ArrayLike,
    lr: float = 0.01,
    step_num: int = 100,
    grad: Callable[[NDArray[np.floating]], ArrayLike] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Minimise ``f`` by repeating ``x <- x - lr * grad f(x)`` for ``step_num`` steps.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``init_x`` to a real number.
    init_x : array_like of any shape
        Starting point; it is copied, not changed.
    lr : float, default 0.01
        Learning rate (step size).
    step_num : int, default 100
        Number of steps.
    grad : callable, optional
        Returns the gradient of ``f`` at ``x``. By default, :func:`numerical_gradient`
        of ``f``.

    Returns
    -------
    x : ndarray of float64, shape of ``init_x``
        The last point.
    path : ndarray of float64, shape (step_num + 1, *init_x.shape)
        Every point visited, starting with ``init_x`` and ending with ``x``.

    Examples
    --------
    >>> x, path = gradient_descent(lambda x: x[0]**2 + x[1]**2, [-3.0, 4.0], lr=0.1)
    >>> path.shape, bool(np.allclose(x, 0, atol=1e-8))
    ((101, 2), True)
    """
    if step_num < 0:
        raise ValueError(f"step_num must be >= 0; got {step_num}")
    gradient = grad if grad is not None else (lambda point: numerical_gradient(f, point))
    x = np.array(init_x, dtype=np.float64)
    path = [x.copy()]
    for _ in range(step_num):
        x -= lr * np.asarray(gradient(x))
        path.append(x.copy())
    return x, np.array(path)


def relative_error(a: ArrayLike, b: ArrayLike) -> float:
    """Largest element-wise relative difference: ``max(|a - b| / max(|a| + |b|, 1e-12))``.

    About 1e-7 or less when an analytic gradient agrees with a central-difference one
    (for float64); a bug usually shows as 1e-2 or more.

    Parameters
    ----------
    a, b : array_like of the same shape
        The two arrays to compare, e.g. two gradients.

    Returns
    -------
    float
        0.0 for equal arrays (and for empty ones).

    Examples
    --------
    >>> round(relative_error([1.0, 2.0], [1.0, 2.2]), 6)  # 0.2 / 4.2
    0.047619
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))


def gradient_check(
    grads_a: Mapping[str, ArrayLike], grads_b: Mapping[str, ArrayLike]
) -> dict[str, float]:
    """Relative error between two gradient dicts, key by key (see :func:`relative_error`).

    Typically ``gradient_check(net.gradient(x, t), net.numerical_gradient(x, t))``.

    Parameters
    ----------
    grads_a, grads_b : mapping of str to ndarray
        Gradients keyed by parameter name (e.g. ``"W1"``, ``"b1"``); both must have the
        same keys, and arrays under the same key the same shape.

    Returns
    -------
    dict of str to float
        The relative error for each key, in the order of ``grads_a``.

    Examples
    --------
    >>> gradient_check({"W": np.ones(2)}, {"W": np.ones(2)})
    {'W': 0.0}
    """
    if set(grads_a) != set(grads_b):
        missing_in_b = sorted(set(grads_a) - set(grads_b))
        missing_in_a = sorted(set(grads_b) - set(grads_a))
        raise KeyError(
            f"the two gradient dicts must have the same keys; only in grads_a: "
            f"{missing_in_b}, only in grads_b: {missing_in_a}"
        )
    errors = {}
    for key in grads_a:
        try:
            errors[key] = relative_error(grads_a[key], grads_b[key])
        except ValueError as error:
            raise ValueError(f"gradient {key!r}: {error}") from None
    return errors
