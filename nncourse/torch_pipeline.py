"""A small PyTorch training pipeline: a Dataset over arrays, a CNN, training and evaluation.

The pieces chapter 8 builds and then reuses, each kept short enough to read in one screen:

- :class:`ArrayDataset`  a ``torch.utils.data.Dataset`` over numpy arrays (e.g. from
  :func:`nncourse.datasets.load_mnist`), ready for a ``DataLoader``;
- :class:`SmallCNN`      two convolution blocks and a linear classifier;
- :func:`pick_device`    the GPU when there is one, else the CPU;
- :func:`train_epoch`    ``zero_grad -> forward -> loss -> backward -> step`` over a loader;
- :func:`train_epoch_accumulated`  the same with gradient accumulation: one step per group
  of batches, as if on the group's union (exercise 8, task 6);
- :func:`evaluate`       accuracy of a classifier over a loader, without gradients.

This module needs PyTorch (``pip install nncourse[torch]``); the rest of nncourse does not.
"""

from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class ArrayDataset(Dataset):
    """A map-style dataset over two arrays with one sample per row.

    Integer targets become int64 tensors (class labels, what ``nn.CrossEntropyLoss`` expects);
    anything else becomes float32, like the inputs.

    Parameters
    ----------
    x : ndarray of shape (N, ...)
        Inputs, e.g. images of shape (N, 1, 28, 28).
    t : ndarray of shape (N,) or (N, ...)
        Targets: integer labels, or float values such as one-hot rows.

    Attributes
    ----------
    x : torch.Tensor of shape (N, ...)
        The inputs as float32 (a copy: changing the arrays later does not change the data set).
    t : torch.Tensor of shape (N,) or (N, ...)
        The targets as int64 (integer input) or float32.

    Examples
    --------
    >>> ds = ArrayDataset(np.zeros((3, 1, 28, 28)), np.array([7, 2, 1]))
    >>> len(ds)
    3
    >>> image, label = ds[0]
    >>> image.shape, image.dtype, label
    (torch.Size([1, 28, 28]), torch.float32, tensor(7))
    """

    def __init__(self, x: np.ndarray, t: np.ndarray) -> None:
        x, t = np.asarray(x), np.asarray(t)
        if x.ndim == 0 or t.ndim == 0:
            raise ValueError(
                f"x and t must have one sample per row, got shapes x {x.shape} and t {t.shape}"
            )
        if len(x) != len(t):
            raise ValueError(f"x and t must have the same length, got {len(x)} and {len(t)}")
        target_dtype = torch.int64 if np.issubdtype(t.dtype, np.integer) else torch.float32
        self.x = torch.tensor(x, dtype=torch.float32)
        self.t = torch.tensor(t, dtype=target_dtype)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[index], self.t[index]


class SmallCNN(nn.Module):
    """Two blocks of conv 3x3 -> ReLU -> max-pool 2x2, then one linear layer to class scores.

    Shapes for a 28x28 grey image: (1, 28, 28) -> (8, 14, 14) -> (16, 7, 7) -> 784 -> 10.

    Parameters
    ----------
    num_classes : int, default 10
        Number of outputs (logits).
    in_channels : int, default 1
        Channels of the input images (1 for MNIST, 3 for colour).
    image_size : int, default 28
        Height and width of the square input images; a multiple of 4 (two 2x2 poolings).

    Examples
    --------
    >>> SmallCNN()(torch.zeros(5, 1, 28, 28)).shape
    torch.Size([5, 10])
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, image_size: int = 28) -> None:
        super().__init__()
        for name, value in [("num_classes", num_classes), ("in_channels", in_channels)]:
            if value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value}")
        if image_size < 4 or image_size % 4:
            raise ValueError(f"image_size must be a positive multiple of 4, got {image_size}")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 8, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.classifier = nn.Linear(16 * (image_size // 4) ** 2, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores (logits) of shape (N, num_classes) for images of shape (N, C, H, W)."""
        return self.classifier(self.features(x))


