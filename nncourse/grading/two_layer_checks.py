"""Reference answers of the exercises on the two-layer network (chapter 6: MNIST).

The tasks there pass the parameters as a dict ``{"W1", "b1", "W2", "b2"}`` instead of an
object. These functions give :class:`~nncourse.networks.TwoLayerNet` (sigmoid hidden layer,
float64) that interface, so a hidden test can compare a student's function with the course's
network, its numerical gradient, and its training loop (:func:`nncourse.training.train` with
:class:`~nncourse.optim.SGD`). The arguments are never changed.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from nncourse.networks import TwoLayerNet
from nncourse.optim import SGD
from nncourse.training import train

Array = NDArray[np.float64]
Params = dict[str, Array]
PARAM_NAMES = ("W1", "b1", "W2", "b2")
CASE_SIZES = ((1, 3, 2, 2), (6, 5, 4, 3), (50, 7, 5, 10))
"""(N, D, H, C) of :func:`random_cases`: a batch of one, a small batch, ten classes."""


def random_params(rng: np.random.Generator, input_size: int, hidden_size: int,
                  output_size: int, scale: float = 1.0) -> Params:
    """Gaussian parameters: weights ``scale·N(0, 1)``, biases ``N(0, 1)``.

    Parameters
    ----------
    rng : numpy.random.Generator
        The source of the random numbers.
    input_size, hidden_size, output_size : int
        D, H and C.
    scale : float, default 1.0
        Standard deviation of the weights; a large one gives large logits.

    Returns
    -------
    dict of str to ndarray
        ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,).
    """
    return {"W1": scale * rng.normal(size=(input_size, hidden_size)),
            "b1": rng.normal(size=hidden_size),
            "W2": scale * rng.normal(size=(hidden_size, output_size)),
            "b2": rng.normal(size=output_size)}


def random_cases(seed: int, *, one_hot: bool = False, scale: float = 1.0
                 ) -> list[tuple[Params, Array, Array]]:
    """Seeded ``(params, x, t)`` triples of the sizes :data:`CASE_SIZES`.

    Parameters
    ----------
    seed : int
        Seed of ``np.random.default_rng``.
    one_hot : bool, default False
        Targets as one-hot rows (N, C) instead of integer labels (N,).
    scale : float, default 1.0
        Standard deviation of the weights (see :func:`random_params`).

    Returns
    -------
    list of (dict, ndarray of shape (N, D), ndarray of shape (N,) or (N, C))

    Examples
    --------
    >>> [(x.shape, t.shape) for _, x, t in random_cases(0, one_hot=True)][1]
    ((6, 5), (6, 3))
    """
    rng = np.random.default_rng(seed)
    cases = []
    for n, d, h, c in CASE_SIZES:
        labels = rng.integers(0, c, size=n)
        params = random_params(rng, d, h, c, scale)
        cases.append((params, rng.normal(size=(n, d)), np.eye(c)[labels] if one_hot else labels))
    return cases


def network(params: Params) -> TwoLayerNet:
    """A float64 sigmoid :class:`TwoLayerNet` holding copies of ``params``.

    Parameters
    ----------
    params : dict of str to ndarray
        ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,).

    Returns
    -------
    TwoLayerNet

    Raises
    ------
    ValueError
        When a key is missing or the shapes do not fit together.

    Examples
    --------
    >>> params = {"W1": np.ones((3, 2)), "b1": np.zeros(2), "W2": np.ones((2, 4)),
    ...           "b2": np.zeros(4)}
    >>> network(params).predict(np.zeros((1, 3)))
    array([[1., 1., 1., 1.]])
    """
    missing = [name for name in PARAM_NAMES if name not in params]
    if missing:
        raise ValueError(f"params must have the keys {PARAM_NAMES}, missing {missing}")
    (D, H), C = np.shape(params["W1"]), np.shape(params["W2"])[1]
    expected = {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}
    for name, shape in expected.items():
        if np.shape(params[name]) != shape:
            raise ValueError(f"params[{name!r}] must have shape {shape} to fit W1 {(D, H)} "
                             f"and W2 {np.shape(params['W2'])}, got {np.shape(params[name])}")
    net = TwoLayerNet(D, H, C)
    net.params = {name: np.array(params[name], dtype=np.float64) for name in PARAM_NAMES}
    return net


def predict(params: Params, x: Array) -> Array:
    """Logits ``σ(x·W1 + b1)·W2 + b2`` of a batch ``x`` of shape (N, D); shape (N, C)."""
    return network(params).predict(x)


def loss(params: Params, x: Array, t: Array) -> float:
    """Mean softmax cross-entropy ``−(1/N)·Σ_n log softmax(logits_n)[t_n]``; t labels or one-hot."""
    return network(params).loss(x, t)


def accuracy(params: Params, x: Array, t: Array) -> float:
    """Fraction of the batch whose largest logit is the true class; t labels or one-hot."""
    return network(params).accuracy(x, t)


def gradient(params: Params, x: Array, t: Array) -> Params:
    """Backprop gradient of :func:`loss` w.r.t. each parameter, from ``TwoLayerNet.gradient``."""
    return network(params).gradient(x, t)


def numerical_gradient(params: Params, x: Array, t: Array) -> Params:
    """Central-difference gradient of :func:`loss` w.r.t. each parameter (slow: small nets)."""
    return network(params).numerical_gradient(x, t)


def train_sgd(params: Params, x: Array, t: Array, lr: float, batch_size: int, epochs: int,
              seed: int) -> tuple[Params, Array]:
    """Mini-batch SGD from ``params``, shuffling with ``np.random.default_rng(seed)``.

    Every epoch takes ``rng.permutation(N)`` and visits its consecutive slices of
    ``batch_size`` (the last one may be shorter): loss of the batch, then
    ``θ ← θ − lr·∂L/∂θ`` for every parameter.

    Parameters
    ----------
    params : dict of str to ndarray
        The starting ``W1``, ``b1``, ``W2``, ``b2`` (not changed).
    x : ndarray of shape (N, D)
        Training inputs.
    t : ndarray of shape (N,) or (N, C)
        Labels or one-hot targets.
    lr : float
        Learning rate.
    batch_size : int
        Samples per mini-batch.
    epochs : int
        Passes over the data.
    seed : int
        Seed of the shuffling.

    Returns
    -------
    params : dict of str to ndarray
        The trained parameters.
    losses : ndarray of shape (epochs * ceil(N / batch_size),)
        The loss of every mini-batch, before its update.
    """
    net = network(params)
    history = train(net, SGD(lr=lr), x, t, epochs=epochs, batch_size=batch_size, seed=seed,
                    progress=False)
    return net.params, np.array(history.loss)


def gradient_with_decay(params: Params, x: Array, t: Array, weight_decay: float) -> Params:
    """Gradient of ``loss + (λ/2)·(‖W1‖² + ‖W2‖²)``: :func:`gradient` plus ``λ·W`` on the weights.

    The reference of exercise 6, task 7: the L2 penalty covers the weight matrices only, so
    the biases' gradients are those of :func:`gradient`.
    """
    grads = gradient(params, x, t)
    return {key: grads[key] + weight_decay * params[key] if key.startswith("W") else grads[key]
            for key in grads}
