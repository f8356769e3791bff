"""Checks of the exercises on the PyTorch training pipeline (chapter 8).

A student's ``Dataset``, training epoch and evaluation loop are compared with
:mod:`nncourse.torch_pipeline` on small seeded problems. The two sides get identical copies
of everything: the model (a small MLP with dropout), the data, a ``DataLoader`` whose shuffling
has its own seeded generator, a fresh optimizer of the same kind, and the same global seed for
the dropout masks, so a correct answer matches the reference to rounding. A
:class:`ModeRecorder` around the model notes, at every forward pass, whether the model was in
training mode and whether autograd was recording: that is how a missing ``model.train()``,
``model.eval()`` or ``torch.no_grad()`` is named in the message, not only seen in the numbers.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from nncourse import torch_pipeline
from nncourse.grading.asserts import assert_close, short_repr
from nncourse.grading.handwritten import assert_written_by_hand

Array = NDArray[np.float64]
CPU = torch.device("cpu")
OPTIMIZERS: dict[str, Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]] = {
    "sgd": lambda params: torch.optim.SGD(params, lr=0.5),
    "momentum": lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9),
    "adam": lambda params: torch.optim.Adam(params, lr=0.02),
}
"""The optimizers of :func:`check_train_epoch`'s cases, by name, built over the parameters."""
FEATURES, HIDDEN, CLASSES = 6, 8, 3
"""Sizes of :func:`small_mlp`: inputs, hidden units, classes."""


def _fail(message: str, hint: str | None = None) -> None:
    raise AssertionError(message + (f"\n  hint: {hint}" if hint else ""))


