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

Every optimizer takes ``weight_decay`` (λ, default 0): L2 regularisation as torch applies it,
``g ← g + λ·w`` before the step, which is the gradient of ``loss + (λ/2)·Σ w²``. It acts on
every array in ``params``, biases included, as ``torch.optim`` does on the parameters it is
given. Learning-rate schedules (:class:`StepLR`, :class:`CosineAnnealingLR`) change an
optimizer's ``lr`` between epochs, like ``torch.optim.lr_scheduler``.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np


class Optimizer:
    """Base class: checks the arguments of ``update`` and applies ``_step`` to each parameter.

    Subclasses implement ``_step(name, param, grad)``, which changes ``param`` in place.

    Parameters
    ----------
    lr : float
        Learning rate.
    weight_decay : float, default 0.0
        λ of L2 regularisation: each gradient becomes ``g + λ·w`` before the step.
    """

    def __init__(self, lr: float, weight_decay: float = 0.0) -> None:
        _check_positive("lr", lr)
        _check_non_negative("weight_decay", weight_decay)
        self.lr = lr
        self.weight_decay = weight_decay
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
            if self.weight_decay:
                grad = grad + self.weight_decay * param  # d/dw of (λ/2)·w², a new array
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
    weight_decay : float, default 0.0
        L2 penalty λ: the step uses ``g + λ·w`` (torch's ``weight_decay``).

    Examples
    --------
    >>> import numpy as np
    >>> params = {"w": np.array([1.0, 2.0])}
    >>> SGD(lr=0.1).update(params, {"w": np.array([1.0, -1.0])})
    >>> params["w"]
    array([0.9, 2.1])
    """

    def __init__(self, lr: float = 1e-3, weight_decay: float = 0.0) -> None:
        super().__init__(lr, weight_decay)

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
    weight_decay : float, default 0.0
        L2 penalty λ: the step uses ``g + λ·w`` (torch's ``weight_decay``).

    Examples
    --------
    >>> import numpy as np
    >>> params, grads = {"w": np.array([0.0])}, {"w": np.array([1.0])}
    >>> opt = Momentum(lr=0.1, momentum=0.9)
    >>> opt.update(params, grads); opt.update(params, grads)
    >>> params["w"]   # −0.1·1 then −0.1·(0.9·1 + 1)
    array([-0.29])
    """

    def __init__(self, lr: float = 1e-2, momentum: float = 0.9,
                 weight_decay: float = 0.0) -> None:
        super().__init__(lr, weight_decay)
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
    weight_decay : float, default 0.0
        L2 penalty λ: the step uses ``g + λ·w`` (torch's ``weight_decay``).

    Examples
    --------
    >>> import numpy as np
    >>> params = {"w": np.array([1.0, 1.0])}
    >>> AdaGrad(lr=0.1).update(params, {"w": np.array([4.0, -0.5])})
    >>> params["w"]   # the first step is lr·sign(g), whatever the size of g
    array([0.9, 1.1])
    """

    def __init__(self, lr: float = 1e-2, eps: float = 1e-10,
                 weight_decay: float = 0.0) -> None:
        super().__init__(lr, weight_decay)
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
    weight_decay : float, default 0.0
        L2 penalty λ: the step uses ``g + λ·w`` (torch's ``weight_decay``).
    """

    def __init__(self, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(lr, weight_decay)
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
    weight_decay : float, default 0.0
        L2 penalty λ added to the gradient (``torch.optim.Adam``'s ``weight_decay``, not
        AdamW's decoupled decay).

    Examples
    --------
    >>> import numpy as np
    >>> params = {"w": np.array([1.0])}
    >>> Adam(lr=0.1).update(params, {"w": np.array([123.0])})
    >>> params["w"]   # the bias-corrected first step is about lr·sign(g)
    array([0.9])
    """

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(lr, weight_decay)
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


class StepLR:
    """Step decay: multiply the optimizer's lr by ``gamma`` every ``step_size`` epochs.

    ``lr_e = lr_0 · gamma^floor(e / step_size)`` after ``e`` calls of :meth:`step`, as
    ``torch.optim.lr_scheduler.StepLR``. Call :meth:`step` once at the end of every epoch.

    Parameters
    ----------
    optimizer : Optimizer
        Any optimizer of this module; its ``lr`` is overwritten by :meth:`step`.
    step_size : int
        Epochs between two decays.
    gamma : float, default 0.1
        Factor of each decay, in (0, 1].

    Examples
    --------
    >>> scheduler = StepLR(SGD(lr=0.1), step_size=2, gamma=0.5)
    >>> [round(scheduler.step(), 4) for _ in range(5)]
    [0.1, 0.05, 0.05, 0.025, 0.025]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        _check_optimizer(optimizer)
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"step_size must be a positive integer, got {step_size!r}")
        if not isinstance(gamma, Real) or isinstance(gamma, bool) or not 0 < gamma <= 1:
            raise ValueError(f"gamma must be a number in (0, 1], got {gamma!r}")
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.step_size = step_size
        self.gamma = gamma
        self.epoch = 0

    def step(self) -> float:
        """End an epoch: set and return the lr for the next one."""
        self.epoch += 1
        self.optimizer.lr = self.base_lr * self.gamma ** (self.epoch // self.step_size)
        return self.optimizer.lr


class CosineAnnealingLR:
    """Cosine decay from the optimizer's lr down to ``eta_min`` over ``t_max`` epochs.

    ``lr_e = eta_min + (lr_0 − eta_min) · (1 + cos(π·e / t_max)) / 2`` after ``e`` calls of
    :meth:`step` (``e ≤ t_max``), as ``torch.optim.lr_scheduler.CosineAnnealingLR``, which
    computes the same curve step by step. After ``t_max`` the lr stays at ``eta_min`` (torch's
    curve rises again, as a cosine does). Call :meth:`step` once at the end of every epoch.

    Parameters
    ----------
    optimizer : Optimizer
        Any optimizer of this module; its ``lr`` is overwritten by :meth:`step`.
    t_max : int
        Epochs until the lr reaches ``eta_min`` (torch's ``T_max``).
    eta_min : float, default 0.0
        The last, smallest lr.

    Examples
    --------
    >>> scheduler = CosineAnnealingLR(SGD(lr=0.1), t_max=4)
    >>> [round(scheduler.step(), 4) for _ in range(4)]
    [0.0854, 0.05, 0.0146, 0.0]
    """

    def __init__(self, optimizer: Optimizer, t_max: int, eta_min: float = 0.0) -> None:
        _check_optimizer(optimizer)
        if isinstance(t_max, bool) or not isinstance(t_max, int) or t_max < 1:
            raise ValueError(f"t_max must be a positive integer, got {t_max!r}")
        _check_non_negative("eta_min", eta_min)
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.t_max = t_max
        self.eta_min = eta_min
        self.epoch = 0

    def step(self) -> float:
        """End an epoch: set and return the lr for the next one (``eta_min`` after ``t_max``)."""
        self.epoch += 1
        progress = min(self.epoch, self.t_max) / self.t_max
        self.optimizer.lr = (self.eta_min + (self.base_lr - self.eta_min)
                             * (1.0 + math.cos(math.pi * progress)) / 2.0)
        return self.optimizer.lr


def _check_optimizer(optimizer: object) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError("optimizer must be an optimizer of nncourse.optim (SGD, Momentum, ...), "
                        f"got {type(optimizer).__name__}")


def _check_non_negative(name: str, value: float) -> None:
    if not isinstance(value, Real) or isinstance(value, bool) or not value >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")


def _check_positive(name: str, value: float) -> None:
    if not isinstance(value, Real) or isinstance(value, bool) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")


def _check_fraction(name: str, value: float) -> None:
    if not isinstance(value, Real) or isinstance(value, bool) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
