"""Benchmark: nncourse's numpy TwoLayerNet against the same model in PyTorch, on MNIST.

Both sides train a 784-100-10 network with backprop, batch 100, float32, on the CPU. They
start from the same initial weights and see the same mini-batches in the same order, and
their epochs are interleaved (alternating which goes first) so that background load hits
both alike. Only the training steps are timed, not the accuracy evaluation. The summary
row is the median epoch, which a few epochs slowed by other processes do not move.

Both libraries use as many threads as there are cores unless ``OMP_NUM_THREADS`` says
otherwise (numpy's OpenBLAS reads it too). On a machine busy with other work, set
``OMP_NUM_THREADS=1``: threads waiting for a busy core make both sides erratic.

Usage::

    python bench/mnist_two_layer.py [--epochs N] [--seed S] [--data DIR]

``DIR`` holds ``mnist/`` (default: ``$NNCOURSE_DATA``, else ``../shared/data`` beside the
repository).
"""

import argparse
import datetime
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from machine import cpu_name
from torch import nn

from nncourse.datasets import load_mnist
from nncourse.networks import TwoLayerNet
from nncourse.optim import SGD, Adam

REPO = Path(__file__).resolve().parents[1]
BATCH_SIZE = 100
HIDDEN = 100


@dataclass(frozen=True)
class Config:
    label: str
    activation: str
    weight_init_std: float | str
    optimizer: str
    lr: float


CONFIGS = (
    Config("sigmoid, std 0.01, SGD 0.1 (source post)", "sigmoid", 0.01, "sgd", 0.1),
    Config("ReLU, std 0.01, SGD 0.1", "relu", 0.01, "sgd", 0.1),
    Config("ReLU, He init, Adam 1e-3", "relu", "he", "adam", 1e-3),
)


def numpy_side(config: Config, seed: int) -> tuple[TwoLayerNet, SGD | Adam]:
    network = TwoLayerNet(784, HIDDEN, 10, weight_init_std=config.weight_init_std,
                          activation=config.activation, seed=seed, dtype=np.float32)
    optimizer = SGD(lr=config.lr) if config.optimizer == "sgd" else Adam(lr=config.lr)
    return network, optimizer


def torch_side(config: Config, network: TwoLayerNet) -> tuple[nn.Module, torch.optim.Optimizer]:
    """The same architecture in PyTorch, starting from the numpy network's weights."""
    activation = nn.Sigmoid() if config.activation == "sigmoid" else nn.ReLU()
    model = nn.Sequential(nn.Linear(784, HIDDEN), activation, nn.Linear(HIDDEN, 10))
    with torch.no_grad():
        for linear, index in ((model[0], 1), (model[2], 2)):
            linear.weight.copy_(torch.from_numpy(network.params[f"W{index}"].T.copy()))
            linear.bias.copy_(torch.from_numpy(network.params[f"b{index}"]))
    parameters = model.parameters()
    if config.optimizer == "sgd":
        return model, torch.optim.SGD(parameters, lr=config.lr)
    return model, torch.optim.Adam(parameters, lr=config.lr)


def numpy_epoch(network, optimizer, x, t, order) -> float:
    start = time.perf_counter()
    for first in range(0, len(order), BATCH_SIZE):
        batch = order[first : first + BATCH_SIZE]
        optimizer.update(network.params, network.gradient(x[batch], t[batch]))
    return time.perf_counter() - start


def torch_epoch(model, optimizer, x, t, order) -> float:
    order = torch.from_numpy(order)
    start = time.perf_counter()
    for first in range(0, len(order), BATCH_SIZE):
        batch = order[first : first + BATCH_SIZE]
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x[batch]), t[batch]).backward()
        optimizer.step()
    return time.perf_counter() - start


def torch_accuracy(model, x, t) -> float:
    with torch.no_grad():
        return (model(x).argmax(dim=1) == t).float().mean().item()


def run(config: Config, data, epochs: int, seed: int) -> None:
    (x_train, t_train), (x_test, t_test) = data
    tensors = [torch.from_numpy(array) for array in (x_train, t_train, x_test, t_test)]
    network, np_optimizer = numpy_side(config, seed)
    model, torch_optimizer = torch_side(config, network)
    sides = {  # name: (epoch function, its leading arguments)
        "numpy": (numpy_epoch, (network, np_optimizer, x_train, t_train)),
        "torch": (torch_epoch, (model, torch_optimizer, tensors[0], tensors[1])),
    }
    times = {name: [] for name in sides}
    rng = np.random.default_rng(seed)
    print(f"\n{config.label}")
    print("epoch  numpy s  torch s  numpy/torch  numpy test acc  torch test acc")
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x_train))
        for name in sides if epoch % 2 else reversed(sides):  # alternate who goes first
            epoch_function, arguments = sides[name]
            times[name].append(epoch_function(*arguments, order))
        np_acc = network.accuracy(x_test, t_test)
        torch_acc = torch_accuracy(model, tensors[2], tensors[3])
        np_time, torch_time = times["numpy"][-1], times["torch"][-1]
        print(f"{epoch:5d}  {np_time:7.3f}  {torch_time:7.3f}  {np_time / torch_time:11.2f}  "
              f"{np_acc:14.4f}  {torch_acc:14.4f}", flush=True)
    np_median, torch_median = np.median(times["numpy"]), np.median(times["torch"])
    print(f"median {np_median:7.3f}  {torch_median:7.3f}  {np_median / torch_median:11.2f}")


def describe_machine() -> str:
    cpu = cpu_name()
    return (f"{datetime.date.today()}  {cpu}, {os.cpu_count()} cores; python "
            f"{platform.python_version()}, numpy {np.__version__}, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads); "
            f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=os.environ.get("NNCOURSE_DATA")
                        or str(REPO.parent / "shared" / "data"))
    args = parser.parse_args()
    print(describe_machine())
    print(f"784-{HIDDEN}-10, batch {BATCH_SIZE}, float32, {args.epochs} epochs, seed {args.seed}")
    data = load_mnist(data_dir=args.data)
    for config in CONFIGS:
        run(config, data, args.epochs, args.seed)


if __name__ == "__main__":
    main()
