"""Loss functions and their gradients with respect to the prediction.

Naming: ``y`` is the prediction, ``t`` the target (the textbook's letters). Every loss
returns a Python float; its gradient ``<loss>_grad(y, t)`` returns an array shaped like
``y`` (float32 predictions give float32 gradients). Loss values are computed in float64.

Each loss matches a PyTorch loss with its default ``reduction="mean"``, except
:func:`sum_squared_error`, which keeps the textbook's ``1/2 * sum``:

==========================  =============================================
nncourse                    PyTorch
==========================  =============================================
``mean_squared_error``      ``torch.nn.functional.mse_loss``
``mean_absolute_error``     ``torch.nn.functional.l1_loss``
``smooth_l1``               ``torch.nn.functional.smooth_l1_loss``
``binary_cross_entropy``    ``torch.nn.functional.binary_cross_entropy``
``cross_entropy_error``     ``nll_loss(log(y), t)`` (with ``delta=0``)
``softmax_cross_entropy``   ``torch.nn.functional.cross_entropy``
==========================  =============================================

Cross-entropy targets ``t`` come in two forms: one-hot (or any probability rows) with the
same shape as ``y``, or integer class labels with one label per sample: shape ``()`` for a
single sample ``y`` of shape ``(C,)``, shape ``(N,)`` for a batch of shape ``(N, C)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nncourse.functions import _as_float_array, log_softmax, softmax

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "cross_entropy_error",
    "cross_entropy_error_grad",
    "mean_absolute_error",
    "mean_absolute_error_grad",
    "mean_squared_error",
    "mean_squared_error_grad",
    "smooth_l1",
    "smooth_l1_grad",
    "softmax_cross_entropy",
    "softmax_cross_entropy_grad",
    "sum_squared_error",
    "sum_squared_error_grad",
]

# PyTorch's BCELoss clamps each log term at -100 so that p = 0 or 1 gives a finite loss,
# and its backward divides by max(p * (1 - p), 1e-12).
_BCE_LOG_FLOOR = -100.0
_BCE_GRAD_EPS = 1e-12


# --- input checks ------------------------------------------------------------------------


def _same_shape(y: ArrayLike, t: ArrayLike) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    """Return ``y`` and ``t`` as float arrays after checking that their shapes are equal."""
    y, t = _as_float_array(y), _as_float_array(t)
    if y.shape != t.shape:
        raise ValueError(
            f"prediction y and target t must have the same shape; got y of shape {y.shape} "
            f"and t of shape {t.shape}"
        )
    if y.size == 0:
        raise ValueError("prediction y is empty; a loss needs at least one element")
    return y, t


def _class_targets(
    y: ArrayLike, t: ArrayLike, y_name: str
) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    """Check a cross-entropy pair and return ``y`` and the target as probability rows.

    ``t`` may be one-hot (shape of ``y``) or integer labels (shape of ``y`` without its
    last axis); labels are turned into one-hot rows of ``y``'s dtype.
    """
    y, t = _as_float_array(y), np.asarray(t)
    if y.ndim not in (1, 2) or y.shape[-1] == 0:
        raise ValueError(
            f"{y_name} must have shape (C,) for one sample or (N, C) for a batch of N "
            f"samples; got shape {y.shape}"
        )
    if t.shape == y.shape:
        return y, t.astype(y.dtype, copy=False)
    if t.shape != y.shape[:-1]:
        raise ValueError(
            f"target t must be one-hot with the shape of {y_name} {y.shape} or integer "
            f"class labels of shape {y.shape[:-1]}; got t of shape {t.shape}"
        )
    if not np.issubdtype(t.dtype, np.integer):
        raise TypeError(
            f"t has shape {t.shape}, so it is read as class labels, which must be integers; "
            f"got dtype {t.dtype} (use t.astype(int))"
        )
    n_classes = y.shape[-1]
    if np.any((t < 0) | (t >= n_classes)):
        raise ValueError(
            f"class labels in t must lie in 0..{n_classes - 1} for {n_classes} classes; "
            f"got values from {t.min()} to {t.max()}"
        )
    return y, np.eye(n_classes, dtype=y.dtype)[t]


def _batch_size(y: NDArray) -> int:
    """Number of samples: 1 for a single sample of shape (C,), N for a batch (N, C)."""
    return 1 if y.ndim == 1 else y.shape[0]


def _loss_value(terms: NDArray, divisor: float = 1.0) -> float:
    """Sum ``terms`` in float64 and divide: the float every loss returns."""
    return float(np.sum(terms, dtype=np.float64) / divisor)


# --- regression losses --------------------------------------------------------------------


def sum_squared_error(y: ArrayLike, t: ArrayLike) -> float:
    """Half the sum of squared errors (the textbook's convention): ``1/2 * sum((y - t)^2)``.

    Parameters
    ----------
    y : array_like of any shape
        Prediction.
    t : array_like of the same shape as ``y``
        Target.

    Returns
    -------
    float
        The loss, summed over all elements (not averaged over the batch).

    Examples
    --------
    >>> sum_squared_error([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    2.0
    """
    y, t = _same_shape(y, t)
    return 0.5 * _loss_value((y.astype(np.float64) - t) ** 2)


def sum_squared_error_grad(y: ArrayLike, t: ArrayLike) -> NDArray[np.floating]:
    """Gradient of :func:`sum_squared_error` with respect to ``y``: ``y - t``.

    Parameters
    ----------
    y : array_like of any shape
        Prediction.
    t : array_like of the same shape as ``y``
        Target.

    Returns
    -------
    ndarray of the same shape as ``y``
    """
    y, t = _same_shape(y, t)
    return (y - t).astype(y.dtype, copy=False)


def mean_squared_error(y: ArrayLike, t: ArrayLike) -> float:
    """Mean squared error over all elements (``torch.nn.MSELoss``): ``mean((y - t)^2)``.

    Parameters
    ----------
    y : array_like of any shape
        Prediction.
    t : array_like of the same shape as ``y``
        Target.

    Returns
    -------
    float

    Examples
    --------
    >>> mean_squared_error([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])  # (0 + 0 + 4) / 3
    1.3333333333333333
    """
    y, t = _same_shape(y, t)
    return _loss_value((y.astype(np.float64) - t) ** 2, y.size)


def mean_squared_error_grad(y: ArrayLike, t: ArrayLike) -> NDArray[np.floating]:
    """Gradient of :func:`mean_squared_error` with respect to ``y``: ``2 * (y - t) / n``.

    Parameters
    ----------
    y : array_like of any shape
        Prediction with ``n = y.size`` elements.
    t : array_like of the same shape as ``y``
        Target.

    Returns
    -------
    ndarray of the same shape as ``y``
    """
    y, t = _same_shape(y, t)
    return (2 * (y - t) / y.size).astype(y.dtype, copy=False)


def mean_absolute_error(y: ArrayLike, t: ArrayLike) -> float:
    """Mean absolute error over all elements (``torch.nn.L1Loss``): ``mean(|y - t|)``.

    Parameters
    ----------
    y : array_like of any shape
        Prediction.
    t : array_like of the same shape as ``y``
        Target.

    Returns
    -------
    float

    Examples
    --------
    >>> mean_absolute_error([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])  # (0 + 0 + 2) / 3
    0.6666666666666666
    """
    y, t = _same_shape(y, t)
    return _loss_value(np.abs(y.astype(np.float64) - t), y.size)


def mean_absolute_error_grad(y: ArrayLike, t: ArrayLike) -> NDArray[np.floating]:
    """Gradient of :func:`mean_absolute_error` w.r.t. ``y``: ``sign(y - t) / n``.

    Where ``y == t`` the gradient is taken as 0, as PyTorch does.

    Parameters
    ----------
    y : array_like of any shape
        Prediction with ``n = y.size`` elements.
    t : array_like of the same shape as ``y``
        Target.

    Returns
    -------
    ndarray of the same shape as ``y``
    """
    y, t = _same_shape(y, t)
    return (np.sign(y - t) / y.size).astype(y.dtype, copy=False)


def _check_beta(beta: float) -> None:
    """Refuse a negative (or NaN) smooth-L1 threshold."""
    if not beta >= 0:
        raise ValueError(f"beta must be a number >= 0; got {beta!r}")


def smooth_l1(y: ArrayLike, t: ArrayLike, beta: float = 1.0) -> float:
    """Smooth L1 loss (``torch.nn.SmoothL1Loss``), quadratic near 0 and linear beyond ``beta``.

    Per element, with ``d = y - t``: ``0.5 * d^2 / beta`` if ``|d| < beta`` else
    ``|d| - 0.5 * beta``; the loss is the mean over all elements. ``beta = 0`` is the
    L1 loss. (Huber loss with parameter ``delta`` equals ``delta * smooth_l1`` with
    ``beta = delta``.)

    Parameters
    ----------
    y : array_like of any shape
        Prediction.
    t : array_like of the same shape as ``y``
        Target.
    beta : float, default 1.0
        Where the loss switches from quadratic to linear; must be >= 0.

    Returns
    -------
    float

    Examples
    --------
    >>> smooth_l1([0.5, 3.0], [0.0, 0.0])  # (0.5 * 0.25 + (3 - 0.5)) / 2
    1.3125
    """
    _check_beta(beta)
    y, t = _same_shape(y, t)
    d = np.abs(y.astype(np.float64) - t)
    if beta == 0:
        return _loss_value(d, y.size)
    return _loss_value(np.where(d < beta, 0.5 * d**2 / beta, d - 0.5 * beta), y.size)


def smooth_l1_grad(y: ArrayLike, t: ArrayLike, beta: float = 1.0) -> NDArray[np.floating]:
    """Gradient of :func:`smooth_l1` w.r.t. ``y``: ``(d / beta if |d| < beta else sign(d)) / n``.

    Parameters
    ----------
    y : array_like of any shape
        Prediction with ``n = y.size`` elements.
    t : array_like of the same shape as ``y``
        Target.
    beta : float, default 1.0
        Where the loss switches from quadratic to linear; must be >= 0.

    Returns
    -------
    ndarray of the same shape as ``y``
    """
    _check_beta(beta)
    y, t = _same_shape(y, t)
    d = y - t
    if beta == 0:
        grad = np.sign(d)
    else:
        grad = np.where(np.abs(d) < beta, d / beta, np.sign(d))
    return (grad / y.size).astype(y.dtype, copy=False)


# --- classification losses ----------------------------------------------------------------


def _probabilities(p: ArrayLike, t: ArrayLike) -> tuple[NDArray[np.floating], NDArray]:
    """Check a binary cross-entropy pair: equal shapes, ``p`` in [0, 1]."""
    p, t = _same_shape(p, t)
    if np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise ValueError(
            "binary_cross_entropy expects probabilities p in [0, 1] (apply sigmoid to logits "
            f"first); got values from {np.nanmin(p)} to {np.nanmax(p)}"
        )
    return p, t


def binary_cross_entropy(p: ArrayLike, t: ArrayLike) -> float:
    """Binary cross entropy (``torch.nn.BCELoss``): ``mean(-(t log p + (1 - t) log(1 - p)))``.

    As in PyTorch, each logarithm is clamped at -100, so ``p = 0`` or ``p = 1`` gives a
    finite loss.

    Parameters
    ----------
    p : array_like of any shape
        Predicted probabilities of the positive class, in [0, 1].
    t : array_like of the same shape as ``p``
        Targets, usually 0 or 1.

    Returns
    -------
    float

    Examples
    --------
    >>> round(binary_cross_entropy([0.9, 0.2], [1.0, 0.0]), 6)  # -(log 0.9 + log 0.8) / 2
    0.164252
    """
    p, t = _probabilities(p, t)
    p = p.astype(np.float64)
    with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped
        log_p = np.maximum(np.log(p), _BCE_LOG_FLOOR)
        log_1mp = np.maximum(np.log1p(-p), _BCE_LOG_FLOOR)
    return _loss_value(-(t * log_p + (1 - t) * log_1mp), p.size)


def binary_cross_entropy_grad(p: ArrayLike, t: ArrayLike) -> NDArray[np.floating]:
    """Gradient of :func:`binary_cross_entropy` w.r.t. ``p``: ``(p - t) / (p (1 - p)) / n``.

    As in PyTorch, the denominator ``p (1 - p)`` is kept at least 1e-12.

    Parameters
    ----------
    p : array_like of any shape
        Predicted probabilities with ``n = p.size`` elements.
    t : array_like of the same shape as ``p``
        Targets.

    Returns
    -------
    ndarray of the same shape as ``p``
    """
    p, t = _probabilities(p, t)
    grad = (p - t) / np.maximum(p * (1 - p), _BCE_GRAD_EPS) / p.size
    return grad.astype(p.dtype, copy=False)


def cross_entropy_error(y: ArrayLike, t: ArrayLike, delta: float = 1e-7) -> float:
    """Cross entropy of predicted probabilities: ``-sum(t * log(y + delta)) / N``.

    ``delta`` keeps ``log(0)`` finite. For a batch the sum runs over all samples and
    classes and is divided by the batch size ``N`` (``N = 1`` for a single sample).
    With integer labels this is ``-mean(log(y[n, t[n]] + delta))``.

    Parameters
    ----------
    y : array_like of shape (C,) or (N, C)
        Predicted probabilities (e.g. the output of :func:`~nncourse.functions.softmax`).
    t : array_like of shape (C,) or (N, C), or integer labels of shape () or (N,)
        One-hot targets with the shape of ``y``, or one class label per sample.
    delta : float, default 1e-7
        Small constant added inside the logarithm.

    Returns
    -------
    float

    Examples
    --------
    >>> y = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]
    >>> round(cross_entropy_error(y, 2), 4)  # -log(0.6)
    0.5108
    """
    y, t = _class_targets(y, t, "y")
    y = y.astype(np.float64)
    # With delta = 0, y = 0 gives log(0) = -inf. Only classes with t > 0 contribute, so a
    # zero probability of a class that is not the target never gives 0 * -inf = nan.
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(t > 0, t * np.log(y + delta), 0.0)
    return -_loss_value(terms, _batch_size(y))


def cross_entropy_error_grad(
    y: ArrayLike, t: ArrayLike, delta: float = 1e-7
) -> NDArray[np.floating]:
    """Gradient of :func:`cross_entropy_error` with respect to ``y``: ``-t / (y + delta) / N``.

    Parameters
    ----------
    y : array_like of shape (C,) or (N, C)
        Predicted probabilities.
    t : array_like of shape (C,) or (N, C), or integer labels of shape () or (N,)
        One-hot targets or class labels.
    delta : float, default 1e-7
        Small constant added inside the logarithm.

    Returns
    -------
    ndarray of the same shape as ``y``
    """
    y, t = _class_targets(y, t, "y")
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = np.where(t > 0, -t / (y + delta), 0.0) / _batch_size(y)
    return grad.astype(y.dtype, copy=False)


def softmax_cross_entropy(logits: ArrayLike, t: ArrayLike) -> float:
    """Cross entropy of softmax probabilities (``torch.nn.functional.cross_entropy``).

    ``-sum(t * log_softmax(logits)) / N``, computed with
    :func:`~nncourse.functions.log_softmax`, so logits of +-1000 give a finite loss.

    Parameters
    ----------
    logits : array_like of shape (C,) or (N, C)
        Unnormalised scores (the last affine layer's output).
    t : array_like of shape (C,) or (N, C), or integer labels of shape () or (N,)
        One-hot (or probability) targets, or one class label per sample.

    Returns
    -------
    float

    Examples
    --------
    >>> round(softmax_cross_entropy([[0.0, 0.0]], [1]), 6)  # -log(1/2)
    0.693147
    """
    logits, t = _class_targets(logits, t, "logits")
    log_p = log_softmax(logits.astype(np.float64))
    return -_loss_value(t * log_p, _batch_size(logits))


def softmax_cross_entropy_grad(logits: ArrayLike, t: ArrayLike) -> NDArray[np.floating]:
    """Gradient of :func:`softmax_cross_entropy` w.r.t. the logits: ``(softmax(logits) - t) / N``.

    That formula holds when each row of ``t`` sums to 1 (one-hot targets, labels); for
    general target rows the exact gradient ``(softmax(logits) * sum(t) - t) / N`` is used.

    Parameters
    ----------
    logits : array_like of shape (C,) or (N, C)
        Unnormalised scores.
    t : array_like of shape (C,) or (N, C), or integer labels of shape () or (N,)
        One-hot (or probability) targets, or one class label per sample.

    Returns
    -------
    ndarray of the same shape as ``logits``

    Examples
    --------
    >>> softmax_cross_entropy_grad([[0.0, 0.0]], [1])
    array([[ 0.5, -0.5]])
    """
    logits, t = _class_targets(logits, t, "logits")
    row_mass = np.sum(t, axis=-1, keepdims=True)
    return (softmax(logits) * row_mass - t) / _batch_size(logits)
