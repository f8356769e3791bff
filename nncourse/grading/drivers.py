"""Run a student's PyTorch code where it lives, and return only what a check needs, as data.

Some checks cannot be done on values alone: a loss must be differentiated by autograd, a
training loop must be given a model, a loader and an optimizer and be watched while it runs,
a returned model must be run on test images. Those objects cannot cross the grader's trust
boundary, so these *drivers* do that work next to the code under test and return plain data:
numbers, arrays, lists of flags. They hold no expected value and no reference
implementation; the grader runs the same driver on the course's reference, in its own
process, and compares the two results there.

:func:`beside` is how a check runs a driver: on the student's kernel for the grader's proxy of
a student's object, in this process for anything else (the reference, or the student's own
objects when a student runs the visible tests in a notebook).

Every driver takes the object it runs as its first argument and builds the rest of its
set-up (models, loaders, optimizers) from plain data, the same way on both sides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

FEATURES, HIDDEN, CLASSES = 6, 8, 3
"""Sizes of :func:`small_mlp`: inputs, hidden units, classes."""


def beside(target: Any, driver: str, *args: Any) -> Any:
    """``DRIVERS[driver](target, *args)``, run in the process where ``target`` lives.

    Parameters
    ----------
    target : object
        The student's function, class or object (or the grader's proxy of one), or a
        reference implementation.
    driver : str
        A key of :data:`DRIVERS`.
    *args
        Plain data.

    Returns
    -------
    object
        What the driver returns (plain data).
    """
    remote = getattr(type(target), "run_driver", None)
    if remote is not None:  # the grader's proxy: the driver runs in the student's kernel
        return remote(target, driver, args)
    return DRIVERS[driver](target, *args)


def describe(value: Any) -> str:
    """What a value is, for a message: ``"a tensor of dtype int64 and shape ()"``."""
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).removeprefix("torch.")
        return f"a tensor of dtype {dtype} and shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


def loss_value_and_grad(loss_fn: Callable, prediction: np.ndarray, target: np.ndarray) -> dict:
    """Call ``loss_fn`` on float64 tensors and differentiate its result w.r.t. the prediction.

    Returns
    -------
    dict
        ``tensor`` (whether the result is a one-element tensor that autograd can
        differentiate), ``what`` (:func:`describe` of the result), and when ``tensor``:
        ``value`` (float) and ``grad`` (ndarray shaped like ``prediction``).
    """
    y = torch.tensor(prediction, dtype=torch.float64, requires_grad=True)
    loss = loss_fn(y, torch.tensor(target, dtype=torch.float64))
    report = {"what": describe(loss), "tensor": isinstance(loss, torch.Tensor)
              and loss.numel() == 1, "differentiable": False}
    if report["tensor"] and loss.requires_grad:
        loss.backward()
        report |= {"differentiable": True, "value": loss.item(),
                   "grad": y.grad.detach().numpy().copy()}
    return report


def autograd_steps(step: Callable, coef: np.ndarray, x: np.ndarray, y: np.ndarray, lr: float,
                   steps: int) -> dict:
    """Call ``step(params, x, y, lr)`` ``steps`` times on 0-d float64 leaf tensors.

    Returns
    -------
    dict
        ``calls``: per call ``{"what", "tensor", "loss", "replaced", "not_leaf",
        "grad_left"}`` (the returned value, whether it is a tensor, it as a float when it is a
        number, whether tensors of the list were replaced, which no longer are leaves that
        require a gradient, which keep a non-zero ``.grad``); ``final``: the parameters'
        values at the end.
    """
    params = [torch.tensor(float(value), dtype=torch.float64, requires_grad=True)
              for value in coef]
    originals = list(params)
    x_t, y_t = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    calls = []
    for _ in range(steps):
        loss = step(params, x_t, y_t, lr)
        number = isinstance(loss, float | int | np.floating) and not isinstance(loss, bool)
        calls.append({
            "what": describe(loss), "tensor": isinstance(loss, torch.Tensor),
            "loss": float(loss) if number else None,
            "replaced": len(params) != len(originals)
            or any(p is not q for p, q in zip(params, originals, strict=True)),
            "not_leaf": [i for i, p in enumerate(params) if not (p.is_leaf and p.requires_grad)],
            "grad_left": [i for i, p in enumerate(params)
                          if p.grad is not None and bool(torch.any(p.grad != 0))]})
        if calls[-1]["replaced"] or calls[-1]["not_leaf"]:
            break  # the next call could not even run: the check reports this one
    return {"calls": calls, "final": [float(p.item()) for p in originals]}


def module_report(model: Any, inputs: Any = None) -> dict:
    """What a returned model is, and its outputs on ``inputs`` (under ``torch.no_grad()``).

    Returns
    -------
    dict
        ``module`` (whether it is a ``nn.Module``), ``what``, ``parameters`` (their
        count), ``state`` (each parameter as a float64 array, by name) and, given inputs,
        ``output`` (float64 array).
    """
    if not isinstance(model, nn.Module):
        return {"module": False, "what": describe(model)}
    report = {"module": True, "what": type(model).__name__,
              "parameters": sum(p.numel() for p in model.parameters()),
              "state": {name: p.detach().cpu().double().numpy().copy()
                        for name, p in model.named_parameters()}}
    if inputs is not None:
        with torch.no_grad():
            report["output"] = model(torch.as_tensor(inputs)).detach().cpu().double().numpy()
    return report


def predicted_classes(model: Any, images: np.ndarray, batch_size: int = 1000) -> dict:
    """The class of largest logit for each image, the model in evaluation mode.

    Returns
    -------
    dict
        ``module`` (whether it is a ``nn.Module``), ``what``, and ``classes`` (int64
        array of shape (N,)).
    """
    if not isinstance(model, nn.Module):
        return {"module": False, "what": describe(model)}
    model.eval()
    images = torch.as_tensor(np.asarray(images, dtype=np.float32))
    with torch.no_grad():
        classes = [model(images[start:start + batch_size]).argmax(dim=1)
                   for start in range(0, len(images), batch_size)]
    return {"module": True, "what": type(model).__name__,
            "classes": torch.cat(classes).numpy().astype(np.int64)}


def dataset_items(dataset_class: Callable, x: np.ndarray, t: np.ndarray) -> dict:
    """Build ``dataset_class(x, t)`` and read it as a ``DataLoader`` would.

    Returns
    -------
    dict
        ``dataset`` (whether it is a ``torch.utils.data.Dataset``), ``length``, ``items``
        (each ``(image, label)`` pair as returned, when they are data), ``batch`` (one
        ``DataLoader`` batch of everything, as ``(images, labels)``), and ``mismatch_error``
        (the exception's name when ``x`` and ``t[:-1]`` are given, or None).
    """
    dataset = dataset_class(x.copy(), t.copy())
    report: dict[str, Any] = {"dataset": isinstance(dataset, Dataset), "length": len(dataset)}
    report["items"] = [tuple(item) if isinstance(item, tuple | list) else describe(item)
                       for item in (dataset[index] for index in range(len(x)))]
    images, labels = next(iter(DataLoader(dataset, batch_size=max(1, len(x)))))
    report["batch"] = (images, labels)
    try:
        dataset_class(x, t[:-1])
        report["mismatch_error"] = None
    except Exception as error:  # noqa: BLE001 (which exception is what is checked)
        report["mismatch_error"] = type(error).__name__
    report["tensor_types"] = [
        [isinstance(part, torch.Tensor) for part in item] if isinstance(item, tuple) else []
        for item in report["items"]]
    return report


def small_mlp(seed: int, dropout: float) -> Any:
    """The seeded model of the pipeline checks: Linear(6, 8), ReLU, Dropout, Linear(8, 3)."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(FEATURES, HIDDEN), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(HIDDEN, CLASSES))


def small_data(seed: int, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded Gaussian inputs ``(samples, 6)`` (float32) and labels in {0, 1, 2}."""
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(samples, FEATURES)).astype(np.float32),
            rng.integers(0, CLASSES, size=samples))


class ModeRecorder(nn.Module):
    """Wraps a model and records, at every forward pass, the mode it ran in.

    Parameters
    ----------
    model : nn.Module
        The model to run; ``ModeRecorder(model)(x)`` returns ``model(x)``.

    Attributes
    ----------
    model : nn.Module
        The wrapped model (``train()`` and ``eval()`` reach it as usual).
    calls : list of (bool, bool)
        For each forward pass so far: ``(training, grad_enabled)``, i.e. whether the model was
        in training mode and whether autograd was recording a graph.

    Examples
    --------
    >>> recorder = ModeRecorder(nn.Linear(2, 1)).eval()
    >>> with torch.no_grad():
    ...     _ = recorder(torch.zeros(4, 2))
    >>> recorder.calls
    [(False, False)]
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.calls: list[tuple[bool, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``model(x)``, after recording ``(self.training, torch.is_grad_enabled())``."""
        self.calls.append((self.training, torch.is_grad_enabled()))
        return self.model(x)


def _model(spec: tuple) -> nn.Module:
    """A model from plain data.

    ``("mlp", seed, dropout)`` is :func:`small_mlp`; ``("linear", weight, bias, dropout)`` a
    ``Linear`` layer with the given weight (C, D) and bias (C,), then ``Dropout(dropout)``.
    """
    if spec[0] == "mlp":
        return small_mlp(int(spec[1]), float(spec[2]))
    weight, bias = (torch.tensor(np.asarray(value), dtype=torch.float32) for value in spec[1:3])
    layer = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    return nn.Sequential(layer, nn.Dropout(float(spec[3])))


def _loader(x: np.ndarray, t: np.ndarray, batch_size: int, shuffle_seed: int | None) -> Any:
    data = TensorDataset(torch.as_tensor(np.asarray(x, dtype=np.float32)),
                         torch.as_tensor(np.asarray(t, dtype=np.int64)))
    if shuffle_seed is None:
        return DataLoader(data, batch_size=batch_size)
    return DataLoader(data, batch_size=batch_size, shuffle=True,
                      generator=torch.Generator().manual_seed(int(shuffle_seed)))


OPTIMIZERS = {"sgd": "SGD", "adam": "Adam"}


def _run(model: Any, result: Any) -> dict:
    number = isinstance(result, float | int | np.floating) and not isinstance(result, bool)
    return {"result": float(result) if number else None, "what": describe(result),
            "tensor": isinstance(result, torch.Tensor),
            "calls": [list(call) for call in model.calls],
            "state": {name: p.detach().cpu().double().numpy().copy()
                      for name, p in model.model.named_parameters()}}


def train_epoch_run(train_epoch: Callable, model_spec: tuple, data: tuple, batch_size: int,
                    shuffle_seed: int | None, optimizer: tuple, seed: int,
                    extra: tuple = ()) -> dict:
    """Give ``train_epoch(model, loader, optimizer, loss_fn, device)`` a fresh set-up, watch it.

    The model (built from ``model_spec``, see :func:`_model`) is wrapped in a recorder of
    its forward passes and left in evaluation mode, as an evaluation before would leave it;
    ``optimizer`` is ``(name, settings)`` with a name of :data:`OPTIMIZERS`; ``seed`` seeds
    torch (the dropout masks) right before the call; ``extra`` holds further arguments after
    ``device`` (e.g. ``(accumulate,)``).

    Returns
    -------
    dict
        ``result`` (the return value as a float, when it is a number), ``what``, ``tensor``,
        ``calls`` (``[training, grad_enabled]`` per forward pass) and ``state`` (the
        parameters afterwards, float64 arrays by name).
    """
    model = ModeRecorder(_model(model_spec)).eval()
    name, settings = optimizer
    optim = getattr(torch.optim, OPTIMIZERS[name])(model.parameters(), **settings)
    loader = _loader(*data, batch_size, shuffle_seed)
    torch.manual_seed(seed)
    result = train_epoch(model, loader, optim, nn.CrossEntropyLoss(), torch.device("cpu"),
                         *extra)
    return _run(model, result)


def evaluate_run(evaluate: Callable, model_spec: tuple, data: tuple, batch_size: int,
                 seed: int) -> dict:
    """Give ``evaluate(model, loader, device)`` a model left in training mode, watch it.

    Returns
    -------
    dict
        As :func:`train_epoch_run`.
    """
    model = ModeRecorder(_model(model_spec)).train()
    torch.manual_seed(seed)
    result = evaluate(model, _loader(*data, batch_size, None), torch.device("cpu"))
    return _run(model, result)


DRIVERS: dict[str, Callable[..., Any]] = {
    "loss_value_and_grad": loss_value_and_grad, "autograd_steps": autograd_steps,
    "module_report": module_report, "predicted_classes": predicted_classes,
    "dataset_items": dataset_items, "train_epoch_run": train_epoch_run,
    "evaluate_run": evaluate_run}
"""The drivers :func:`beside` may run, by name (the kernel's server runs no others)."""
