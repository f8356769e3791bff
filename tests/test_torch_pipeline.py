"""nncourse.torch_pipeline: the dataset, the CNN, the training/evaluation loops, the device."""

import copy

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from nncourse.torch_pipeline import (
    ArrayDataset,
    SmallCNN,
    evaluate,
    pick_device,
    train_epoch,
    train_epoch_accumulated,
)

CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: on a shared 2-core machine, 2 threads can be 10x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _random_images(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, size=n)


# --- ArrayDataset -------------------------------------------------------------------------


def test_dataset_length_items_and_dtypes():
    x, t = _random_images(5)
    ds = ArrayDataset(x.astype(np.float64), t)
    assert len(ds) == 5
    image, label = ds[3]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert label.shape == () and label.dtype == torch.int64
    np.testing.assert_allclose(image.numpy(), x[3])
    assert label.item() == t[3]


def test_dataset_keeps_float_targets_as_float32_and_copies_the_arrays():
    x = np.zeros((2, 3))
    t = np.eye(2)
    ds = ArrayDataset(x, t)
    assert ds[1][1].dtype == torch.float32
    x[0, 0] = 99.0
    assert ds[0][0][0].item() == 0.0


def test_dataset_batches_through_a_dataloader():
    x, t = _random_images(10)
    images, labels = next(iter(DataLoader(ArrayDataset(x, t), batch_size=4)))
    assert images.shape == (4, 1, 28, 28) and labels.shape == (4,)


@pytest.mark.parametrize(
    ("x", "t", "message"),
    [
        (np.zeros((3, 4)), np.zeros(2, dtype=int), "same length"),
        (np.float32(1.0), np.zeros(1, dtype=int), "one sample per row"),
    ],
)
def test_dataset_rejects_bad_shapes(x, t, message):
    with pytest.raises(ValueError, match=message):
        ArrayDataset(x, t)


# --- SmallCNN -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "input_shape", "output_shape"),
    [
        ({}, (4, 1, 28, 28), (4, 10)),
        ({"num_classes": 3, "in_channels": 3, "image_size": 32}, (2, 3, 32, 32), (2, 3)),
    ],
)
def test_cnn_output_shape(kwargs, input_shape, output_shape):
    assert SmallCNN(**kwargs)(torch.zeros(input_shape)).shape == output_shape


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"num_classes": 0}, "num_classes"), ({"in_channels": 0}, "in_channels"),
     ({"image_size": 30}, "image_size")],
)
def test_cnn_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SmallCNN(**kwargs)


# --- train_epoch / evaluate ---------------------------------------------------------------


