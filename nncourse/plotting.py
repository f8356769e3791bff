"""The book's standard figures: learning curves, loss surfaces, descent paths, decision regions.

Every function draws on an Axes and returns it (or the animation); none calls ``show``.
"""

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.axes import Axes

from nncourse.training import History

MAX_FRAMES = 40

Limits = tuple[float, float]


def plot_history(history: History, ax: Axes | None = None, *, metric: str = "accuracy",
                 test_label: str = "test") -> Axes:
    """Plot learning curves: accuracy per epoch, or the loss of every mini-batch.

    Parameters
    ----------
    history : History
        What :func:`nncourse.training.train` returned.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    metric : {"accuracy", "loss"}, default "accuracy"
        ``"accuracy"``: train and test accuracy against the epoch. ``"loss"``: the loss
        of every mini-batch against the (fractional) epoch.
    test_label : str, default "test"
        Legend label of ``history.test_acc``, e.g. ``"validation"`` when :func:`train` was
        given a validation set in place of the test set.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    if metric not in ("accuracy", "loss"):
        raise ValueError(f'metric must be "accuracy" or "loss", got {metric!r}')
    if not history.epoch:
        raise ValueError("history is empty: train for at least one epoch first")
    ax = ax if ax is not None else plt.figure().add_subplot()
    if metric == "accuracy":
        ax.plot(history.epoch, history.train_acc, "o-", label="train")
        if history.test_acc:
            ax.plot(history.epoch, history.test_acc, "s--", label=test_label)
        ax.set_ylabel("accuracy")
        ax.legend()
    else:
        iterations = np.arange(1, len(history.loss) + 1) / history.iterations_per_epoch
        ax.plot(iterations, history.loss, linewidth=0.8)
        ax.set_ylabel("mini-batch loss")
    ax.set_xlabel("epoch")
    return ax


def plot_loss_surface(
    f: Callable[[np.ndarray], float],
    xlim: Limits,
    ylim: Limits,
    path: np.ndarray | None = None,
    ax: Axes | None = None,
    *,
    levels: int | np.ndarray = 20,
    resolution: int = 80,
) -> Axes:
    """Draw filled contours of a function of two variables, and optionally a descent path.

    Parameters
    ----------
    f : callable
        Maps an array of shape (2,) to a float, e.g. ``lambda x: x[0]**2 + x[1]**2``.
    xlim, ylim : tuple of 2 floats
        Range of the first and second coordinate.
    path : array_like of shape (K, 2), optional
        Points visited, e.g. the ``path`` of :func:`nncourse.gradients.gradient_descent`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    levels : int or array_like, default 20
        Number of contour levels, or their values (matplotlib's ``contourf``).
    resolution : int, default 80
        Grid points per axis; f is called resolution**2 times.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    xs, ys = _grid_axis(xlim, "xlim", resolution), _grid_axis(ylim, "ylim", resolution)
    path = None if path is None else _check_path(path)
    values = np.array([[f(np.array([x, y])) for x in xs] for y in ys], dtype=float)
    ax = ax if ax is not None else plt.figure().add_subplot()
    filled = ax.contourf(xs, ys, values, levels=levels, cmap="viridis")
    ax.figure.colorbar(filled, ax=ax, label="f")
    if path is not None:
        ax.plot(path[:, 0], path[:, 1], "o-", color="tab:red", markersize=3, linewidth=1)
        ax.plot(*path[0], "s", color="black", label="start")
        ax.plot(*path[-1], "*", color="tab:red", markersize=12, label="end")
        ax.legend()
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel("$x_0$")
    ax.set_ylabel("$x_1$")
    return ax


def animate_descent(
    f: Callable[[np.ndarray], float],
    path: np.ndarray,
    xlim: Limits,
    ylim: Limits,
    interval: int = 100,
) -> FuncAnimation:
    """Animate a descent path growing step by step over the contours of f.

    Long paths are shown at most :data:`MAX_FRAMES` frames (evenly spaced steps, the last
    one included) so the embedded HTML stays small.

    Parameters
    ----------
    f : callable
        Maps an array of shape (2,) to a float.
    path : array_like of shape (K, 2)
        Points visited, starting point first.
    xlim, ylim : tuple of 2 floats
        Range of the first and second coordinate.
    interval : int, default 100
        Milliseconds between frames.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        Show it in a notebook with ``HTML(anim.to_jshtml())`` or
        :func:`nncourse.display.animation_html`.
    """
    path = _check_path(path)
    fig, ax = plt.subplots(figsize=(5, 4), dpi=80)
    plot_loss_surface(f, xlim, ylim, ax=ax)
    (line,) = ax.plot([], [], "o-", color="tab:red", markersize=3, linewidth=1)
    steps = np.unique(np.linspace(0, len(path) - 1, min(len(path), MAX_FRAMES)).round())

    def draw(step: float) -> list:
        visited = path[: int(step) + 1]
        line.set_data(visited[:, 0], visited[:, 1])
        ax.set_title(f"step {int(step)}: f = {f(visited[-1]):.4g}")
        return [line]

    return FuncAnimation(fig, draw, frames=steps, interval=interval)


def plot_decision_regions(
    predict_proba: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    t: np.ndarray,
    xlim: Limits,
    ylim: Limits,
    ax: Axes | None = None,
    *,
    resolution: int = 200,
) -> Axes:
    """Colour the plane by a binary classifier's probability of class 1, and mark the samples.

    The colour of each point is ``predict_proba`` there: blue for 0, white for 0.5 (the
    decision boundary), red for 1. Samples of class 0 are drawn as circles, of class 1 as
    squares.

    Parameters
    ----------
    predict_proba : callable
        Maps an array of shape (K, 2), one point per row, to an array of shape (K,) of
        probabilities of class 1, e.g. ``lambda p: softmax(net.predict(p))[:, 1]``. It is
        called once, with every grid point.
    x : array_like of shape (N, 2)
        The samples.
    t : array_like of shape (N,)
        Their labels, 0 or 1.
    xlim, ylim : tuple of 2 floats
        Range of the first and second coordinate.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when None.
    resolution : int, default 200
        Grid points per axis.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on; the probabilities are its image, of shape
        (resolution, resolution), row ``i`` at the ``i``-th value of ``ylim``'s grid.
    """
    xs, ys = _grid_axis(xlim, "xlim", resolution), _grid_axis(ylim, "ylim", resolution)
    x, t = np.asarray(x, dtype=float), np.asarray(t)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"x must have shape (N, 2), got {x.shape}")
    if t.shape != (len(x),) or not np.isin(t, (0, 1)).all():
        raise ValueError(f"t must hold {len(x)} labels, each 0 or 1, got {t!r}")
    grid_x, grid_y = np.meshgrid(xs, ys)
    probabilities = np.asarray(predict_proba(np.column_stack([grid_x.ravel(), grid_y.ravel()])),
                               dtype=float)
    if probabilities.shape != (resolution * resolution,):
        raise ValueError(f"predict_proba must return shape ({resolution * resolution},) for "
                         f"{resolution * resolution} points, got {probabilities.shape}")
    if not ((probabilities >= 0) & (probabilities <= 1)).all():
        raise ValueError("predict_proba must return probabilities in [0, 1]")
    ax = ax if ax is not None else plt.figure().add_subplot()
    image = ax.imshow(probabilities.reshape(resolution, resolution), origin="lower",
                      extent=(*xlim, *ylim), cmap="RdBu_r", vmin=0, vmax=1, aspect="auto",
                      interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, label="P(class 1)")
    for label, marker, colour in ((0, "o", "tab:blue"), (1, "s", "tab:red")):
        points = x[t == label]
        ax.scatter(points[:, 0], points[:, 1], marker=marker, s=80, color=colour,
                   edgecolors="black", label=f"class {label}")
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def _grid_axis(limits: Limits, name: str, resolution: int) -> np.ndarray:
    low, high = limits
    if not low < high:
        raise ValueError(f"{name} must be (low, high) with low < high, got {limits!r}")
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    return np.linspace(low, high, resolution)


def _check_path(path: np.ndarray) -> np.ndarray:
    path = np.asarray(path, dtype=float)
    if path.ndim != 2 or path.shape[1] != 2 or len(path) == 0:
        raise ValueError(f"path must have shape (K, 2) with K >= 1, got {path.shape}")
    return path
