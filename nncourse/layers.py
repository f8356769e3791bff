"""Layers with a ``forward`` and a ``backward`` pass, the building blocks of backprop.

Each layer is a small object: ``forward`` computes its output and keeps what the local
derivative needs; ``backward`` receives ``dout`` (dLoss/dOutput, shaped like the output) and
returns ``dx`` (dLoss/dInput, shaped like the input). Chaining ``backward`` calls in reverse
order is the chain rule. Layers with parameters also store their gradients (``dW``, ``db``).

All arithmetic happens in the dtype of the layer's parameters, so a float32 network stays
float32 end to end (and a float64 one stays exact enough for gradient checks).
"""

from __future__ import annotations

from numbers import Real

import numpy as np

from nncourse.functions import relu, relu_grad, sigmoid
from nncourse.losses import softmax_cross_entropy, softmax_cross_entropy_grad


class Affine:
    """Fully connected layer: ``out = x @ W + b``.

    Parameters
    ----------
    W : ndarray of shape (D, M)
        Weights. The layer keeps a reference, not a copy: an optimizer that updates the
        array in place updates the layer.
    b : ndarray of shape (M,)
        Biases.

    Attributes
    ----------
    dW : ndarray of shape (D, M) or None
        dLoss/dW from the last ``backward`` call.
    db : ndarray of shape (M,) or None
        dLoss/db from the last ``backward`` call.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Affine(np.ones((3, 2)), np.array([0.0, 1.0]))
    >>> layer.forward(np.array([[1.0, 2.0, 3.0]]))
    array([[6., 7.]])
    >>> layer.backward(np.array([[1.0, 1.0]]))
    array([[2., 2., 2.]])
    >>> layer.dW
    array([[1., 1.],
           [2., 2.],
           [3., 3.]])
    """

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        if not isinstance(W, np.ndarray) or W.ndim != 2:
            raise ValueError(f"W must be a 2-D numpy array of shape (D, M), got {_describe(W)}")
        if not isinstance(b, np.ndarray) or b.shape != (W.shape[1],):
            raise ValueError(f"b must be a numpy array of shape ({W.shape[1]},) to match W "
                             f"of shape {W.shape}, got {_describe(b)}")
        self.W = W
        self.b = b
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None
        self._x: np.ndarray | None = None
        self._x_shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Compute ``x @ W + b``.

        Parameters
        ----------
        x : ndarray of shape (N, D) or (N, d1, d2, ...) with d1*d2*... == D
            A batch of inputs; extra axes (e.g. images (N, 1, 28, 28)) are flattened.
            ``x`` is converted to W's dtype (numpy's matmul of mixed dtypes skips BLAS and
            is an order of magnitude slower).

        Returns
        -------
        ndarray of shape (N, M)
        """
        x = np.asarray(x)
        if x.ndim < 2 or int(np.prod(x.shape[1:])) != self.W.shape[0]:
            raise ValueError(f"x must have shape (N, {self.W.shape[0]}) or (N, ...) with "
                             f"{self.W.shape[0]} features per sample, got shape {x.shape}")
        self._x_shape = x.shape
        self._x = x.reshape(x.shape[0], -1).astype(self.W.dtype, copy=False)
        return self._x @ self.W + self.b

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Propagate ``dout`` back: ``dx = dout @ W.T``, ``dW = x.T @ dout``, ``db = Σ_n dout``.

        Parameters
        ----------
        dout : ndarray of shape (N, M)
            dLoss/dOut.
        input_grad : bool, default True
            False skips ``dx`` (a third of the layer's work) when no layer below needs it,
            e.g. in a network's first layer, whose input is data (PyTorch skips it too).

        Returns
        -------
        dx : ndarray shaped like the input of ``forward``, or None if not ``input_grad``
            dLoss/dx. Also stores ``self.dW`` (D, M) and ``self.db`` (M,).
        """
        x = _cached(self._x, self)
        self.dW = x.T @ dout
        self.db = dout.sum(axis=0)
        if not input_grad:
            return None
        return (dout @ self.W.T).reshape(self._x_shape)


class Sigmoid:
    """Logistic activation: ``out = 1 / (1 + exp(-x))``, ``dx = dout · out · (1 − out)``.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Sigmoid()
    >>> layer.forward(np.array([0.0]))
    array([0.5])
    >>> layer.backward(np.array([1.0]))
    array([0.25])
    """

    def __init__(self) -> None:
        self._out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Return ``sigmoid(x)`` (any shape) and keep it: the derivative needs only the output."""
        self._out = sigmoid(x)
        return self._out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return ``dout · out · (1 − out)``, shaped like ``dout``."""
        out = _cached(self._out, self)
        return dout * out * (1.0 - out)