def test_train_epoch_reports_the_loss_before_each_update():
    torch.manual_seed(0)
    x, t = _random_images(8)
    loader = DataLoader(ArrayDataset(x, t), batch_size=4, shuffle=False)
    model = SmallCNN()
    untrained = copy.deepcopy(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = train_epoch(model, loader, optimizer, nn.CrossEntropyLoss(), CPU)
    assert len(losses) == 2
    # oracle: the untrained copy's loss on the first batch, computed independently
    first = nn.functional.cross_entropy(untrained(torch.from_numpy(x[:4])), torch.from_numpy(t[:4]))
    assert losses[0] == pytest.approx(first.item(), rel=1e-6)
    assert not torch.equal(model.classifier.weight, untrained.classifier.weight)


def test_a_few_epochs_on_a_tiny_subset_reduce_the_loss():
    torch.manual_seed(0)
    x, t = _random_images(32)
    loader = DataLoader(ArrayDataset(x, t), batch_size=16, shuffle=True)
    model = SmallCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    epochs = [np.mean(train_epoch(model, loader, optimizer, nn.CrossEntropyLoss(), CPU))
              for _ in range(15)]
    assert epochs[-1] < 0.5 * epochs[0]
    assert model.training


def _mlp_and_data(samples: int) -> tuple[nn.Module, ArrayDataset]:
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    rng = np.random.default_rng(2)
    return model, ArrayDataset(rng.normal(size=(samples, 6)), rng.integers(0, 3, size=samples))


@pytest.mark.parametrize(("samples", "batch_size", "accumulate", "optimizer"), [
    (23, 4, 2, "SGD"),    # groups of 8, 8 and 7 samples (a shorter last batch)
    (30, 8, 3, "Adam"),   # a full group of 24, then a group of one batch of 6
    (10, 3, 1, "SGD"),    # accumulate=1 is plain train_epoch
])
def test_accumulation_takes_the_steps_of_one_batch_per_group(samples, batch_size, accumulate,
                                                              optimizer):
    # oracle: train_epoch on a loader whose batches are the groups (same shuffled order)
    runs = []
    for size, epoch in [(batch_size, train_epoch_accumulated),
                        (batch_size * accumulate, train_epoch)]:
        model, data = _mlp_and_data(samples)
        loader = DataLoader(data, batch_size=size, shuffle=True,
                            generator=torch.Generator().manual_seed(3))
        optim = getattr(torch.optim, optimizer)(model.parameters(), lr=0.1)
        args = (accumulate,) if epoch is train_epoch_accumulated else ()
        epoch(model, loader, optim, nn.CrossEntropyLoss(), CPU, *args)
        runs.append(model.state_dict())
    for name, value in runs[1].items():
        torch.testing.assert_close(runs[0][name], value, rtol=1e-5, atol=1e-6)


def test_accumulation_runs_one_forward_pass_per_batch_and_checks_accumulate():
    model, data = _mlp_and_data(7)
    calls = []
    model.register_forward_hook(lambda module, inputs, output: calls.append(len(inputs[0])))
    optim = torch.optim.SGD(model.parameters(), lr=0.1)
    train_epoch_accumulated(model.eval(), DataLoader(data, batch_size=2), optim,
                            nn.CrossEntropyLoss(), CPU, 3)
    assert calls == [2, 2, 2, 1] and model.training
    with pytest.raises(ValueError, match="accumulate"):
        train_epoch_accumulated(model, DataLoader(data), optim, nn.CrossEntropyLoss(), CPU, 0)


def test_evaluate_counts_argmax_hits_in_eval_mode():
    # the "model" returns its input unchanged, so the inputs are the class scores
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4], [0.5, 0.1, 0.4]])
    labels = np.array([0, 1, 2, 2])  # the last one is wrong
    loader = DataLoader(ArrayDataset(scores, labels), batch_size=3)
    model = nn.Identity()
    assert evaluate(model, loader, CPU) == pytest.approx(0.75)
    assert not model.training


def test_evaluate_rejects_an_empty_loader():
    loader = DataLoader(ArrayDataset(np.zeros((0, 3)), np.zeros(0, dtype=int)), batch_size=2)
    with pytest.raises(ValueError, match="at least one sample"):
        evaluate(nn.Identity(), loader, CPU)


def test_state_dict_round_trip_gives_identical_outputs(tmp_path):
    torch.manual_seed(0)
    model = SmallCNN()
    path = tmp_path / "cnn.pt"
    torch.save(model.state_dict(), path)
    torch.manual_seed(1)
    fresh = SmallCNN()
    x = torch.from_numpy(_random_images(3)[0])
    assert not torch.equal(fresh(x), model(x))
    fresh.load_state_dict(torch.load(path, weights_only=True))
    assert torch.equal(fresh(x), model(x))


# --- pick_device --------------------------------------------------------------------------


def test_pick_device_falls_back_to_cpu_without_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device() == CPU
    assert pick_device("cpu") == CPU
    with pytest.raises(ValueError, match="prefer='cuda'"):
        pick_device("cuda")


def test_pick_device_prefers_cuda_when_it_is_available(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device() == torch.device("cuda")
    assert pick_device("cpu") == CPU


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_training_and_evaluation_run_on_the_gpu():
    device = pick_device()
    assert device.type == "cuda"
    x, t = _random_images(8)
    loader = DataLoader(ArrayDataset(x, t), batch_size=4)
    model = SmallCNN().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = train_epoch(model, loader, optimizer, nn.CrossEntropyLoss(), device)
    assert len(losses) == 2 and all(np.isfinite(losses))
    assert 0.0 <= evaluate(model, loader, device) <= 1.0
