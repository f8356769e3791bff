"""Checks of the exercises on optimizers (chapter 7): whole trajectories.

A student's optimizer class and :mod:`nncourse.optim`'s run on the same seeded problem, a
noisy quadratic bowl over two parameters of different shapes; :func:`trajectory` records the
parameters after every step, so a hidden test compares whole trajectories with
:func:`~nncourse.grading.check_function`. (Classes that inherit their update from the
course's code are refused by :func:`~nncourse.grading.assert_written_by_hand`.)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
SHAPES = {"W": (3, 4), "b": (4,)}
"""The parameters of every problem: a matrix and a vector, each with its own state."""


def trajectory(optimizer_class: type, settings: dict[str, float], seed: int,
               steps: int = 60) -> dict[str, Array]:
    """Parameters after each of ``steps`` updates on the seeded noisy bowl.

    The loss is ``½·Σ a·(w − c)²`` per parameter, with random curvatures ``a`` in [0.1, 10]
    and centres ``c``; each gradient ``a·(w − c)`` gets Gaussian noise, so steps follow the
    parameters and the gradients change sign.

    Parameters
    ----------
    optimizer_class : type
        Called as ``optimizer_class(**settings)``; its ``update(params, grads)`` changes
        the dict ``params`` (in place or by assigning new arrays).
    settings : dict of str to float
        Hyperparameters, e.g. ``{"lr": 0.1, "momentum": 0.9}``.
    seed : int
        Seeds the starting point, the bowl and the noise.
    steps : int, default 60
        Number of updates.

    Returns
    -------
    dict of str to ndarray
        For each parameter name, its values after every step: shape ``(steps, *shape)``.
    """
    rng = np.random.default_rng(seed)
    params = {name: rng.normal(size=shape) for name, shape in SHAPES.items()}
    curvature = {name: rng.uniform(0.1, 10.0, size=shape) for name, shape in SHAPES.items()}
    centre = {name: rng.normal(size=shape) for name, shape in SHAPES.items()}
    optimizer = optimizer_class(**settings)
    path: dict[str, list[Array]] = {name: [] for name in SHAPES}
    for _ in range(steps):
        grads = {name: curvature[name] * (params[name] - centre[name])
                 + 0.5 * rng.normal(size=SHAPES[name]) for name in SHAPES}
        optimizer.update(params, grads)
        for name in SHAPES:
            path[name].append(np.array(params[name], dtype=np.float64))
    return {name: np.stack(values) for name, values in path.items()}


RACERS = ("SGD", "Momentum", "RMSprop", "Adam")
"""The optimizers of the race (exercise 7, task 6), in the order of the task."""


def race(curvatures: Array, tol: float = 1e-6, max_steps: int = 2000) -> dict[str, int]:
    """Updates each optimizer needs on the bowl ``½·Σ a·w²`` until the loss is below ``tol``.

    Every optimizer starts from ``w = (1, …, 1)`` with the settings of the task: SGD and
    momentum with ``lr = 1/max(a)`` (momentum 0.9), RMSprop with ``lr = 0.01``, Adam with
    ``lr = 0.1``, the other hyperparameters at their defaults.

    Parameters
    ----------
    curvatures : array_like
        The curvatures ``a`` (positive), one per weight.
    tol : float, default 1e-6
        The loss to get below.
    max_steps : int, default 2000
        The most updates tried.

    Returns
    -------
    dict of str to int
        For each name of :data:`RACERS`, the number of updates after which the loss is
        first below ``tol``, or -1 when it is not after ``max_steps``.
    """
    from nncourse import optim

    a = np.asarray(curvatures, dtype=np.float64)
    lr = 1.0 / float(a.max())
    optimizers = {"SGD": optim.SGD(lr=lr), "Momentum": optim.Momentum(lr=lr, momentum=0.9),
                  "RMSprop": optim.RMSprop(lr=0.01), "Adam": optim.Adam(lr=0.1)}
    counts = {}
    for name in RACERS:
        params = {"w": np.ones_like(a)}
        counts[name] = -1
        for step in range(1, max_steps + 1):
            optimizers[name].update(params, {"w": a * params["w"]})
            if 0.5 * float(np.sum(a * params["w"] ** 2)) < tol:
                counts[name] = step
                break
    return counts
