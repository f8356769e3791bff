"""Activation functions and softmax, with the derivatives that backpropagation needs.

Every function takes an array-like of any shape and works element-wise, except
:func:`softmax` and :func:`log_softmax`, which normalise over the last axis.
Floating inputs keep their dtype (float32 stays float32, so training stays fast);
integer inputs and Python lists are converted to float64.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "identity",
    "log_softmax",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "step",
]


def _as_float_array(x: ArrayLike) -> NDArray[np.floating]:
    """Return ``x`` as a floating array: floating arrays unchanged, anything else as float64."""
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.floating):
        return x
    return x.astype(np.float64)


def _as_logits(x: ArrayLike, caller: str) -> NDArray[np.floating]:
    """Return ``x`` as a floating array with a non-empty last axis to normalise over."""
    x = _as_float_array(x)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(
            f"{caller} expects logits x of shape (C,) or (N, C) with C >= 1 classes "
            f"on the last axis; got shape {x.shape}"
        )
    return x


def identity(x: ArrayLike) -> NDArray[np.floating]:
    """The identity activation, used by regression outputs: ``identity(x) = x``.

    Parameters
    ----------
    x : array_like of any shape
        The input, e.g. a layer's pre-activation.

    Returns
    -------
    ndarray of the same shape as ``x``
        ``x`` itself as a floating array.
    """
    return _as_float_array(x)


def step(x: ArrayLike) -> NDArray[np.floating]:
    """The step function of the perceptron: ``step(x) = 1 if x > 0 else 0``.

    Parameters
    ----------
    x : array_like of any shape
        The input, e.g. a layer's pre-activation.

    Returns
    -------
    ndarray of the same shape as ``x``
        1.0 where ``x > 0``, else 0.0.

    Examples
    --------
    >>> step([-1.0, 0.0, 2.0])
    array([0., 0., 1.])
    """
    x = _as_float_array(x)
    return (x > 0).astype(x.dtype)


def sigmoid(x: ArrayLike) -> NDArray[np.floating]:
    """The logistic sigmoid: ``sigmoid(x) = 1 / (1 + exp(-x))``.

    Computed from ``exp(-|x|)``, which never overflows, so ``sigmoid(-1000)`` is 0.0
    without a warning.

    Parameters
    ----------
    x : array_like of any shape
        The input, e.g. a layer's pre-activation.

    Returns
    -------
    ndarray of the same shape as ``x``
        Values in [0, 1].

    Examples
    --------
    >>> sigmoid([-1000.0, 0.0, 1000.0])
    array([0. , 0.5, 1. ])
    """
    x = _as_float_array(x)
    # For x >= 0: 1 / (1 + e^-x); for x < 0 the same value written as e^x / (1 + e^x).
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


def sigmoid_grad(x: ArrayLike) -> NDArray[np.floating]:
    """Derivative of the sigmoid with respect to its input: ``sigmoid(x) * (1 - sigmoid(x))``.

    Parameters
    ----------
    x : array_like of any shape
        The input of the sigmoid (not its output).

    Returns
    -------
    ndarray of the same shape as ``x``
        Values in [0, 0.25].

    Examples
    --------
    >>> sigmoid_grad(0.0)
    np.float64(0.25)
    """
    s = sigmoid(x)
    return s * (1.0 - s)


def relu(x: ArrayLike) -> NDArray[np.floating]:
    """The rectified linear unit: ``relu(x) = max(0, x)``.

    Parameters
    ----------
    x : array_like of any shape
        The input, e.g. a layer's pre-activation.

    Returns
    -------
    ndarray of the same shape as ``x``

    Examples
    --------
    >>> relu([-2.0, 0.0, 3.0])
    array([0., 0., 3.])
    """
    x = _as_float_array(x)
    return np.maximum(x, 0)


def relu_grad(x: ArrayLike) -> NDArray[np.floating]:
    """Derivative of ReLU with respect to its input: ``1 if x > 0 else 0``.

    At ``x = 0`` the derivative is taken as 0, as PyTorch does.

    Parameters
    ----------
    x : array_like of any shape
        The input of ReLU.

    Returns
    -------
    ndarray of the same shape as ``x``
        1.0 where ``x > 0``, else 0.0.
    """
    return step(x)


def softmax(x: ArrayLike) -> NDArray[np.floating]:
    """Softmax over the last axis: ``softmax(x)_i = exp(x_i) / sum_j exp(x_j)``.

    The row maximum is subtracted first (softmax does not change when a constant is
    added to a row), so logits of +-1000 give exact probabilities instead of ``nan``.

    Parameters
    ----------
    x : array_like of shape (..., C)
        Logits; a 1-D array is one sample, an array of shape (N, C) is a batch.

    Returns
    -------
    ndarray of shape (..., C)
        Probabilities in [0, 1]; each row (last axis) sums to 1.

    Examples
    --------
    >>> softmax([1000.0, 1000.0])
    array([0.5, 0.5])
    """
    x = _as_logits(x, "softmax")
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def log_softmax(x: ArrayLike) -> NDArray[np.floating]:
    """Logarithm of softmax over the last axis: ``log_softmax(x)_i = x_i - log(sum_j exp(x_j))``.

    Computed with the row maximum ``m`` as ``(x_i - m) - log(sum_j exp(x_j - m))``: this never
    takes the log of a probability that underflowed to 0, so it stays finite for logits of
    +-1000 where ``np.log(softmax(x))`` gives ``-inf``.

    Parameters
    ----------
    x : array_like of shape (..., C)
        Logits.

    Returns
    -------
    ndarray of shape (..., C)
        Log-probabilities (all <= 0).

    Examples
    --------
    >>> log_softmax([0.0, 1000.0])
    array([-1000.,     0.])
    """
    x = _as_logits(x, "log_softmax")
    shifted = x - np.max(x, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
