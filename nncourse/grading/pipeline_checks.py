"""Checks of the exercises on the PyTorch training pipeline (chapter 8).

A student's ``Dataset``, training epoch and evaluation loop are compared with
:mod:`nncourse.torch_pipeline` on small seeded problems. Each side runs the same driver of
:mod:`nncourse.grading.drivers` where its code lives (the student's in the student's kernel,
the reference here): the driver builds the model (a small MLP with dropout), the data, a
``DataLoader`` whose shuffling has its own seeded generator and a fresh optimizer from plain
data, seeds the dropout masks, runs the function, and returns plain data: the result, the
parameters afterwards, and, through a :class:`~nncourse.grading.drivers.ModeRecorder`
around the model, whether every forward pass ran in training mode and with autograd. That
is how a missing ``model.train()``, ``model.eval()`` or ``torch.no_grad()`` is named in the
message, not only seen in the numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nncourse import torch_pipeline
from nncourse.grading.asserts import assert_close, short_repr
from nncourse.grading.drivers import (
    CLASSES,
    ModeRecorder,
    beside,
    describe,
    small_data,
    small_mlp,
)

Array = NDArray[np.float64]
OPTIMIZERS: dict[str, tuple[str, dict[str, float]]] = {
    "sgd": ("sgd", {"lr": 0.5}),
    "momentum": ("sgd", {"lr": 0.1, "momentum": 0.9}),
    "adam": ("adam", {"lr": 0.02}),
}
"""The optimizers of :func:`check_train_epoch`'s cases: a driver's name and settings."""
__all__ = ["CLASSES", "ModeRecorder", "small_data", "small_mlp"]


def _fail(message: str, hint: str | None = None) -> None:
    raise AssertionError(message + (f"\n  hint: {hint}" if hint else ""))


def assert_forward_modes(calls: list, *, training: bool, name: str,
                         batches: int | None = None) -> None:
    """Check how a function ran a model: its mode, autograd, and the number of forward passes.

    Training (``training=True``) must run every forward pass in training mode with autograd
    on; evaluation (``training=False``) in evaluation mode under ``torch.no_grad()``.

    Parameters
    ----------
    calls : list of (bool, bool)
        ``(training, grad_enabled)`` of every forward pass, as a
        :class:`~nncourse.grading.drivers.ModeRecorder` noted them.
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
    >>> assert_forward_modes([(True, True)], training=True, name="one step", batches=1)
    """
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


def _check_dataset_case(student_class: Callable, x: np.ndarray, t: np.ndarray) -> None:
    where = (f"{getattr(student_class, '__name__', 'ArrayDataset')}(x of shape {x.shape} "
             f"{x.dtype}, t of dtype {t.dtype})")
    got = beside(student_class, "dataset_items", x, t)
    expected = beside(torch_pipeline.ArrayDataset, "dataset_items", x, t)
    if not got["dataset"]:
        _fail(f"{where} is not a torch.utils.data.Dataset", "class ArrayDataset(Dataset): ...")
    if got["length"] != expected["length"]:
        _fail(f"len({where}) is {got['length']}, expected {expected['length']}",
              "__len__ returns the number of samples, len(x)")
    for index, (item, want) in enumerate(zip(got["items"], expected["items"], strict=True)):
        if not isinstance(item, tuple) or len(item) != 2:
            _fail(f"{where}[{index}] returned {short_repr(item)}; expected (image, label)")
        for part, (value, wanted, what) in enumerate(zip(item, want, ("image", "label"),
                                                         strict=True)):
            call = f"the {what} of {where}[{index}]"
            if not got["tensor_types"][index][part]:
                _fail(f"{call} is {describe(value)}, expected a tensor",
                      "convert the arrays to tensors in __init__ with torch.tensor")
            if value.dtype != wanted.dtype or value.shape != wanted.shape:
                _fail(f"{call} is a tensor of dtype {value.dtype} and shape "
                      f"{tuple(value.shape)}, expected dtype {wanted.dtype} and shape "
                      f"{tuple(wanted.shape)}", "images become float32 and labels int64, "
                      "whatever dtype the arrays hold; __getitem__ returns one row of each")
            assert_close(value.double().numpy(), wanted.double().numpy(), name=call)
    for part, what in enumerate(("images", "labels")):
        assert_close(got["batch"][part].double().numpy(),
                     expected["batch"][part].double().numpy(),
                     name=f"a DataLoader batch of all the {what} of {where}")
    if got["mismatch_error"] != "ValueError":
        raised = f"{got['mismatch_error']}, not a" if got["mismatch_error"] else "no"
        _fail(f"{where.replace('t of dtype', 't one shorter, of dtype')} raised {raised} "
              "ValueError", "compare len(x) and len(t) in __init__")


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
        _check_dataset_case(student_class, np.asarray(x), np.asarray(t))


def _as_float(run: dict, call: str, hint: str) -> float:
    """The number a driver's run returned, or a failure that says what came back instead."""
    if run["tensor"]:
        _fail(f"{call} returned {run['what']}; expected a Python float", hint)
    if run["result"] is None:
        _fail(f"{call} returned {run['what']}; expected a float", hint)
    return run["result"]


