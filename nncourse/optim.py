"""Optimizers: each turns gradients into an in-place update of a dict of parameter arrays.

Every class follows ``torch.optim`` exactly (formulas, defaults, where epsilon goes), so a
network trained here and the same network trained in PyTorch follow the same trajectory.
The formulas of *Deep Learning from Scratch* (DLFS) and of the course's source posts are
written differently in places; each class says where and what it changes:

- Momentum: ``Δw ← μ·Δw − lr·g; w ← w + Δw`` (DLFS, who calls the velocity ``Δw`` ``v``;
  post 004 corrected) is the same trajectory as torch's ``u ← μ·u + g; w ← w − lr·u``
  (``u`` is the momentum buffer) while lr is constant, because ``Δw = −lr·u``.
- AdaGrad / RMSprop: DLFS adds 1e-7 to ``sqrt(r)`` (``r``: the sum or average of squared
  gradients), torch adds ``eps`` (1e-10 / 1e-8) at the same place; the steps differ only
  where ``sqrt(r)`` is not much larger than 1e-7.
- Adam: DLFS folds the bias corrections into the step size, which amounts to torch's formula
  with ``eps`` replaced by ``1e-7 / sqrt(1 − β2^t)``; same trajectory unless gradients are tiny.

State (velocities, running averages, step counts) is created lazily, per parameter name, on
the first ``update``, like ``torch.optim``'s per-parameter state.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np


class Optimizer:
    """Base class: checks the arguments of ``update`` and applies ``_step`` to each parameter.

    Subclasses implement ``_step(name, param, grad)``, which changes ``param`` in place.
    """

    def __init__(self, lr: float) -> None:
        _check_positive("lr", lr)
        self.lr = lr
        self.state: dict[str, dict] = {}

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Update every array of ``params`` in place using ``grads``.

        Parameters
        ----------
        params : dict of str to ndarray
            The parameters, e.g. ``network.params``; the arrays themselves are modified.
        grads : dict of str to ndarray
            Gradients with (at least) the keys of ``params``, each shaped like its parameter.
        """
        missing = [name for name in params if name not in grads]
        if missing:
            raise KeyError(f"grads has no entry for the parameters {missing}")
        for name, param in params.items():
            grad = np.asarray(grads[name])
            if not isinstance(param, np.ndarray):
                raise TypeError(f"params[{name!r}] must be a numpy array (it is updated in "
                                f"place), got {type(param).__name__}")
            if grad.shape != param.shape:
                raise ValueError(f"grads[{name!r}] has shape {grad.shape}, expected the shape "
                                 f"of params[{name!r}], {param.shape}")
            self._step(name, param, grad)

    def _step(self, name: str, param: np.ndarray, grad: np.ndarray) -> None:
        raise NotImplementedError

    def _state_for(self, name: str, param: np.ndarray, *buffers: str) -> dict:
        """The state of one parameter, with its buffers created as zeros on first use."""
        if name not in self.state:
            self.state[name] = {key: np.zeros_like(param) for key in buffers}
        return self.state[name]

    def __repr__(self) -> str:
        settings = ", ".join(f"{key}={value!r}" for key, value in vars(self).items()
                             if key != "state")
        return f"{type(self).__name__}({settings})"


class SGD(Optimizer):
    """Plain stochastic gradient descent: ``w ← w − lr·g`` (``torch.optim.SGD(lr=lr)``).

    Parameters
    ----------
    lr : float, default 1e-3
        Learning rate (torch's default; DLFS uses 0.01, the course's MNIST runs 0.1).

    Examples
    --------
    >>> import numpy as np
    >>> params = {"w": np.array([1.0, 2.0])}
    >>> SGD(lr=0.1).update(params, {"w": np.array([1.0, -1.0])})
    >>> params["w"]
    array([0.9, 2.1])
    """

    def __init__(self, lr: float = 1e-3) -> None:
        super().__init__(lr)

    def _step(self, name: str, param: np.ndarray, grad: np.ndarray) -> None:
        param -= self.lr * grad


class Momentum(Optimizer):
    """SGD with momentum: ``u ← μ·u + g; w ← w − lr·u``, the buffer ``u`` starting at 0.

    This is ``torch.optim.SGD(lr=lr, momentum=μ)`` (dampening 0, no Nesterov).

    The classic form ``Δw ← μ·Δw − lr·g; w ← w + Δw`` (DLFS, whose code calls ``Δw`` ``v``;
    post 004 once corrected) keeps the step instead of the gradient sum; with ``Δw = −lr·u``
    both lines are the same recursion, so trajectories agree to rounding while lr is
    constant. They part when lr changes during training: torch applies the new lr to the
    whole buffer at once, the classic ``Δw`` still carries steps taken with the old lr.

    Post 004's ``d ← β·d + (1 − β)·g`` (``d`` starting at 0) is an exponential average. In
    torch, ``dampening=τ`` makes the buffer ``u ← μ·u + (1 − τ)·g``, so the average is
    ``SGD(momentum=β, dampening=β)``, not ``dampening = 1 − β``, except that torch does not
    dampen the first step: ``u_1 = g_1`` where ``d_1 = (1 − β)·g_1``, and
    ``u_t = d_t + β^t·g_1`` from then on. On a steady gradient the average's steps are
    ``1 − β`` times as long as this class's with the same lr.

    Parameters
    ----------
    lr : float, default 1e-2
        Learning rate (torch.optim.SGD's default is 1e-3; 1e-2 follows DLFS).
    momentum : float, default 0.9
        μ, in [0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> params, grads = {"w": np.array([0.0])}, {"w": np.array([1.0])}
    >>> opt = Momentum(lr=0.1, momentum=0.9)
    >>> opt.update(params, grads); opt.update(params, grads)
    >>> params["w"]   # −0.1·1 then −0.1·(0.9·1 + 1)
    array([-0.29])
    """

    def __init__(self, lr: float = 1e-2, momentum: float = 0.9) -> None:
        super().__init__(lr)
        _check_fraction("momentum", momentum)
        self.momentum = momentum

    def _step(self, name: str, param: np.ndarray, grad: np.ndarray) -> None:
        buf = self._state_for(name, param, "momentum_buffer")["momentum_buffer"]
        buf *= self.momentum
        buf += grad
        param -= self.lr * buf