class ModeRecorder(nn.Module):
    """Wraps a model and records, at every forward pass, the mode it ran in.

    Parameters
    ----------
    model : torch.nn.Module
        The model to run; ``ModeRecorder(model)(x)`` returns ``model(x)``.

    Attributes
    ----------
    model : torch.nn.Module
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


def assert_forward_modes(recorder: ModeRecorder, *, training: bool, name: str,
                         batches: int | None = None) -> None:
    """Check how a function ran a model: its mode, autograd, and the number of forward passes.

    Training (``training=True``) must run every forward pass in training mode with autograd
    on; evaluation (``training=False``) in evaluation mode under ``torch.no_grad()``.

    Parameters
    ----------
    recorder : ModeRecorder
        The model the function was given, after the call.
    training : bool
        True for a training loop, False for an evaluation loop.
    name : str
        The call, as the message names it, e.g. ``"train_epoch(model, loader, ...)"``.
    batches : int, optional
        How many forward passes there must have been (one per batch).

    Raises
    ------
    AssertionError
        Naming what was wrong and what to call.

    Examples
    --------
    >>> recorder = ModeRecorder(nn.Linear(2, 1))
    >>> _ = recorder(torch.zeros(3, 2))
    >>> assert_forward_modes(recorder, training=True, name="one step", batches=1)
    """
    calls = recorder.calls
    if batches is not None and len(calls) != batches:
        _fail(f"{name} ran the model {len(calls)} times; expected one forward pass per batch, "
              f"{batches} in all", "loop once over the loader and call model(inputs) once per "
              "batch")
    if training:
        if not all(mode for mode, _ in calls):
            _fail(f"{name} ran the model in evaluation mode", "call model.train() at the start: "
                  "the model you get may have been left in evaluation mode by an evaluation")
        if not all(grad for _, grad in calls):
            _fail(f"{name} ran the model with autograd switched off, so nothing can be learnt",
                  "no torch.no_grad() in the training loop")
        return
    if any(mode for mode, _ in calls):
        _fail(f"{name} ran the model in training mode, where dropout zeroes random units",
              "call model.eval() before the loop")
    if any(grad for _, grad in calls):
        _fail(f"{name} ran the model with autograd recording a graph for every batch",
              "put the loop inside `with torch.no_grad():`")


def assert_class_written_by_hand(cls: type, forbidden: tuple[str, ...] = ("nncourse",), *,
                                 namespace: dict[str, Any] | None = None) -> None:
    """Fail when a student's class inherits from, or its methods use, forbidden code.

    :func:`~nncourse.grading.assert_written_by_hand` follows the methods a class defines; a
    class that only inherits them (``class ArrayDataset(torch_pipeline.ArrayDataset): pass``)
    defines none, so its base classes are checked here first.

    Parameters
    ----------
    cls : type
        The student's class.
    forbidden : tuple of str, default ("nncourse",)
        Modules or qualified names that may not be used or inherited from.
    namespace : dict, optional
        The student's globals; by default those of the calling test cell.

    Raises
    ------
    AssertionError
        Naming the forbidden base class, or what a method uses.
    """
    home = namespace if namespace is not None else sys._getframe(1).f_globals
    name = getattr(cls, "__name__", "the class")
    for base in getattr(cls, "__mro__", ())[1:]:
        module = base.__module__
        if any(module == entry or module.startswith(f"{entry}.") for entry in forbidden):
            _fail(f"{name} inherits from {module}.{base.__qualname__}, which this task does not "
                  "allow: write the class and its methods yourself.")
    assert_written_by_hand(cls, forbidden, namespace=home)


def parameters_of(model: nn.Module) -> dict[str, Array]:
    """Every parameter of a model as a float64 array, by name (copies).

    Parameters
    ----------
    model : torch.nn.Module
        Any model; its parameters are not changed.

    Returns
    -------
    dict of str to ndarray
        ``{"0.weight": array of shape (8, 6), ...}`` for :func:`small_mlp`.
    """
    return {key: value.detach().cpu().double().numpy().copy()
            for key, value in model.named_parameters()}


def _check_dataset_case(student_class: type, x: np.ndarray, t: np.ndarray) -> None:
    where = f"{student_class.__name__}(x of shape {x.shape} {x.dtype}, t of dtype {t.dtype})"
    dataset = student_class(x.copy(), t.copy())
    reference = torch_pipeline.ArrayDataset(x, t)
    if not isinstance(dataset, Dataset):
        _fail(f"{where} is not a torch.utils.data.Dataset", "class ArrayDataset(Dataset): ...")
    if len(dataset) != len(reference):
        _fail(f"len({where}) is {len(dataset)}, expected {len(reference)}",
              "__len__ returns the number of samples, len(x)")
    for index in range(len(reference)):
        item = dataset[index]
        if not isinstance(item, tuple | list) or len(item) != 2:
            _fail(f"{where}[{index}] returned {short_repr(item)}; expected (image, label)")
        for got, expected, what in zip(item, reference[index], ("image", "label"), strict=True):
            call = f"the {what} of {where}[{index}]"
            if not isinstance(got, torch.Tensor):
                _fail(f"{call} is a {type(got).__name__}, expected a tensor",
                      "convert the arrays to tensors in __init__ with torch.tensor")
            if got.dtype != expected.dtype or got.shape != expected.shape:
                _fail(f"{call} is a tensor of dtype {got.dtype} and shape {tuple(got.shape)}, "
                      f"expected dtype {expected.dtype} and shape {tuple(expected.shape)}",
                      "images become float32 and labels int64, whatever dtype the arrays "
                      "hold; __getitem__ returns one row of each")
            assert_close(got.double().numpy(), expected.double().numpy(), name=call)
    images, labels = next(iter(DataLoader(dataset, batch_size=len(reference))))
    assert_close(images.double().numpy(), reference.x.double().numpy(),
                 name=f"a DataLoader batch of all the images of {where}")
    assert_close(labels.numpy(), reference.t.numpy(),
                 name=f"a DataLoader batch of all the labels of {where}")


def check_dataset(student_class: type, cases: Iterable[tuple[np.ndarray, np.ndarray]]) -> None:
    """Compare a student's ``ArrayDataset`` class with the course's, sample by sample.

    For each case the class must build a ``Dataset`` of the right length whose items are
    ``(image, label)`` pairs equal to :class:`nncourse.torch_pipeline.ArrayDataset`'s: a
    float32 image tensor and an int64 label tensor of shape (). A ``DataLoader`` over it must
    give the same batch, and arrays of different lengths must raise a ``ValueError``.

    Parameters
    ----------
    student_class : type
        Called as ``student_class(x, t)`` (each call gets its own copies of the arrays).
    cases : iterable of (ndarray of shape (N, ...), ndarray of shape (N,))
        Images of any numeric dtype and integer labels.

    Raises
    ------
    AssertionError
        Naming the case, the item and what differs.
    """
    for x, t in cases:
        x, t = np.asarray(x), np.asarray(t)
        _check_dataset_case(student_class, x, t)
        try:
            student_class(x, t[:-1])
        except ValueError:
            continue
        _fail(f"{student_class.__name__}(x of length {len(x)}, t of length {len(t) - 1}) "
              "raised no ValueError", "compare len(x) and len(t) in __init__")


def small_mlp(seed: int, dropout: float) -> nn.Sequential:
    """The seeded model of the checks: Linear(6, 8), ReLU, Dropout, Linear(8, 3).

    Parameters
    ----------
    seed : int
        ``torch.manual_seed`` before the layers are built.
    dropout : float
        Probability of the dropout layer (0 makes it do nothing).

    Returns
    -------
    torch.nn.Sequential
        Maps inputs of shape (N, 6) to logits of shape (N, 3).
    """
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(FEATURES, HIDDEN), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(HIDDEN, CLASSES))


def small_data(seed: int, samples: int) -> TensorDataset:
    """Seeded Gaussian inputs (samples, 6) in float32 and labels in {0, 1, 2} (int64).

    Parameters
    ----------
    seed : int
        Seed of ``np.random.default_rng``.
    samples : int
        N.

    Returns
    -------
    torch.utils.data.TensorDataset
        Items ``(input of shape (6,), label of shape ())``.
    """
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.normal(size=(samples, FEATURES)), dtype=torch.float32)
    return TensorDataset(x, torch.tensor(rng.integers(0, CLASSES, size=samples)))


def _shuffled(data: TensorDataset, batch_size: int, seed: int) -> DataLoader:
    """A loader whose order depends only on ``seed``: two of them visit the same batches."""
    return DataLoader(data, batch_size=batch_size, shuffle=True,
                      generator=torch.Generator().manual_seed(seed))


def _as_float(value: Any, call: str, hint: str) -> float:
    if isinstance(value, torch.Tensor):
        _fail(f"{call} returned a tensor ({short_repr(value)}); expected a Python float", hint)
    if not isinstance(value, float | int | np.floating | np.integer) \
            or isinstance(value, bool | np.bool_):
        _fail(f"{call} returned {short_repr(value)}; expected a float", hint)
    return float(value)


def check_train_epoch(student_fn: Callable, cases: Iterable[tuple[int, int, int, str]], *,
                      rtol: float = 1e-5, atol: float = 1e-7) -> None:
    """Run a student's training epoch and the course's side by side on identical copies.

    Each case builds :func:`small_mlp` with dropout 0.2 inside a :class:`ModeRecorder`, puts
    it in evaluation mode (as an evaluation before it would), and gives each side its own copy,
    its own shuffled loader of the same order over :func:`small_data`, its own optimizer
    of the case's kind and the same global seed for the dropout masks. The student's function
    must return the mean of the batch losses as a float, run one forward pass per batch in
    training mode, and leave the parameters where
    :func:`nncourse.torch_pipeline.train_epoch` leaves them.

    Parameters
    ----------
    student_fn : callable
        ``student_fn(model, loader, optimizer, loss_fn, device)``.
    cases : iterable of (seed, samples, batch_size, optimizer)
        ``optimizer`` is a key of :data:`OPTIMIZERS`; use sizes that leave a shorter last
        batch.
    rtol, atol : float
        Tolerances of the comparison.

    Raises
    ------
    AssertionError
        Naming the case and what differs: the mode, the parameters, or the mean loss.
    """
    name = getattr(student_fn, "__name__", "train_epoch")
    for seed, samples, batch_size, optimizer in cases:
        data = small_data(seed, samples)
        recorder = ModeRecorder(small_mlp(seed, dropout=0.2)).eval()
        reference_model = copy.deepcopy(recorder)
        call = (f"{name}(model, loader, optimizer, loss_fn, device) with {samples} samples in "
                f"batches of {batch_size} and optimizer {optimizer!r}")
        torch.manual_seed(seed)
        got = student_fn(recorder, _shuffled(data, batch_size, seed),
                         OPTIMIZERS[optimizer](recorder.parameters()), nn.CrossEntropyLoss(), CPU)
        torch.manual_seed(seed)
        losses = torch_pipeline.train_epoch(
            reference_model, _shuffled(data, batch_size, seed),
            OPTIMIZERS[optimizer](reference_model.parameters()), nn.CrossEntropyLoss(), CPU)
        mean_loss = _as_float(got, call, "return the mean of the batch losses, e.g. "
                              "sum(losses) / len(losses) with losses.append(loss.item())")
        assert_forward_modes(recorder, training=True, name=call, batches=len(losses))
        assert_close(parameters_of(recorder.model), parameters_of(reference_model.model),
                     rtol=rtol, atol=atol, name=f"the parameters after {call}",
                     hint="for every batch: optimizer.zero_grad() (backward() adds to .grad), "
                          "forward, loss, loss.backward(), optimizer.step()")
        assert_close(mean_loss, float(np.mean(losses)), rtol=rtol, atol=atol, name=call,
                     hint="return the mean of the batch losses, each batch counted once, each "
                          "computed before that batch's step")


def check_evaluate(student_fn: Callable, cases: Iterable[tuple[int, int, int]]) -> None:
    """Compare a student's evaluation loop with the course's on a model left in training mode.

    Each case builds :func:`small_mlp` with dropout 0.5 inside a :class:`ModeRecorder`, in
    training mode, and a loader in batches over :func:`small_data`. The student's function must
    run every forward pass in evaluation mode under ``torch.no_grad()`` and return, as a float,
    the accuracy :func:`nncourse.torch_pipeline.evaluate` returns for a copy of the model.

    Parameters
    ----------
    student_fn : callable
        ``student_fn(model, loader, device)``.
    cases : iterable of (seed, samples, batch_size)
        Use sizes that leave a shorter last batch, where a mean of the batches' accuracies
        differs from the accuracy over all samples.

    Raises
    ------
    AssertionError
        Naming the case and what differs: the mode or the accuracy.
    """
    name = getattr(student_fn, "__name__", "evaluate")
    for seed, samples, batch_size in cases:
        data = small_data(seed, samples)
        recorder = ModeRecorder(small_mlp(seed, dropout=0.5)).train()
        reference_model = copy.deepcopy(recorder)
        call = f"{name}(model, loader, device) with {samples} samples in batches of {batch_size}"
        torch.manual_seed(seed)
        got = student_fn(recorder, DataLoader(data, batch_size=batch_size), CPU)
        expected = torch_pipeline.evaluate(reference_model, DataLoader(data, batch_size=samples),
                                           CPU)
        accuracy = _as_float(got, call, "count the correct answers with .sum().item() and "
                             "return correct / total")
        assert_forward_modes(recorder, training=False, name=call,
                             batches=-(-samples // batch_size))
        assert_close(accuracy, expected, rtol=1e-12, name=call,
                     hint="the share of all samples whose largest logit is at the label: add up "
                          "the correct answers and the samples over all batches, then divide")


def assert_accuracy(model: nn.Module, x: np.ndarray, t: np.ndarray, *, minimum: float,
                    name: str = "the model") -> None:
    """Check a trained classifier's accuracy, measured by the course's evaluation loop.

    Parameters
    ----------
    model : torch.nn.Module
        Maps images of shape (N, 1, 28, 28) (float32, on the CPU) to logits (N, 10).
    x : ndarray of shape (N, 1, 28, 28)
        Test images.
    t : ndarray of shape (N,)
        Their integer labels.
    minimum : float
        The accuracy must be above this, in [0, 1].
    name : str, default "the model"
        How the message refers to the model.

    Raises
    ------
    AssertionError
        With the accuracy reached and what to look at.
    """
    if not isinstance(model, nn.Module):
        _fail(f"{name} is {short_repr(model)}, expected a torch.nn.Module")
    loader = DataLoader(torch_pipeline.ArrayDataset(x, np.asarray(t)), batch_size=1000)
    accuracy = torch_pipeline.evaluate(model, loader, CPU)
    if not accuracy > minimum:
        _fail(f"{name} classifies {accuracy:.2%} of {len(t)} test images correctly, expected "
              f"more than {minimum:.0%}",
              "check that the training loss falls from epoch to epoch; a loss that stalls or "
              "grows points at train_epoch (zero_grad?) or at the learning rate")


def assert_same_model(got: nn.Module, expected: nn.Module, *, name: str,
                      hint: str | None = None) -> None:
    """Check that two models have the same parameter names, shapes and values (to 1e-6).

    Parameters
    ----------
    got : torch.nn.Module
        A model the student's code returned.
    expected : torch.nn.Module
        The model it must equal.
    name : str
        How the message refers to ``got``.
    hint : str, optional
        A line added to the message when they differ.

    Raises
    ------
    AssertionError
        Naming the first parameter that differs.
    """
    assert_close(parameters_of(got), parameters_of(expected), rtol=1e-6, atol=1e-7, name=name,
                 hint=hint)
