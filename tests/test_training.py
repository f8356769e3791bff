"""nncourse.training: the mini-batch loop, with the real TwoLayerNet and SGD and with a probe."""

import numpy as np
import pytest

from nncourse.networks import TwoLayerNet
from nncourse.optim import SGD
from nncourse.training import History, train


def blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three well separated Gaussian clusters in 4-D, labels 0..2."""
    rng = np.random.default_rng(seed)
    centres = np.array([[2.0, 0, 0, 0], [0, 2.0, 0, 0], [0, 0, 2.0, 0]])
    t = rng.integers(0, 3, n)
    return centres[t] + 0.5 * rng.standard_normal((n, 4)), t


class ProbeNetwork:
    """Records what the loop asks of it; its loss is the number of updates seen so far."""

    def __init__(self) -> None:
        self.params = {"w": np.zeros(1)}
        self.batches: list[np.ndarray] = []
        self.evaluated_sizes: list[int] = []

    def loss(self, x, t):
        return float(self.params["w"][0])

    def gradient(self, x, t):
        self.batches.append(x[:, 0].astype(int))
        return {"w": -np.ones(1)}

    def accuracy(self, x, t):
        self.evaluated_sizes.append(len(x))
        return 0.5


def probe_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs whose first column is the sample's index, so batches reveal the order."""
    x = np.column_stack([np.arange(n), np.zeros(n)])
    return x, np.zeros(n, dtype=int)


def test_training_two_layer_net_improves_accuracy():
    x_train, t_train = blobs(300, seed=0)
    x_test, t_test = blobs(100, seed=1)
    network = TwoLayerNet(4, 10, 3, weight_init_std=0.5, seed=0)
    before = network.accuracy(x_test, t_test)
    history = train(network, SGD(lr=0.5), x_train, t_train, x_test, t_test,
                    epochs=5, batch_size=32, seed=0, progress=False)
    assert len(history.loss) == 5 * 10  # ceil(300 / 32) = 10 batches per epoch
    assert history.epoch == [1, 2, 3, 4, 5]
    assert len(history.train_acc) == len(history.test_acc) == 5
    assert history.test_acc[-1] > max(before, 0.9)
    assert history.train_acc[-1] == pytest.approx(network.accuracy(x_train, t_train))
    assert np.mean(history.loss[-10:]) < np.mean(history.loss[:10])


def test_training_accepts_one_hot_targets_and_is_reproducible():
    x_train, t_train = blobs(120, seed=2)
    one_hot = np.eye(3)[t_train]
    runs = []
    for _ in range(2):
        network = TwoLayerNet(4, 8, 3, seed=1)
        runs.append(train(network, SGD(lr=0.1), x_train, one_hot, epochs=2, batch_size=50,
                          seed=3, progress=False))
    assert runs[0].loss == runs[1].loss
    assert runs[0].train_acc == runs[1].train_acc
    assert runs[0].test_acc == []  # no test set given
    assert len(runs[0].loss) == 2 * 3


def test_every_epoch_is_a_fresh_permutation_in_batches():
    network = ProbeNetwork()
    x, t = probe_data(10)
    train(network, SGD(lr=1.0), x, t, epochs=3, batch_size=4, seed=0, progress=False)
    assert [len(batch) for batch in network.batches] == [4, 4, 2] * 3
    epochs = [np.concatenate(network.batches[i : i + 3]) for i in (0, 3, 6)]
    for order in epochs:
        assert sorted(order) == list(range(10))  # each sample exactly once per epoch
    assert not np.array_equal(epochs[0], epochs[1])  # reshuffled every epoch


def test_loss_is_recorded_before_each_update():
    history = train(ProbeNetwork(), SGD(lr=1.0), *probe_data(9), epochs=2, batch_size=3,
                    progress=False)
    assert history.loss == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]  # SGD adds 1 to w per update


def test_eval_size_limits_the_accuracy_samples():
    network = ProbeNetwork()
    x, t = probe_data(50)
    history = train(network, SGD(), x, t, x[:20], t[:20], epochs=2, batch_size=25,
                    eval_size=10, progress=False)
    assert network.evaluated_sizes == [10, 10, 10, 10]
    assert history.train_acc == history.test_acc == [0.5, 0.5]
    network = ProbeNetwork()
    train(network, SGD(), x, t, x[:20], t[:20], batch_size=25, eval_size=30, progress=False)
    assert network.evaluated_sizes == [30, 20]


def test_progress_bar_shows_epoch_and_loss(capsys):
    train(ProbeNetwork(), SGD(), *probe_data(6), epochs=2, batch_size=3, progress=True)
    assert "epoch=2" in capsys.readouterr().err
    train(ProbeNetwork(), SGD(), *probe_data(6), epochs=2, batch_size=3, progress=False)
    assert capsys.readouterr().err == ""


def test_history_summary_and_repr():
    history = History(loss=[4.0, 2.0, 1.0, 1.0], epoch=[1, 2], train_acc=[0.5, 0.75],
                      test_acc=[0.25, 0.5])
    assert history.iterations_per_epoch == 2
    lines = history.summary().splitlines()
    assert len(lines) == 3
    assert lines[1].split() == ["1", "3.0000", "0.5000", "0.2500"]
    assert "loss" not in repr(history)  # the long per-iteration list stays out of the repr
    assert History().iterations_per_epoch == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"t_train": np.zeros(5)}, ValueError, "same number of samples"),
        ({"x_test": np.zeros((3, 2))}, ValueError, "given together"),
        ({"x_test": np.zeros((3, 2)), "t_test": np.zeros(2)}, ValueError, "x_test and t_test"),
        ({"epochs": 0}, ValueError, "epochs must be a positive integer"),
        ({"batch_size": 2.5}, ValueError, "batch_size must be a positive integer"),
        ({"eval_size": True}, ValueError, "eval_size must be a positive integer"),
        ({"network": object()}, TypeError, "network must have params"),
        ({"optimizer": object()}, TypeError, "optimizer must have update"),
        ({"x_train": np.zeros((0, 2)), "t_train": np.zeros(0)}, ValueError, "x_train is empty"),
    ],
)
def test_invalid_arguments_are_named(kwargs, error, message):
    x, t = probe_data(6)
    arguments = {"network": ProbeNetwork(), "optimizer": SGD(), "x_train": x, "t_train": t}
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        train(**arguments, progress=False)
