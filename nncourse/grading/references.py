"""Reference answers of exercise tasks that have no single nncourse function of their own.

Each is put together from the package's tested functions (losses, numerical gradients,
layers, worked examples) rather than re-deriving the formula a task asks for, so a hidden
test compares a student's derivation with an independent computation. Hidden test cells
import this module; students' answers may not (``assert_written_by_hand`` refuses
``nncourse``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from nncourse.functions import sigmoid
from nncourse.gradients import numerical_gradient
from nncourse.layers import Affine
from nncourse.losses import mean_squared_error, softmax_cross_entropy_grad, sum_squared_error
from nncourse.worked_examples import line_fit_steps, tiny_network, tiny_network_step

Array = NDArray[np.float64]


def plane_loss(X: Array, y: Array, w1: float, w2: float, b: float) -> float:
    """Half the mean squared error of the plane ``z = w1·x1 + w2·x2 + b``: ``½·mean((z − y)²)``.

    Parameters
    ----------
    X : ndarray of shape (N, 2)
        Inputs, one point (x1, x2) per row.
    y : ndarray of shape (N,)
        Targets.
    w1 : float
        Weight of x1.
    w2 : float
        Weight of x2.
    b : float
        Bias.

    Returns
    -------
    float
    """
    return 0.5 * mean_squared_error(X @ np.array([w1, w2]) + b, y)


def plane_step(X: Array, y: Array, w1: float, w2: float, b: float, lr: float
               ) -> tuple[float, float, float]:
    """One gradient-descent step on :func:`plane_loss`, gradient by central differences.

    Parameters
    ----------
    X : ndarray of shape (N, 2)
        Inputs, one point (x1, x2) per row.
    y : ndarray of shape (N,)
        Targets.
    w1 : float
        Weight of x1.
    w2 : float
        Weight of x2.
    b : float
        Bias.
    lr : float
        Learning rate.

    Returns
    -------
    tuple of 3 floats
        ``(w1, w2, b) − lr·∇L(w1, w2, b)``.
    """
    params = np.array([w1, w2, b], dtype=float)
    gradient = numerical_gradient(lambda p: plane_loss(X, y, *p), params)
    return tuple(float(value) for value in params - lr * gradient)


def plane_descent(X: Array, y: Array, init: tuple[float, float, float], lr: float,
                  step_num: int) -> Array:
    """Every point of ``step_num`` steps of :func:`plane_step` from ``init``.

    Parameters
    ----------
    X : ndarray of shape (N, 2)
        Inputs, one point (x1, x2) per row.
    y : ndarray of shape (N,)
        Targets.
    init : tuple of 3 floats
        The starting ``(w1, w2, b)``.
    lr : float
        Learning rate.
    step_num : int
        Number of steps.

    Returns
    -------
    ndarray of shape (step_num + 1, 3)
        Row k holds ``(w1, w2, b)`` after k steps.
    """
    path = [tuple(float(value) for value in init)]
    for _ in range(step_num):
        path.append(plane_step(X, y, *path[-1], lr))
    return np.array(path)


def sgd_line(x: Array, y: Array, w: float, b: float, lr: float) -> list[tuple[float, float]]:
    """``(w, b)`` after each SGD step on ``(w·x_i + b − y_i)²``, one sample at a time.

    Parameters
    ----------
    x : ndarray of shape (N,)
        Inputs of the samples, used in order.
    y : ndarray of shape (N,)
        Targets of the samples.
    w : float
        The starting weight.
    b : float
        The starting bias.
    lr : float
        Learning rate.

    Returns
    -------
    list of N tuples (w, b)
    """
    steps = line_fit_steps(w, b, lr, list(zip(x, y, strict=True)))
    return [(step["w_new"], step["b_new"]) for step in steps]


def weight_gradient(W: Array, x: Array, t: Array) -> Array:
    """Gradient of ``softmax_cross_entropy(x @ W, t)`` w.r.t. ``W``: ``xᵀ·(softmax − onehot)/N``.

    Parameters
    ----------
    W : ndarray of shape (D, C)
        Weights.
    x : ndarray of shape (N, D)
        A batch of inputs.
    t : ndarray of int labels (N,) or one-hot (N, C)
        Targets.

    Returns
    -------
    ndarray of shape (D, C)
    """
    return x.T @ softmax_cross_entropy_grad(x @ W, t)


def affine_backward(dout: Array, x: Array, W: Array) -> tuple[Array, Array, Array]:
    """``(dx, dW, db)`` of an :class:`~nncourse.layers.Affine` layer for upstream ``dout``.

    Parameters
    ----------
    dout : ndarray of shape (N, M)
        dL/dout, the gradient arriving from above.
    x : ndarray of shape (N, D)
        The layer's input in the forward pass.
    W : ndarray of shape (D, M)
        The layer's weights.

    Returns
    -------
    dx : ndarray of shape (N, D)
    dW : ndarray of shape (D, M)
    db : ndarray of shape (M,)
    """
    layer = Affine(W, np.zeros(W.shape[1]))
    layer.forward(x)
    dx = layer.backward(dout)
    return dx, layer.dW, layer.db


def network_forward(x: Array, W1: Array, b1: Array, W2: Array, b2: Array) -> tuple[Array, Array]:
    """``h = σ(x·W1 + b1)``, ``o = σ(h·W2 + b2)`` of a two-layer sigmoid network."""
    h = sigmoid(x @ W1 + b1)
    return h, sigmoid(h @ W2 + b2)


def network_gradients(x: Array, t: Array, W1: Array, b1: Array, W2: Array, b2: Array
                      ) -> tuple[Array, Array]:
    """``(dE/dW1, dE/dW2)`` of ``E = ½·Σ(t − o)²`` by central differences.

    Parameters
    ----------
    x : ndarray of shape (D,)
        One input sample.
    t : ndarray of shape (C,)
        Its target.
    W1 : ndarray of shape (D, H)
        Hidden-layer weights.
    b1 : ndarray of shape (H,)
        Hidden-layer biases.
    W2 : ndarray of shape (H, C)
        Output-layer weights.
    b2 : ndarray of shape (C,)
        Output-layer biases.

    Returns
    -------
    tuple of ndarrays shaped like W1 and W2
    """
    def error(A: Array, B: Array) -> float:
        return sum_squared_error(network_forward(x, A, b1, B, b2)[1], t)

    return (numerical_gradient(lambda A: error(A, W2), W1.copy()),
            numerical_gradient(lambda B: error(W1, B), W2.copy()))


def network_step(x: Array, t: Array, W1: Array, b1: Array, W2: Array, b2: Array, lr: float
                 ) -> tuple[Array, Array]:
    """``(W1 − lr·dE/dW1, W2 − lr·dE/dW2)`` with :func:`network_gradients`; biases fixed."""
    dW1, dW2 = network_gradients(x, t, W1, b1, W2, b2)
    return W1 - lr * dW1, W2 - lr * dW2


def _as_matrices(values: dict[str, float]) -> tuple[Array, Array]:
    """Post 004's w1…w8 as ``(W1, W2)`` with ``W[i, j]`` from neuron i to neuron j."""
    W1 = np.array([[values["w1"], values["w3"]], [values["w2"], values["w4"]]])
    W2 = np.array([[values["w5"], values["w7"]], [values["w6"], values["w8"]]])
    return W1, W2