def pick_device(prefer: str | None = None) -> torch.device:
    """The device to compute on: ``prefer`` if given, else CUDA when available, else the CPU.

    Parameters
    ----------
    prefer : str, optional
        A device name such as ``"cpu"``, ``"cuda"`` or ``"cuda:1"``.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If ``prefer`` names a CUDA device and no GPU is available.

    Examples
    --------
    >>> pick_device("cpu")
    device(type='cpu')
    """
    if prefer is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(prefer)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"prefer={prefer!r} asks for a GPU, but no CUDA device is available")
    return device


def train_epoch(
    model: nn.Module,
    loader: DataLoader,
    optimizer: torch.optim.Optimizer,
    loss_fn: LossFn,
    device: torch.device,
) -> list[float]:
    """Train for one pass over ``loader``; the model must already be on ``device``.

    For each batch: ``zero_grad -> forward -> loss -> backward -> step``.

    Parameters
    ----------
    model : torch.nn.Module
        The network; put in training mode here.
    loader : torch.utils.data.DataLoader
        Yields ``(inputs, targets)`` batches.
    optimizer : torch.optim.Optimizer
        Built over ``model.parameters()``.
    loss_fn : callable
        ``loss_fn(outputs, targets)`` -> scalar tensor, e.g. ``nn.CrossEntropyLoss()``.
    device : torch.device
        Where each batch is moved before the forward pass.

    Returns
    -------
    list of float
        The loss of every batch, in order, each computed before that batch's update.
    """
    model.train()
    losses = []
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def train_epoch_accumulated(
    model: nn.Module,
    loader: DataLoader,
    optimizer: torch.optim.Optimizer,
    loss_fn: LossFn,
    device: torch.device,
    accumulate: int,
) -> None:
    """One pass over ``loader`` with gradient accumulation: one step per ``accumulate`` batches.

    The batches are taken in groups of ``accumulate`` (the last group may have fewer, and the
    last batch fewer samples). Each group gets one forward and backward pass per batch and then
    one step of ``optimizer``, along the gradient of the mean loss over all the samples of the
    group: the step one batch holding the whole group would take, with a fraction of the
    memory. Each batch's mean loss is weighted by its share of the group's samples.

    Parameters
    ----------
    model : torch.nn.Module
        The network, already on ``device``; put in training mode here.
    loader : torch.utils.data.DataLoader
        Yields ``(inputs, targets)`` batches.
    optimizer : torch.optim.Optimizer
        Built over ``model.parameters()``.
    loss_fn : callable
        ``loss_fn(outputs, targets)`` -> the batch's mean loss, e.g. ``nn.CrossEntropyLoss()``.
    device : torch.device
        Where each batch is moved before the forward pass.
    accumulate : int
        Batches per optimizer step, at least 1 (1 is :func:`train_epoch`).
    """
    if accumulate < 1:
        raise ValueError(f"accumulate must be at least 1, got {accumulate}")
    model.train()
    optimizer.zero_grad()
    batches = samples = 0  # in the current group

    def step() -> None:
        for parameter in model.parameters():
            if parameter.grad is not None:
                parameter.grad /= samples  # the sum of the samples' losses -> their mean
        optimizer.step()
        optimizer.zero_grad()

    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        (loss_fn(model(inputs), targets) * len(targets)).backward()  # the batch's summed loss
        batches, samples = batches + 1, samples + len(targets)
        if batches == accumulate:
            step()
            batches = samples = 0
    if batches:
        step()


def evaluate(model: nn.Module, loader: DataLoader, device: torch.device) -> float:
    """Classification accuracy over ``loader``: the share of argmax(outputs) equal to the label.

    Runs in evaluation mode (``model.eval()``) under ``torch.no_grad()``.

    Parameters
    ----------
    model : torch.nn.Module
        Maps inputs to class scores of shape (N, C); already on ``device``.
    loader : torch.utils.data.DataLoader
        Yields ``(inputs, labels)`` with integer labels of shape (N,).
    device : torch.device
        Where each batch is moved.

    Returns
    -------
    float
        Accuracy in [0, 1].
    """
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)
            correct += (model(inputs).argmax(dim=1) == labels).sum().item()
            total += len(labels)
    if total == 0:
        raise ValueError("loader must yield at least one sample")
    return correct / total