class ReLU:
    """Rectified linear unit: ``out = max(0, x)``, ``dx = dout`` where ``x > 0`` else 0.

    Examples
    --------
    >>> import numpy as np
    >>> layer = ReLU()
    >>> layer.forward(np.array([-1.0, 2.0]))
    array([0., 2.])
    >>> layer.backward(np.array([5.0, 5.0]))
    array([0., 5.])
    """

    def __init__(self) -> None:
        self._local_grad: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Return ``max(0, x)`` (any shape) and keep the local derivative (1 where x > 0)."""
        x = np.asarray(x)
        self._local_grad = relu_grad(x).astype(x.dtype, copy=False)
        return relu(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return ``dout`` with the entries where ``x <= 0`` set to 0."""
        return dout * _cached(self._local_grad, self)


class Dropout:
    """Inverted dropout: in training, zero each entry with probability ``p`` and scale the rest.

    Training: ``out = x · m / (1 − p)`` with ``m`` a fresh random 0/1 mask (1 with probability
    ``1 − p``) per call, so that ``E[out] = x``; ``dx = dout · m / (1 − p)``. Evaluation:
    ``out = x`` and ``dx = dout``, nothing to rescale. This is ``torch.nn.Dropout(p)``; its
    masks come from torch's generator, these from numpy's, so only the formulas agree.

    Parameters
    ----------
    p : float, default 0.5
        Probability of dropping an entry, in [0, 1).
    seed : int or None, default None
        Seed of the layer's ``np.random.default_rng``: the same seed gives the same masks.

    Attributes
    ----------
    mask : ndarray or None
        ``m / (1 − p)`` of the last training-mode ``forward`` (shaped like its input), or None
        after an evaluation-mode one.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Dropout(p=0.5, seed=0)
    >>> out = layer.forward(np.ones((2, 4)))
    >>> sorted(set(out.ravel().tolist()))   # dropped, or kept and doubled
    [0.0, 2.0]
    >>> np.array_equal(layer.backward(np.ones((2, 4))), out)
    True
    >>> layer.forward(np.ones(3), train=False)
    array([1., 1., 1.])
    """

    def __init__(self, p: float = 0.5, seed: int | None = None) -> None:
        if not isinstance(p, Real) or isinstance(p, bool) or not 0 <= p < 1:
            raise ValueError(f"p must be a number in [0, 1), got {p!r}")
        self.p = float(p)
        self.rng = np.random.default_rng(seed)
        self.mask: np.ndarray | None = None
        self._called = False

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        """Apply dropout (``train=True``) or pass ``x`` through unchanged (``train=False``).

        Parameters
        ----------
        x : ndarray of any shape
            The input, e.g. a batch of hidden activations (N, H).
        train : bool, default True
            Training mode draws a new mask; evaluation mode is the identity.

        Returns
        -------
        ndarray shaped and typed like ``x``
        """
        x = np.asarray(x)
        self._called = True
        if not train or self.p == 0:
            self.mask = None
            return x
        keep = self.rng.random(x.shape) >= self.p
        self.mask = (keep / (1.0 - self.p)).astype(x.dtype, copy=False)
        return x * self.mask

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return ``dout · m / (1 − p)`` with the last forward's mask, or ``dout`` in evaluation."""
        if not self._called:
            raise RuntimeError("Dropout.backward was called before forward")
        return dout if self.mask is None else dout * self.mask


class SoftmaxWithLoss:
    """Softmax followed by the cross-entropy loss, fused: its gradient is simply ``(y − t)/N``.

    Examples
    --------
    >>> import numpy as np
    >>> layer = SoftmaxWithLoss()
    >>> round(layer.forward(np.array([[0.0, 0.0]]), np.array([1])), 6)   # log 2
    0.693147
    >>> layer.backward()
    array([[ 0.5, -0.5]])
    """

    def __init__(self) -> None:
        self._logits: np.ndarray | None = None
        self._t: np.ndarray | None = None

    def forward(self, x: np.ndarray, t: np.ndarray) -> float:
        """Mean cross-entropy of ``softmax(x)`` against ``t``: ``−(1/N) Σ_n log softmax(x_n)[t_n]``.

        Parameters
        ----------
        x : ndarray of shape (N, C) or (C,)
            Logits (scores before softmax).
        t : ndarray of shape (N,) or (), or shaped like ``x``
            Integer class labels, or one-hot targets.

        Returns
        -------
        float
            The loss, averaged over the batch.
        """
        self._logits = np.asarray(x)
        self._t = np.asarray(t)
        return softmax_cross_entropy(self._logits, self._t)

    def backward(self, dout: float = 1.0) -> np.ndarray:
        """Return ``dout · (softmax(x) − onehot(t)) / N``, shaped and typed like the logits."""
        logits = _cached(self._logits, self)
        dx = softmax_cross_entropy_grad(logits, self._t) * dout
        return dx.astype(logits.dtype, copy=False)


def _cached(value: np.ndarray | None, layer: object) -> np.ndarray:
    """Return what ``forward`` cached, or explain that ``forward`` must run first."""
    if value is None:
        raise RuntimeError(f"{type(layer).__name__}.backward was called before forward")
    return value


def _describe(value: object) -> str:
    """A short description of a wrong argument for error messages."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"{type(value).__name__}"