def tiny_network_arrays() -> tuple[Array, Array, Array, Array, Array, Array]:
    """Post 004's 2-2-2 network as arrays ``(x, t, W1, b1, W2, b2)``."""
    net = tiny_network()
    W1, W2 = _as_matrices(net)
    return (np.array([net["i1"], net["i2"]]), np.array([net["t1"], net["t2"]]),
            W1, np.full(2, net["b1"]), W2, np.full(2, net["b2"]))


def tiny_network_gradients() -> tuple[Array, Array]:
    """The published ``(dE/dW1, dE/dW2)`` of the 2-2-2 network (from the worked example)."""
    return _as_matrices(tiny_network_step()["dE_dw"])


def tiny_network_updated(lr: float = 0.5) -> tuple[Array, Array]:
    """``(W1, W2)`` after the worked example's gradient-descent step with rate ``lr``."""
    return _as_matrices(tiny_network_step(lr)["w_new"])


def network_batch_gradients(X: Array, T: Array, W1: Array, b1: Array, W2: Array, b2: Array
                            ) -> tuple[Array, Array, Array, Array]:
    """``(dE/dW1, dE/db1, dE/dW2, dE/db2)`` of ``E = ½·Σ(T − O)²`` over a batch, numerically.

    Parameters
    ----------
    X : ndarray of shape (N, D)
        A batch of inputs.
    T : ndarray of shape (N, C)
        Their targets.
    W1, b1, W2, b2 : ndarrays of shapes (D, H), (H,), (H, C), (C,)
        The two-layer sigmoid network's parameters.

    Returns
    -------
    tuple of ndarrays shaped like W1, b1, W2 and b2
    """
    params = [W1, b1, W2, b2]

    def error_with(index: int, value: Array) -> float:
        args = [value if i == index else p for i, p in enumerate(params)]
        return sum_squared_error(network_forward(X, *args)[1], T)

    return tuple(numerical_gradient(lambda v, i=i: error_with(i, v), p.astype(float))
                 for i, p in enumerate(params))


def plane_lr_limit(X: Array) -> float:
    """``2 / λmax`` of the Hessian of :func:`plane_loss`: above it, gradient descent diverges.

    The loss is quadratic in ``(w1, w2, b)`` with Hessian ``Aᵀ·A / N``, where ``A``
    is ``X`` with a column of ones appended (for the bias).

    Parameters
    ----------
    X : ndarray of shape (N, 2)
        The inputs.

    Returns
    -------
    float
    """
    A = np.column_stack([X, np.ones(len(X))])
    return float(2.0 / np.linalg.eigvalsh(A.T @ A / len(X)).max())


def plane_diverging(X: Array, lrs: list[float]) -> list[bool]:
    """For each learning rate, whether gradient descent on :func:`plane_loss` diverges."""
    limit = plane_lr_limit(X)
    return [bool(lr > limit) for lr in lrs]


def sin_difference_errors(x: float, hs: list[float]) -> Array:
    """``|(sin(x + h) − sin(x − h)) / 2h − cos x|`` for each step ``h`` in ``hs``."""
    hs = np.asarray(hs, dtype=float)
    return np.abs((np.sin(x + hs) - np.sin(x - hs)) / (2 * hs) - np.cos(x))


def sin_best_step(x: float) -> float:
    """The step of the smallest central-difference error of sin at ``x``, in theory.

    The formula's error is about ``h²·|sin'''(x)| / 6`` and the rounding error about
    ``ε·|sin x| / h`` (``ε`` = 2.2e-16); their sum is smallest at
    ``h = (3ε·|sin x| / |cos x|)^(1/3)``.
    """
    return float((3 * np.finfo(float).eps * abs(np.sin(x)) / abs(np.cos(x))) ** (1 / 3))
