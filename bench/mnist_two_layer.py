"""Benchmark: nncourse's numpy TwoLayerNet against the same model in PyTorch, on MNIST.

Both sides train a 784-100-10 network with backprop, batch 100, float32, on the CPU. They
start from the same initial weights and see the same mini-batches in the same order, and
their epochs are interleaved (alternating which goes first) so that background load hits
both alike. Only the training steps are timed, not the accuracy evaluation. The summary
row is the median epoch, which a few epochs slowed by other processes do not move.

Both libraries use as many threads as there are cores unless ``OMP_NUM_THREADS`` says
otherwise (numpy's OpenBLAS reads it too). On a machine busy with other work, set
``OMP_NUM_THREADS=1``: threads waiting for a busy core make both sides erratic.

The last configuration is chapter 9's recipe: ReLU, He initialisation, SGD with momentum 0.9
and L2 weight decay 5e-4, the learning rate 0.1 decayed by a cosine to 0 over the run
(``CosineAnnealingLR`` on both sides, stepped once per epoch). Its line of results says in
which epoch each side first reached 98.0% test accuracy.

Usage::

    python bench/mnist_two_layer.py [--epochs N] [--seed S] [--data DIR] [--only LABEL]

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
from nncourse.optim import SGD, Adam, CosineAnnealingLR, Momentum

REPO = Path(__file__).resolve().parents[1]
BATCH_SIZE = 100
HIDDEN = 100
TARGET = 0.98  # chapter 9's goal for the test accuracy


@dataclass(frozen=True)
class Config:
    label: str
    activation: str
    weight_init_std: float | str
    optimizer: str
    lr: float
    weight_decay: float = 0.0
    cosine: bool = False  # decay lr to 0 over the run, once per epoch


CONFIGS = (
    Config("sigmoid, std 0.01, SGD 0.1 (source post)", "sigmoid", 0.01, "sgd", 0.1),
    Config("ReLU, std 0.01, SGD 0.1", "relu", 0.01, "sgd", 0.1),
    Config("ReLU, He init, Adam 1e-3", "relu", "he", "adam", 1e-3),
    Config("ReLU, He init, momentum 0.9, lr 0.1 cosine, weight decay 5e-4 (chapter 9)",
           "relu", "he", "momentum", 0.1, weight_decay=5e-4, cosine=True),
)


def numpy_side(config: Config, seed: int) -> tuple[TwoLayerNet, SGD | Momentum | Adam]:
    network = TwoLayerNet(784, HIDDEN, 10, weight_init_std=config.weight_init_std,
                          activation=config.activation, seed=seed, dtype=np.float32)
    if config.optimizer == "sgd":
        optimizer = SGD(lr=config.lr, weight_decay=config.weight_decay)
    elif config.optimizer == "momentum":
        optimizer = Momentum(lr=config.lr, momentum=0.9, weight_decay=config.weight_decay)
    else:
        optimizer = Adam(lr=config.lr, weight_decay=config.weight_decay)
    return network, optimizer


def torch_side(config: Config, network: TwoLayerNet) -> tuple[nn.Module, torch.optim.Optimizer]:
    """The same architecture in PyTorch, starting from the numpy network's weights."""
    activation = nn.Sigmoid() if config.activation == "sigmoid" else nn.ReLU()
    model = nn.Sequential(nn.Linear(784, HIDDEN), activation, nn.Linear(HIDDEN, 10))
    with torch.no_grad():
        for linear, index in ((model[0], 1), (model[2], 2)):
            linear.weight.copy_(torch.from_numpy(network.params[f"W{index}"].T.copy()))
            linear.bias.copy_(torch.from_numpy(network.params[f"b{index}"]))
    parameters, decay = model.parameters(), config.weight_decay
    if config.optimizer == "sgd":
        return model, torch.optim.SGD(parameters, lr=config.lr, weight_decay=decay)
    if config.optimizer == "momentum":
        return model, torch.optim.SGD(parameters, lr=config.lr, momentum=0.9, weight_decay=decay)
    return model, torch.optim.Adam(parameters, lr=config.lr, weight_decay=decay)


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
    schedules = []  # one lr step per epoch on both sides
    if config.cosine:
        schedules = [CosineAnnealingLR(np_optimizer, t_max=epochs),
                     torch.optim.lr_scheduler.CosineAnnealingLR(torch_optimizer, T_max=epochs)]
    reached = {"numpy": None, "torch": None}  # first epoch at TARGET test accuracy
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
        for schedule in schedules:
            schedule.step()
        np_acc = network.accuracy(x_test, t_test)
        torch_acc = torch_accuracy(model, tensors[2], tensors[3])
        for name, accuracy in (("numpy", np_acc), ("torch", torch_acc)):
            if reached[name] is None and accuracy >= TARGET:
                reached[name] = epoch
        np_time, torch_time = times["numpy"][-1], times["torch"][-1]
        print(f"{epoch:5d}  {np_time:7.3f}  {torch_time:7.3f}  {np_time / torch_time:11.2f}  "
              f"{np_acc:14.4f}  {torch_acc:14.4f}", flush=True)
    np_median, torch_median = np.median(times["numpy"]), np.median(times["torch"])
    print(f"median {np_median:7.3f}  {torch_median:7.3f}  {np_median / torch_median:11.2f}")
    print(f"first epoch at {TARGET:.1%} test accuracy: numpy {reached['numpy'] or 'never'}, "
          f"torch {reached['torch'] or 'never'}")


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
    parser.add_argument("--only", default="",
                        help="run only the configurations whose label contains this text, "
                             "e.g. 'chapter 9'")
    args = parser.parse_args()
    print(describe_machine())
    print(f"784-{HIDDEN}-10, batch {BATCH_SIZE}, float32, {args.epochs} epochs, seed {args.seed}")
    data = load_mnist(data_dir=args.data)
    for config in CONFIGS:
        if args.only in config.label:
            run(config, data, args.epochs, args.seed)


if __name__ == "__main__":
    main()
