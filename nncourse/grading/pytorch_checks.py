"""Checks and reference answers of the exercises on PyTorch (chapter 5: numpy to PyTorch).

The tasks there hand a student's function torch tensors, so :func:`check_function` alone does
not fit: these helpers build the tensors, call the student's code, and compare with an oracle
that does not share its method. A hand-written numpy gradient is compared with torch's
autograd; an autograd training step with central differences of ``nncourse.losses``; a loss
written with tensor operations with PyTorch's own loss module (value and gradient).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from nncourse.gradients import numerical_gradient
from nncourse.grading.asserts import assert_close, short_repr
from nncourse.grading.drivers import beside
from nncourse.losses import mean_squared_error

Array = NDArray[np.float64]


def _fail(message: str, hint: str | None = None) -> None:
    raise AssertionError(message + (f"\n  hint: {hint}" if hint else ""))


def polynomial_features(x: Array, degree: int) -> Array:
    """The powers ``1, x, x², …, x^degree`` of every sample, one sample per row.

    Parameters
    ----------
    x : ndarray of shape (N,)
        Inputs.
    degree : int
        Highest power, at least 0.

    Returns
    -------
    ndarray of shape (N, degree + 1)
        ``A[i, k] = x[i] ** k``.

    Examples
    --------
    >>> polynomial_features(np.array([2.0, 3.0]), 2)
    array([[1., 2., 4.],
           [1., 3., 9.]])
    """
    if degree < 0:
        raise ValueError(f"degree must be at least 0, got {degree}")
    return np.vander(np.asarray(x, dtype=float), degree + 1, increasing=True)


def polynomial_loss(coef: Array, x: Array, y: Array) -> float:
    """Sum of squared errors of the polynomial ``ŷ = Σ_k coef[k]·x^k``: ``Σ_i (ŷ_i − y_i)²``.

    Parameters
    ----------
    coef : ndarray of shape (K,)
        Coefficients, constant term first.
    x : ndarray of shape (N,)
        Inputs.
    y : ndarray of shape (N,)
        Targets.

    Returns
    -------
    float
    """
    prediction = polynomial_features(x, len(coef) - 1) @ coef
    return len(y) * mean_squared_error(prediction, y)


def polynomial_loss_and_grad(coef: Array, x: Array, y: Array) -> tuple[float, Array]:
    """:func:`polynomial_loss` and its gradient w.r.t. ``coef``, by torch autograd in float64.

    Parameters
    ----------
    coef : ndarray of shape (K,)
        Coefficients, constant term first.
    x : ndarray of shape (N,)
        Inputs.
    y : ndarray of shape (N,)
        Targets.

    Returns
    -------
    loss : float
    grad : ndarray of shape (K,)
    """
    coef_t = torch.tensor(np.asarray(coef, dtype=float), requires_grad=True)
    x_t = torch.as_tensor(np.asarray(x, dtype=float))
    y_t = torch.as_tensor(np.asarray(y, dtype=float))
    powers = torch.stack([x_t**k for k in range(len(coef))], dim=1)
    loss = torch.sum((powers @ coef_t - y_t) ** 2)
    loss.backward()
    return loss.item(), coef_t.grad.numpy()


def polynomial_descent(coef: Array, x: Array, y: Array, lr: float, steps: int
                       ) -> tuple[Array, Array]:
    """Gradient descent on :func:`polynomial_loss`, gradient by central differences.

    The loss is quadratic in ``coef``, so central differences are exact up to rounding.

    Parameters
    ----------
    coef : ndarray of shape (K,)
        Starting coefficients, constant term first.
    x : ndarray of shape (N,)
        Inputs.
    y : ndarray of shape (N,)
        Targets.
    lr : float
        Learning rate.
    steps : int
        Number of steps.

    Returns
    -------
    losses : ndarray of shape (steps,)
        The loss before each step.
    coef : ndarray of shape (K,)
        The coefficients after the last step.
    """
    coef = np.array(coef, dtype=float)
    losses = []
    for _ in range(steps):
        losses.append(polynomial_loss(coef, x, y))
        coef = coef - lr * numerical_gradient(lambda c: polynomial_loss(c, x, y), coef)
    return np.array(losses), coef


def check_autograd_step(student_step: Callable, cases: Iterable[tuple[Array, Array, Array, float]],
                        *, steps: int = 2, rtol: float = 1e-6, atol: float = 1e-6) -> None:
    """Run a student's ``step(params, x, y, lr)`` ``steps`` times and compare with descent.

    For each case the parameters become a list of 0-d float64 tensors with
    ``requires_grad=True`` and ``x``, ``y`` float64 tensors (built where the student's code
    runs, see :func:`~nncourse.grading.drivers.autograd_steps`). After every call the list must
    hold the same tensors (updated in place, still leaves that require a gradient), and every
    ``.grad`` must be None or zero; the returned losses and the final values must match
    :func:`polynomial_descent`. Calling twice catches gradients that are not reset.

    Parameters
    ----------
    student_step : callable
        ``student_step(params, x, y, lr)`` returns the loss before the update as a float.
    cases : iterable of (coef, x, y, lr)
        Starting coefficients (K,), inputs (N,), targets (N,), learning rate.
    steps : int, default 2
        Calls per case.
    rtol, atol : float
        Tolerances of the comparison.

    Raises
    ------
    AssertionError
        Naming the case, the call, and what went wrong.
    """
    for coef, x, y, lr in cases:
        where = f"autograd_step with coefficients {short_repr(np.asarray(coef))}, lr={lr}"
        run = autograd_run(student_step, coef, x, y, lr, steps)
        for call, report in enumerate(run["calls"], start=1):
            assert_step_report(report, f"{where}, call {call}")
        expected_losses, expected_coef = polynomial_descent(coef, x, y, lr, steps)
        assert_close(np.array([report["loss"] for report in run["calls"]]), expected_losses,
                     rtol=rtol, atol=atol, name=f"the losses returned by {steps} calls of {where}",
                     hint="return the loss computed before the update; a wrong second value "
                          "means the gradients were not reset (backward() adds to .grad)")
        assert_close(np.array(run["final"]), expected_coef, rtol=rtol, atol=atol,
                     name=f"the parameters after {steps} calls of {where}",
                     hint="p -= lr * p.grad inside `with torch.no_grad():`, then reset p.grad")


def autograd_run(student_step: Callable, coef: Any, x: Any, y: Any, lr: float,
                 steps: int) -> dict:
    """Call ``student_step(params, x, y, lr)`` ``steps`` times where it lives; report each call.

    ``params`` is a list of 0-d float64 tensors with ``requires_grad=True`` holding ``coef``,
    and ``x``, ``y`` float64 tensors (see :func:`~nncourse.grading.drivers.autograd_steps`).

    Returns
    -------
    dict
        ``calls``: per call ``what``, ``tensor``, ``loss`` (the returned float, or None),
        ``replaced``, ``not_leaf`` and ``grad_left``; ``final``: the coefficients at the end.
    """
    return beside(student_step, "autograd_steps", np.asarray(coef, dtype=np.float64),
                  np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), lr, steps)


def assert_step_report(report: dict, where: str, *, reset: bool = True) -> None:
    """Check one call of :func:`autograd_run`: a float returned, the tensors updated in place.

    Parameters
    ----------
    report : dict
        One entry of ``autograd_run(...)["calls"]``.
    where : str
        The call, as the message names it.
    reset : bool, default True
        Also require every ``.grad`` to be None or zero after the call.

    Raises
    ------
    AssertionError
        Saying what the call returned or did wrong, with a hint.
    """
    if report["tensor"]:
        _fail(f"{where} returned {report['what']}; return a Python float", "loss.item()")
    if report["loss"] is None:
        _fail(f"{where} returned {report['what']}; expected the loss as a float")
    if report["replaced"]:
        _fail(f"{where} replaced tensors in the list of parameters",
              "update each tensor in place (p -= ...) inside torch.no_grad(), so it stays the "
              "leaf that autograd fills")
    for index in report["not_leaf"]:
        _fail(f"{where}: params[{index}] no longer requires a gradient")
    for index in report["grad_left"] if reset else ():
        _fail(f"{where}: params[{index}].grad is not zero after the step",
              "reset the gradients after the update (p.grad = None or p.grad.zero_())")


def check_torch_loss(student_loss: Callable, reference_loss: Callable,
                     cases: Iterable[tuple[Array, Array]], *, name: str | None = None,
                     rtol: float = 1e-10, atol: float = 1e-12) -> None:
    """Compare a loss written with tensor operations with PyTorch's, value and gradient.

    Each case's prediction becomes a float64 tensor with ``requires_grad=True``; the student's
    result must be a one-element tensor whose ``backward()`` gives the same gradient w.r.t.
    the prediction as the reference's (both computed by
    :func:`~nncourse.grading.drivers.loss_value_and_grad`, each where its code lives).

    Parameters
    ----------
    student_loss : callable
        ``student_loss(prediction, target)`` returning a tensor.
    reference_loss : callable
        E.g. ``torch.nn.L1Loss(reduction="sum")``.
    cases : iterable of (prediction, target)
        ndarrays of the same shape; avoid ties (prediction == target), where the L1 loss
        has no derivative.
    name : str, optional
        The function's name in messages.
    rtol, atol : float
        Tolerances of the comparison.

    Raises
    ------
    AssertionError
        Naming the input, expected and got values.
    """
    name = name or getattr(student_loss, "__name__", "the loss")
    for prediction, target in cases:
        call = f"{name}({short_repr(np.asarray(prediction))}, {short_repr(np.asarray(target))})"
        got_value, got_grad = value_and_grad(student_loss, prediction, target, call)
        want_value, want_grad = value_and_grad(reference_loss, prediction, target, "reference")
        assert_close(got_value, want_value, rtol=rtol, atol=atol, name=call)
        assert_close(got_grad, want_grad, rtol=rtol, atol=atol,
                     name=f"the gradient of {call} w.r.t. the prediction")


def value_and_grad(loss_fn: Callable, prediction: Any, target: Any,
                   call: str | None = None) -> tuple[float, Array]:
    """A loss's value and its gradient w.r.t. the prediction, by autograd where it lives.

    ``prediction`` becomes a float64 tensor with ``requires_grad=True`` and ``target`` a
    float64 tensor; ``loss_fn(prediction, target)`` must return a one-element tensor that
    autograd can differentiate (see :func:`~nncourse.grading.drivers.loss_value_and_grad`).

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(prediction, target)``.
    prediction, target : array_like
        Of the same shape.
    call : str, optional
        How messages name the call; ``loss_fn(prediction, target)`` with the values by default.

    Returns
    -------
    value : float
    grad : ndarray shaped like ``prediction``

    Raises
    ------
    AssertionError
        When the result is not a tensor holding one number, or autograd cannot differentiate it.
    """
    prediction = np.asarray(prediction, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if call is None:
        name = getattr(loss_fn, "__name__", "the loss")
        call = f"{name}({short_repr(prediction)}, {short_repr(target)})"
    report = beside(loss_fn, "loss_value_and_grad", prediction, target)
    if not report["tensor"]:
        _fail(f"{call} returned {report['what']}; expected a tensor holding one number",
              "compute with tensor operations and do not call .item() or .numpy()")
    if not report["differentiable"]:
        _fail(f"{call}: autograd cannot differentiate the result",
              "stay with tensor operations on the prediction (no numpy, no .item(), no "
              ".detach())")
    return report["value"], report["grad"]


def _cubic_fit(model: Any, x: Array) -> Array:
    """``model`` run on the features ``(x, x², x³)`` in float32, as a float64 array."""
    features = polynomial_features(np.asarray(x), 3)[:, 1:].astype(np.float32)
    report = beside(model, "module_report", features)
    if not report["module"]:
        _fail(f"expected a torch.nn.Module, got {report['what']}")
    return report["output"]


def assert_fit(model: Any, x: Array, y: Array, *, max_error: float) -> None:
    """Check that ``model`` maps the features ``(x, x², x³)`` to within ``max_error`` of ``y``.

    Parameters
    ----------
    model : torch.nn.Module
        Takes a float32 tensor of shape (N, 3) and returns predictions of shape (N,).
    x : ndarray of shape (N,)
        Inputs.
    y : ndarray of shape (N,)
        Targets.
    max_error : float
        The largest ``|model − y|`` allowed.

    Raises
    ------
    AssertionError
        With the largest error and hints on the learning rate and the number of steps.
    """
    fit = _cubic_fit(model, x)
    if fit.shape != np.shape(y):
        _fail(f"model(features of shape {(len(x), 3)}): expected shape "
              f"{np.shape(y)}, got shape {fit.shape}", "end the model with nn.Flatten(0, 1)")
    worst = float(np.max(np.abs(fit - y))) if np.isfinite(fit).all() else float("inf")
    if not worst < max_error:
        _fail(f"the fit's largest error max|model(x) - y| = {worst:.4f} on {len(y)} points, "
              f"expected below {max_error}",
              "too few steps leaves the fit unfinished; too large a learning rate makes "
              "RMSprop jump around the minimum: plot the losses")


def assert_losses_recorded(losses: Any, steps: int, model: Any, x: Array,
                           y: Array) -> None:
    """Check a training run's list of losses: one per step, falling, ending at the model's.

    Parameters
    ----------
    losses : list of float
        The loss of every step, computed before its update.
    steps : int
        The number of steps the run was asked for.
    model : torch.nn.Module
        The trained model (features (x, x², x³) in float32 → predictions).
    x : ndarray of shape (N,)
        Inputs.
    y : ndarray of shape (N,)
        Targets.

    Raises
    ------
    AssertionError
        With what is wrong with the list.
    """
    values = np.asarray([float(value) for value in losses])
    if values.shape != (steps,):
        _fail(f"expected {steps} losses (one per step), got {values.shape[0]}")
    if not np.isfinite(values).all() or not values[-1] < values[0]:
        _fail(f"the losses went from {values[0]:.6g} to {values[-1]:.6g}; expected them "
              "to fall")
    final = float(np.sum((_cubic_fit(model, x) - np.asarray(y)) ** 2))
    if not abs(final - values[-1]) <= 0.05 * values[-1] + 1e-3:
        _fail(f"the last recorded loss is {values[-1]:.6g}, but the returned model's "
              f"sum-of-squares loss is {final:.6g}",
              "record loss.item() of every step, and return the model you trained")


def grads_without_zero_grad(w0: float, b0: float, x: Array, y: Array, lr: float
                            ) -> tuple[float, float]:
    """``w.grad`` and ``b.grad`` after two descent steps on ``Σ (w·x + b − y)²`` without zeroing.

    The reference of exercise 5, task 6: each step calls ``backward()``, which adds the new
    gradient to ``.grad``, then moves ``w`` and ``b`` by ``lr`` times the accumulated
    gradient; nothing resets ``.grad`` in between.

    Parameters
    ----------
    w0, b0 : float
        The starting weight and bias.
    x, y : array_like
        Inputs and targets, of the same shape.
    lr : float
        Learning rate.

    Returns
    -------
    tuple of float
        ``(w.grad, b.grad)`` after the second ``backward()``.
    """
    w = torch.tensor(float(w0), dtype=torch.float64, requires_grad=True)
    b = torch.tensor(float(b0), dtype=torch.float64, requires_grad=True)
    xt = torch.as_tensor(np.asarray(x, dtype=np.float64))
    yt = torch.as_tensor(np.asarray(y, dtype=np.float64))
    for _ in range(2):
        torch.sum((w * xt + b - yt) ** 2).backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
    return w.grad.item(), b.grad.item()
