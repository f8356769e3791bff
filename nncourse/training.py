"""A mini-batch training loop that records the loss and the accuracies as it goes."""

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm


@dataclass
class History:
    """What :func:`train` measured.

    Attributes
    ----------
    loss : list of float
        Loss of every mini-batch, computed before the update it led to.
    epoch : list of int
        Epoch numbers 1, 2, ... at which the accuracies were measured.
    train_acc : list of float
        Accuracy on the training set (or its evaluation subset) after each epoch.
    test_acc : list of float
        Accuracy on the test set after each epoch; empty when no test set was given.
    """

    loss: list[float] = field(default_factory=list, repr=False)
    epoch: list[int] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)

    @property
    def iterations_per_epoch(self) -> int:
        """Number of mini-batches in one epoch."""
        return len(self.loss) // len(self.epoch) if self.epoch else 0

    def summary(self) -> str:
        """Return one line per epoch: mean mini-batch loss, train and test accuracy."""
        lines = ["epoch  mean loss  train acc  test acc"]
        per_epoch = self.iterations_per_epoch
        for i, epoch in enumerate(self.epoch):
            mean_loss = np.mean(self.loss[i * per_epoch : (i + 1) * per_epoch])
            test = f"{self.test_acc[i]:8.4f}" if self.test_acc else "       -"
            lines.append(f"{epoch:5d}  {mean_loss:9.4f}  {self.train_acc[i]:9.4f}  {test}")
        return "\n".join(lines)


def train(
    network: Any,
    optimizer: Any,
    x_train: np.ndarray,
    t_train: np.ndarray,
    x_test: np.ndarray | None = None,
    t_test: np.ndarray | None = None,
    *,
    epochs: int = 1,
    batch_size: int = 100,
    seed: int | None = None,
    progress: bool = True,
    eval_size: int | None = None,
) -> History:
    """Train ``network`` with mini-batches, shuffling the training set anew every epoch.

    For every mini-batch (x, t): record network.loss(x, t), then
    optimizer.update(network.params, network.gradient(x, t)). After every epoch, record the
    accuracy on the training and test sets.

    Parameters
    ----------
    network : object
        Has ``params`` (dict of arrays), ``gradient(x, t)`` (dict with the same keys),
        ``loss(x, t)`` and ``accuracy(x, t)``, e.g. :class:`nncourse.networks.TwoLayerNet`.
    optimizer : object
        Has ``update(params, grads)`` that changes ``params`` in place, e.g.
        :class:`nncourse.optim.SGD`.
    x_train : ndarray of shape (N, ...)
        Training inputs.
    t_train : ndarray of shape (N,) or (N, C)
        Training labels or one-hot targets.
    x_test, t_test : ndarray, optional
        Test set, given both or neither; only used to measure accuracy.
    epochs : int, default 1
        Passes over the training set.
    batch_size : int, default 100
        Samples per mini-batch; the last batch of an epoch may be smaller.
    seed : int, optional
        Seed of the shuffling, for repeatable runs.
    progress : bool, default True
        Show a progress bar with the epoch and the latest loss.
    eval_size : int, optional
        Measure each accuracy on at most this many evenly spaced samples (faster);
        all samples when None.

    Returns
    -------
    History
        ``loss`` has epochs * ceil(N / batch_size) entries, the other lists ``epochs``.
    """
    _check_interface(network, "network", ("params", "gradient", "loss", "accuracy"))
    _check_interface(optimizer, "optimizer", ("update",))
    _check_pair(x_train, t_train, "x_train", "t_train")
    if (x_test is None) != (t_test is None):
        raise ValueError("x_test and t_test must be given together (or both left out)")
    if x_test is not None:
        _check_pair(x_test, t_test, "x_test", "t_test")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        _check_positive_int(value, name)
    if eval_size is not None:
        _check_positive_int(eval_size, "eval_size")

    rng = np.random.default_rng(seed)
    n = len(x_train)
    train_eval = _evenly_spaced(x_train, t_train, eval_size)
    test_eval = None if x_test is None else _evenly_spaced(x_test, t_test, eval_size)
    history = History()
    total = epochs * -(-n // batch_size)
    with tqdm(total=total, disable=not progress, unit="batch") as bar:
        for epoch in range(1, epochs + 1):
            order = rng.permutation(n)
            for start in range(0, n, batch_size):
                batch = order[start : start + batch_size]
                x, t = x_train[batch], t_train[batch]
                history.loss.append(float(network.loss(x, t)))
                optimizer.update(network.params, network.gradient(x, t))
                bar.set_postfix(epoch=epoch, loss=f"{history.loss[-1]:.4f}", refresh=False)
                bar.update()
            history.epoch.append(epoch)
            history.train_acc.append(float(network.accuracy(*train_eval)))
            if test_eval is not None:
                history.test_acc.append(float(network.accuracy(*test_eval)))
    return history


def _evenly_spaced(
    x: np.ndarray, t: np.ndarray, size: int | None
) -> tuple[np.ndarray, np.ndarray]:
    if size is None or size >= len(x):
        return x, t
    keep = np.linspace(0, len(x) - 1, size).round().astype(int)
    return x[keep], t[keep]


def _check_interface(obj: Any, name: str, attributes: tuple[str, ...]) -> None:
    missing = [attribute for attribute in attributes if not hasattr(obj, attribute)]
    if missing:
        raise TypeError(
            f"{name} must have {', '.join(attributes)}; {type(obj).__name__} lacks "
            f"{', '.join(missing)}"
        )


def _check_pair(x: np.ndarray, t: np.ndarray, x_name: str, t_name: str) -> None:
    if len(x) != len(t):
        raise ValueError(
            f"{x_name} and {t_name} must have the same number of samples, got {len(x)} "
            f"and {len(t)}"
        )
    if len(x) == 0:
        raise ValueError(f"{x_name} is empty")


def _check_positive_int(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