class AdaGrad(Optimizer):
    """AdaGrad: ``r ← r + g²; w ← w − lr·g / (sqrt(r) + eps)`` (``torch.optim.Adagrad``).

    Each weight's step shrinks with the sum of its squared gradients. DLFS writes the same
    formula with ``1e-7`` in place of ``eps``; post 004 uses ``1e-6``. Only the first steps of
    weights whose gradients are ~1e-7 or smaller feel the difference: the relative change of
    a step is about ``(1e-7 − eps) / sqrt(r)``.

    Parameters
    ----------
    lr : float, default 1e-2
    eps : float, default 1e-10
        Added to ``sqrt(r)``, outside the square root, as torch does.

    Examples
    --------
    >>> import numpy as np
    >>> params = {"w": np.array([1.0, 1.0])}
    >>> AdaGrad(lr=0.1).update(params, {"w": np.array([4.0, -0.5])})
    >>> params["w"]   # the first step is lr·sign(g), whatever the size of g
    array([0.9, 1.1])
    """

    def __init__(self, lr: float = 1e-2, eps: float = 1e-10) -> None:
        super().__init__(lr)
        _check_positive("eps", eps)
        self.eps = eps

    def _step(self, name: str, param: np.ndarray, grad: np.ndarray) -> None:
        state_sum = self._state_for(name, param, "sum")["sum"]
        state_sum += grad * grad
        param -= self.lr * grad / (np.sqrt(state_sum) + self.eps)


class RMSprop(Optimizer):
    """RMSprop: ``r ← α·r + (1 − α)·g²; w ← w − lr·g / (sqrt(r) + eps)`` (``torch.optim.RMSprop``).

    AdaGrad with a forgetting running average instead of a growing sum. DLFS uses the same
    formula with ``1e-7`` in place of ``eps``, so the trajectories agree unless ``sqrt(r)`` is
    near 1e-7 (relative change of a step ≈ ``(1e-7 − eps) / sqrt(r)``).

    Parameters
    ----------
    lr : float, default 1e-2
    alpha : float, default 0.99
        Decay of the running average of squared gradients, in [0, 1).
    eps : float, default 1e-8
        Added to ``sqrt(r)``, outside the square root, as torch does.
    """

    def __init__(self, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8) -> None:
        super().__init__(lr)
        _check_fraction("alpha", alpha)
        _check_positive("eps", eps)
        self.alpha = alpha
        self.eps = eps

    def _step(self, name: str, param: np.ndarray, grad: np.ndarray) -> None:
        square_avg = self._state_for(name, param, "square_avg")["square_avg"]
        square_avg *= self.alpha
        square_avg += (1.0 - self.alpha) * grad * grad
        param -= self.lr * grad / (np.sqrt(square_avg) + self.eps)


class Adam(Optimizer):
    """Adam with bias correction, as ``torch.optim.Adam``.

    ``m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;
    w ← w − lr/(1 − β1^t) · m / (sqrt(v)/sqrt(1 − β2^t) + eps)``, t = 1, 2, ...

    DLFS writes ``lr_t = lr·sqrt(1 − β2^t)/(1 − β1^t); w ← w − lr_t·m/(sqrt(v) + 1e-7)``.
    Multiplying out shows this is torch's formula with ``eps`` replaced by
    ``1e-7/sqrt(1 − β2^t)`` (3.2e-6 at t = 1, falling to 1e-7): the trajectories match
    unless ``sqrt(v̂)`` is within a few orders of magnitude of that, i.e. for tiny gradients.

    Parameters
    ----------
    lr : float, default 1e-3
    beta1 : float, default 0.9
        Decay of the running mean of gradients, in [0, 1).
    beta2 : float, default 0.999
        Decay of the running mean of squared gradients, in [0, 1).
    eps : float, default 1e-8
        Added to the bias-corrected ``sqrt(v)``.

    Examples
    --------
    >>> import numpy as np
    >>> params = {"w": np.array([1.0])}
    >>> Adam(lr=0.1).update(params, {"w": np.array([123.0])})
    >>> params["w"]   # the bias-corrected first step is about lr·sign(g)
    array([0.9])
    """

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8) -> None:
        super().__init__(lr)
        _check_fraction("beta1", beta1)
        _check_fraction("beta2", beta2)
        _check_positive("eps", eps)
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps

    def _step(self, name: str, param: np.ndarray, grad: np.ndarray) -> None:
        state = self._state_for(name, param, "exp_avg", "exp_avg_sq")
        state["step"] = state.get("step", 0) + 1
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= self.beta1
        m += (1.0 - self.beta1) * grad
        v *= self.beta2
        v += (1.0 - self.beta2) * grad * grad
        bias_correction1 = 1.0 - self.beta1 ** state["step"]
        bias_correction2_sqrt = math.sqrt(1.0 - self.beta2 ** state["step"])
        step_size = self.lr / bias_correction1
        param -= step_size * m / (np.sqrt(v) / bias_correction2_sqrt + self.eps)


def _check_positive(name: str, value: float) -> None:
    if not isinstance(value, Real) or isinstance(value, bool) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")


def _check_fraction(name: str, value: float) -> None:
    if not isinstance(value, Real) or isinstance(value, bool) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
