"""The chapter-8 exercise checks: the course's pipeline passes, typical mistakes are named."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import Dataset

from nncourse import torch_pipeline
from nncourse.grading import assert_written_by_hand
from nncourse.grading import pipeline_checks as checks

CPU = torch.device("cpu")
EPOCH_CASES = [(1, 10, 4, "sgd"), (2, 37, 8, "momentum"), (3, 50, 16, "adam")]
EVALUATE_CASES = [(4, 10, 4), (5, 37, 8), (6, 64, 64)]


# --- Datasets -------------------------------------------------------------------------------

class GoodDataset(Dataset):
    def __init__(self, x, t):
        if len(x) != len(t):
            raise ValueError("different lengths")
        self.x = torch.tensor(x, dtype=torch.float32)
        self.t = torch.tensor(t, dtype=torch.int64)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, index):
        return self.x[index], self.t[index]


class LabelsKeepDtype(GoodDataset):
    def __init__(self, x, t):
        super().__init__(x, t)
        self.t = torch.from_numpy(np.array(t))


class NoLengthCheck(GoodDataset):
    def __init__(self, x, t):
        self.x = torch.tensor(x, dtype=torch.float32)
        self.t = torch.tensor(t, dtype=torch.int64)


class ArraysNotTensors(GoodDataset):
    def __getitem__(self, index):
        return self.x[index].numpy(), self.t[index]


class InheritsTheCourse(torch_pipeline.ArrayDataset):
    pass


def dataset_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    return [(rng.normal(size=(5, 1, 3, 3)), rng.integers(0, 10, size=5).astype(np.int32)),
            (rng.integers(0, 256, size=(4, 2)).astype(np.uint8), np.array([0, 1, 1, 0]))]


def test_check_dataset_passes_a_correct_class() -> None:
    checks.check_dataset(GoodDataset, dataset_cases())
    checks.check_dataset(torch_pipeline.ArrayDataset, dataset_cases())


@pytest.mark.parametrize(("student_class", "message"), [
    (LabelsKeepDtype, "dtype torch.int32"),
    (NoLengthCheck, "raised no ValueError"),
    (ArraysNotTensors, "is a ndarray, expected a tensor"),
])
def test_check_dataset_names_the_mistake(student_class: type, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        checks.check_dataset(student_class, dataset_cases())


def test_written_by_hand_refuses_a_course_base_class() -> None:
    assert_written_by_hand(GoodDataset, forbidden=("nncourse",), namespace=globals())
    with pytest.raises(AssertionError, match="base class ArrayDataset"):
        assert_written_by_hand(InheritsTheCourse, forbidden=("nncourse",), namespace=globals())


# --- Training epochs ------------------------------------------------------------------------

def good_epoch(model, loader, optimizer, loss_fn, device):
    return float(np.mean(torch_pipeline.train_epoch(model, loader, optimizer, loss_fn, device)))


def epoch_without_zero_grad(model, loader, optimizer, loss_fn, device):
    model.train()
    losses = []
    for inputs, targets in loader:
        loss = loss_fn(model(inputs.to(device)), targets.to(device))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def epoch_without_train_mode(model, loader, optimizer, loss_fn, device):
    losses = []
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs.to(device)), targets.to(device))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def epoch_weighting_by_batch_size(model, loader, optimizer, loss_fn, device):
    model.train()
    total, count = 0.0, 0
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs.to(device)), targets.to(device))
        loss.backward()
        optimizer.step()
        total, count = total + loss.item() * len(targets), count + len(targets)
    return total / count


def epoch_returning_a_tensor(model, loader, optimizer, loss_fn, device):
    return torch.tensor(good_epoch(model, loader, optimizer, loss_fn, device))


def test_check_train_epoch_passes_the_course_loop() -> None:
    checks.check_train_epoch(good_epoch, EPOCH_CASES)


@pytest.mark.parametrize(("student_fn", "message"), [
    (epoch_without_zero_grad, "the parameters after .* wrong value"),
    (epoch_without_train_mode, "in evaluation mode"),
    (epoch_weighting_by_batch_size, "each batch counted once"),
    (epoch_returning_a_tensor, "returned a tensor"),
])
def test_check_train_epoch_names_the_mistake(student_fn, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        checks.check_train_epoch(student_fn, EPOCH_CASES)


# --- Gradient accumulation (the debug task) -------------------------------------------------

ACCUMULATE_CASES = [(7, 23, 4, 2, "sgd"), (8, 30, 8, 3, "momentum"), (9, 37, 5, 4, "adam")]


def accumulate_zero_grad_every_batch(model, loader, optimizer, loss_fn, device, accumulate):
    model.train()
    for index, (inputs, targets) in enumerate(loader):
        optimizer.zero_grad()
        loss_fn(model(inputs), targets).backward()
        if (index + 1) % accumulate == 0 or index + 1 == len(loader):
            optimizer.step()


def accumulate_divided_by_accumulate(model, loader, optimizer, loss_fn, device, accumulate):
    """The usual shortcut: right only for groups of full, equal batches."""
    model.train()
    optimizer.zero_grad()
    for index, (inputs, targets) in enumerate(loader):
        (loss_fn(model(inputs), targets) / accumulate).backward()
        if (index + 1) % accumulate == 0 or index + 1 == len(loader):
            optimizer.step()
            optimizer.zero_grad()


def accumulate_one_big_batch(model, loader, optimizer, loss_fn, device, accumulate):
    """Concatenates each group into one batch: the right steps, but one forward per group."""
    model.train()
    batches = list(loader)
    for start in range(0, len(batches), accumulate):
        inputs = torch.cat([x for x, _ in batches[start:start + accumulate]])
        targets = torch.cat([t for _, t in batches[start:start + accumulate]])
        optimizer.zero_grad()
        loss_fn(model(inputs), targets).backward()
        optimizer.step()


def accumulate_pasted_train_epoch(model, loader, optimizer, loss_fn, device, accumulate):
    """A plain training epoch pasted in: one step per batch, accumulate ignored."""
    return good_epoch(model, loader, optimizer, loss_fn, device)


def test_check_accumulated_epoch_passes_the_course_loop() -> None:
    checks.check_accumulated_epoch(torch_pipeline.train_epoch_accumulated, ACCUMULATE_CASES)


@pytest.mark.parametrize(("student_fn", "message"), [
    (accumulate_zero_grad_every_batch, "the parameters after .*accumulate=2.* wrong value"),
    (accumulate_divided_by_accumulate, "the parameters after .*accumulate=2.* wrong value"),
    (accumulate_one_big_batch, "ran the model 3 times; expected one forward pass per batch, 6"),
    (accumulate_pasted_train_epoch, "the parameters after"),
])
def test_check_accumulated_epoch_names_the_mistake(student_fn, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        checks.check_accumulated_epoch(student_fn, ACCUMULATE_CASES)


def test_tiny_epoch_with_accumulation_and_adam() -> None:
    x, t = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 2.0], [2.0, -1.0]]), np.array([0, 1, 2, 0])
    run = checks.tiny_epoch(torch_pipeline.train_epoch_accumulated, x, t, batch_size=1,
                            lr=0.1, optimizer="adam", accumulate=2)
    assert run["result"] is None and len(run["calls"]) == 4
    # two Adam steps from zero: every weight with a non-zero gradient moves by about 0.1 each
    assert np.abs(run["state"]["0.bias"]).max() <= 0.2 + 1e-6


# --- Evaluation -----------------------------------------------------------------------------

def evaluate_without_eval_mode(model, loader, device):
    correct, total = 0, 0
    with torch.no_grad():
        for inputs, labels in loader:
            correct += (model(inputs).argmax(dim=1) == labels).sum().item()
            total += len(labels)
    return correct / total


def evaluate_without_no_grad(model, loader, device):
    model.eval()
    correct, total = 0, 0
    for inputs, labels in loader:
        correct += (model(inputs).argmax(dim=1) == labels).sum().item()
        total += len(labels)
    return correct / total


def evaluate_mean_of_batches(model, loader, device):
    model.eval()
    with torch.no_grad():
        accuracies = [(model(inputs).argmax(dim=1) == labels).float().mean().item()
                      for inputs, labels in loader]
    return sum(accuracies) / len(accuracies)


def evaluate_first_batch_only(model, loader, device):
    model.eval()
    inputs, labels = next(iter(loader))
    with torch.no_grad():
        return (model(inputs).argmax(dim=1) == labels).float().mean().item()


def test_check_evaluate_passes_the_course_loop() -> None:
    checks.check_evaluate(torch_pipeline.evaluate, EVALUATE_CASES)


@pytest.mark.parametrize(("student_fn", "message"), [
    (evaluate_without_eval_mode, "in training mode"),
    (evaluate_without_no_grad, "torch.no_grad"),
    (evaluate_mean_of_batches, "add up the correct answers"),
    (evaluate_first_batch_only, "one forward pass per batch"),
    (lambda model, loader, device: torch.tensor(torch_pipeline.evaluate(model, loader, device)),
     "returned a tensor"),
])
def test_check_evaluate_names_the_mistake(student_fn, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        checks.check_evaluate(student_fn, EVALUATE_CASES)


# --- Helpers --------------------------------------------------------------------------------

def test_mode_recorder_notes_mode_and_autograd() -> None:
    recorder = checks.ModeRecorder(nn.Linear(2, 1))
    recorder(torch.zeros(1, 2))
    recorder.eval()
    with torch.no_grad():
        recorder(torch.zeros(1, 2))
    assert recorder.calls == [(True, True), (False, False)]
    with pytest.raises(AssertionError, match="expected one forward pass per batch, 3"):
        checks.assert_forward_modes(recorder.calls, training=True, name="f", batches=3)
    with pytest.raises(AssertionError, match="evaluation mode"):
        checks.assert_forward_modes(recorder.calls, training=True, name="f", batches=2)
    with pytest.raises(AssertionError, match="training mode"):
        checks.assert_forward_modes(recorder.calls, training=False, name="f")


def test_assert_accuracy_and_same_model() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(20, 1, 28, 28)).astype(np.float32)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    with torch.no_grad():
        labels = model(torch.tensor(x)).argmax(dim=1).numpy()
    checks.assert_accuracy(model, x, labels, minimum=0.99)
    with pytest.raises(AssertionError, match="0.00% of 20 test images"):
        checks.assert_accuracy(model, x, (labels + 1) % 10, minimum=0.5)
    checks.assert_same_model(model, model, name="the model")
    with pytest.raises(AssertionError, match=r"the second\['1.weight'\]"):
        checks.assert_same_model(model, nn.Sequential(nn.Flatten(), nn.Linear(784, 10)),
                                 name="the second", hint="seed")


def test_small_data_and_model_are_seeded() -> None:
    (x, t), (x_again, t_again) = checks.small_data(3, 5), checks.small_data(3, 5)
    np.testing.assert_array_equal(x, x_again)
    np.testing.assert_array_equal(t, t_again)
    assert x.dtype == np.float32 and x.shape == (5, 6) and set(t) <= set(range(checks.CLASSES))
    assert torch.equal(checks.small_mlp(3, 0.1)[0].weight, checks.small_mlp(3, 0.1)[0].weight)
    assert checks.small_mlp(3, 0.0)(torch.as_tensor(x)).shape == (5, checks.CLASSES)