def check_train_epoch(student_fn: Callable, cases: Iterable[tuple[int, int, int, str]], *,
                      rtol: float = 1e-5, atol: float = 1e-7) -> None:
    """Run a student's training epoch and the course's side by side on identical set-ups.

    Each case runs :func:`~nncourse.grading.drivers.train_epoch_run` twice, once with the
    student's function (in the student's kernel when graded) and once with
    :func:`nncourse.torch_pipeline.train_epoch`: :func:`small_mlp` with dropout 0.2 left in
    evaluation mode, a shuffled loader of the same order over :func:`small_data`, a fresh
    optimizer of the case's kind and the same seed for the dropout masks. The student's
    function must return the mean of the batch losses as a float, run one forward pass per
    batch in training mode, and leave the parameters where the course's loop leaves them.

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
        call = (f"{name}(model, loader, optimizer, loss_fn, device) with {samples} samples in "
                f"batches of {batch_size} and optimizer {optimizer!r}")
        got, expected = _epochs_beside(student_fn, _course_epoch, seed, samples, batch_size,
                                       optimizer, (), call, rtol=rtol, atol=atol,
                                       hint="for every batch: optimizer.zero_grad() (backward() "
                                            "adds to .grad), forward, loss, loss.backward(), "
                                            "optimizer.step()")
        mean_loss = _as_float(got, call, "return the mean of the batch losses, e.g. "
                              "sum(losses) / len(losses) with losses.append(loss.item())")
        assert_close(mean_loss, expected["result"], rtol=rtol, atol=atol, name=call,
                     hint="return the mean of the batch losses, each batch counted once, each "
                          "computed before that batch's step")


def check_accumulated_epoch(student_fn: Callable,
                            cases: Iterable[tuple[int, int, int, int, str]], *,
                            rtol: float = 1e-5, atol: float = 1e-7) -> None:
    """Compare a student's epoch with gradient accumulation with the course's, side by side.

    As :func:`check_train_epoch`, with
    :func:`nncourse.torch_pipeline.train_epoch_accumulated` as the reference and
    ``accumulate`` passed after ``device``: the function must run one forward pass per batch,
    in training mode, and leave the parameters where one optimizer step per group of
    ``accumulate`` batches, along the mean loss over the group's samples, leaves them. What
    it returns is not checked.

    Parameters
    ----------
    student_fn : callable
        ``student_fn(model, loader, optimizer, loss_fn, device, accumulate)``.
    cases : iterable of (seed, samples, batch_size, accumulate, optimizer)
        ``optimizer`` is a key of :data:`OPTIMIZERS`; use sizes that leave a shorter last
        batch and a last group of fewer batches.
    rtol, atol : float
        Tolerances of the comparison.

    Raises
    ------
    AssertionError
        Naming the case and what differs: the mode, the number of forward passes, or the
        parameters.
    """
    name = getattr(student_fn, "__name__", "train_epoch_accumulated")
    for seed, samples, batch_size, accumulate, optimizer in cases:
        call = (f"{name}(model, loader, optimizer, loss_fn, device, accumulate={accumulate}) "
                f"with {samples} samples in batches of {batch_size} and optimizer {optimizer!r}")
        _epochs_beside(student_fn, torch_pipeline.train_epoch_accumulated, seed, samples,
                       batch_size, optimizer, (accumulate,), call, rtol=rtol, atol=atol,
                       hint="one optimizer step per group of batches, the last group too, "
                            "along the mean loss over all the samples of the group")


def _epochs_beside(student_fn: Callable, reference_fn: Callable, seed: int, samples: int,
                   batch_size: int, optimizer: str, extra: tuple, call: str, *, rtol: float,
                   atol: float, hint: str) -> tuple[dict, dict]:
    """Run a training epoch of the student's and the reference's on one set-up; compare them.

    The set-up: :func:`small_mlp` with dropout 0.2 left in evaluation mode, a loader over
    :func:`small_data` shuffled by a generator seeded with ``seed``, a fresh optimizer of
    :data:`OPTIMIZERS`, and ``seed`` for the dropout masks. Checks the forward passes' modes
    and number and the parameters afterwards; returns both runs' reports.
    """
    setup = (("mlp", seed, 0.2), small_data(seed, samples), batch_size, seed,
             OPTIMIZERS[optimizer], seed, extra)
    got = beside(student_fn, "train_epoch_run", *setup)
    expected = beside(reference_fn, "train_epoch_run", *setup)
    assert_forward_modes(got["calls"], training=True, name=call, batches=len(expected["calls"]))
    assert_close(got["state"], expected["state"], rtol=rtol, atol=atol,
                 name=f"the parameters after {call}", hint=hint)
    return got, expected


def _course_epoch(*args: Any) -> float:
    """:func:`nncourse.torch_pipeline.train_epoch`, as the mean of its batch losses."""
    return float(np.mean(torch_pipeline.train_epoch(*args)))


def check_evaluate(student_fn: Callable, cases: Iterable[tuple[int, int, int]]) -> None:
    """Compare a student's evaluation loop with the course's on a model left in training mode.

    Each case runs :func:`~nncourse.grading.drivers.evaluate_run` with the student's function
    and with :func:`nncourse.torch_pipeline.evaluate`: :func:`small_mlp` with dropout 0.5 in
    training mode and a loader in batches over :func:`small_data`. The student's function must
    run every forward pass in evaluation mode under ``torch.no_grad()`` and return, as a float,
    the accuracy the course's loop returns.

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
        call = f"{name}(model, loader, device) with {samples} samples in batches of {batch_size}"
        got = beside(student_fn, "evaluate_run", ("mlp", seed, 0.5), data, batch_size, seed)
        expected = beside(torch_pipeline.evaluate, "evaluate_run", ("mlp", seed, 0.5), data,
                          samples, seed)
        accuracy = _as_float(got, call, "count the correct answers with .sum().item() and "
                             "return correct / total")
        assert_forward_modes(got["calls"], training=False, name=call,
                             batches=-(-samples // batch_size))
        assert_close(accuracy, expected["result"], rtol=1e-12, name=call,
                     hint="the share of all samples whose largest logit is at the label: add up "
                          "the correct answers and the samples over all batches, then divide")


def tiny_epoch(student_fn: Callable, x: Any, t: Any, *, batch_size: int, lr: float,
               optimizer: str = "sgd", accumulate: int | None = None) -> dict:
    """Run ``student_fn`` as a training epoch of a zero-initialised linear layer.

    The layer maps ``x``'s features to ``t``'s classes, starts with zero weights and biases in
    evaluation mode, and is trained on ``(x, t)`` in batches of ``batch_size``, in order, with
    ``optimizer`` (``"sgd"`` or ``"adam"``, learning rate ``lr``). With ``accumulate``,
    ``student_fn`` gets it as a sixth argument (gradient accumulation).

    Returns
    -------
    dict
        :func:`~nncourse.grading.drivers.train_epoch_run`'s report: ``result`` (the return
        value as a float, if a number), ``what``, ``tensor``, ``calls`` and ``state``
        (``"0.weight"``, ``"0.bias"``).
    """
    x, t = np.asarray(x, dtype=np.float32), np.asarray(t, dtype=np.int64)
    classes = int(t.max()) + 1
    zeros = (np.zeros((classes, x.shape[1])), np.zeros(classes))
    extra = () if accumulate is None else (int(accumulate),)
    return beside(student_fn, "train_epoch_run", ("linear", *zeros, 0.0), (x, t), batch_size,
                  None, (optimizer, {"lr": lr}), 0, extra)


def tiny_evaluation(student_fn: Callable, weight: Any, x: Any, t: Any, *,
                    batch_size: int) -> dict:
    """Run ``student_fn`` as an evaluation loop of a linear layer with dropout 0.5.

    The layer (``weight``, zero biases, then ``Dropout(0.5)``) is left in training mode, as a
    training loop would leave it; the loader goes over ``(x, t)`` in batches, in order.

    Returns
    -------
    dict
        :func:`~nncourse.grading.drivers.evaluate_run`'s report.
    """
    weight = np.asarray(weight, dtype=np.float64)
    return beside(student_fn, "evaluate_run", ("linear", weight, np.zeros(len(weight)), 0.5),
                  (np.asarray(x, dtype=np.float32), np.asarray(t, dtype=np.int64)),
                  batch_size, 0)


def model_report(model: Any) -> dict:
    """What a returned model is: ``module`` (bool), ``what``, ``parameters`` (their count)."""
    report = beside(model, "module_report")
    return {key: report[key] for key in ("module", "what", "parameters") if key in report}


def assert_accuracy(model: Any, x: np.ndarray, t: np.ndarray, *, minimum: float,
                    name: str = "the model") -> None:
    """Check a trained classifier's accuracy on test images (the model in evaluation mode).

    Parameters
    ----------
    model : torch.nn.Module
        Maps images of shape (N, 1, 28, 28) (float32, on the CPU) to logits (N, 10).
    x : ndarray of shape (N, 1, 28, 28)
        Test images.
    t : ndarray of shape (N,)
        Their integer labels (they never leave the grader).
    minimum : float
        The accuracy must be above this, in [0, 1].
    name : str, default "the model"
        How the message refers to the model.

    Raises
    ------
    AssertionError
        With the accuracy reached and what to look at.
    """
    report = beside(model, "predicted_classes", np.asarray(x, dtype=np.float32))
    if not report["module"]:
        _fail(f"{name} is {report['what']}, expected a torch.nn.Module")
    accuracy = float(np.mean(report["classes"] == np.asarray(t)))
    if not accuracy > minimum:
        _fail(f"{name} classifies {accuracy:.2%} of {len(t)} test images correctly, expected "
              f"more than {minimum:.0%}",
              "check that the training loss falls from epoch to epoch; a loss that stalls or "
              "grows points at train_epoch (zero_grad?) or at the learning rate")


def assert_same_model(got: Any, expected: Any, *, name: str, hint: str | None = None) -> None:
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
    states = []
    for model in (got, expected):
        report = beside(model, "module_report")
        if not report["module"]:
            _fail(f"{name}: got {report['what']}, expected a torch.nn.Module")
        states.append(report["state"])
    assert_close(states[0], states[1], rtol=1e-6, atol=1e-7, name=name, hint=hint)
