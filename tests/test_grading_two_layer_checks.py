"""The chapter-6 exercise references against PyTorch autograd in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nncourse.grading import two_layer_checks as checks


@pytest.fixture
def setup() -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    params = {"W1": rng.normal(size=(5, 4)), "b1": rng.normal(size=4),
              "W2": rng.normal(size=(4, 3)), "b2": rng.normal(size=3)}
    return params, rng.normal(size=(6, 5)), rng.integers(0, 3, size=6)


def torch_forward(params: dict[str, np.ndarray], x: np.ndarray, labels: np.ndarray):
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    hidden = torch.sigmoid(torch.tensor(x) @ tensors["W1"] + tensors["b1"])
    logits = hidden @ tensors["W2"] + tensors["b2"]
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(labels))
    return tensors, logits, loss


def test_predict_loss_gradient_match_autograd(setup) -> None:
    params, x, labels = setup
    tensors, logits, loss = torch_forward(params, x, labels)
    loss.backward()
    np.testing.assert_allclose(checks.predict(params, x), logits.detach().numpy(), rtol=1e-12)
    assert checks.loss(params, x, labels) == pytest.approx(loss.item(), rel=1e-12)
    assert checks.loss(params, x, np.eye(3)[labels]) == pytest.approx(loss.item(), rel=1e-12)
    for name, grad in checks.gradient(params, x, labels).items():
        np.testing.assert_allclose(grad, tensors[name].grad.numpy(), rtol=1e-10, atol=1e-14)
    for name, grad in checks.numerical_gradient(params, x, labels).items():
        np.testing.assert_allclose(grad, tensors[name].grad.numpy(), rtol=1e-5, atol=1e-9)


def test_accuracy_counts_argmax_hits(setup) -> None:
    params, x, _ = setup
    predicted = checks.predict(params, x).argmax(axis=1)
    labels = predicted.copy()
    labels[:2] = (labels[:2] + 1) % 3
    assert checks.accuracy(params, x, labels) == pytest.approx(4 / 6)
    assert checks.accuracy(params, x, np.eye(3)[labels]) == pytest.approx(4 / 6)


def test_train_sgd_takes_sgd_steps_on_shuffled_batches(setup) -> None:
    params, x, labels = setup
    before = {k: v.copy() for k, v in params.items()}
    trained, losses = checks.train_sgd(params, x, labels, lr=0.3, batch_size=4, epochs=2, seed=5)
    assert losses.shape == (4,)
    expected = {k: v.copy() for k, v in params.items()}
    rng = np.random.default_rng(5)
    for epoch in range(2):
        order = rng.permutation(6)
        for index, batch in enumerate((order[:4], order[4:])):
            tensors, _, loss = torch_forward(expected, x[batch], labels[batch])
            assert losses[2 * epoch + index] == pytest.approx(loss.item(), rel=1e-12)
            loss.backward()
            expected = {k: v - 0.3 * tensors[k].grad.numpy() for k, v in expected.items()}
    for name in expected:
        np.testing.assert_allclose(trained[name], expected[name], rtol=1e-10)
        np.testing.assert_array_equal(params[name], before[name])


def test_network_names_a_wrong_shape(setup) -> None:
    params, _, _ = setup
    with pytest.raises(ValueError, match=r"params\['b2'\] must have shape \(3,\)"):
        checks.network({**params, "b2": np.zeros(4)})
    with pytest.raises(ValueError, match="missing"):
        checks.network({"W1": params["W1"]})


def test_gradient_with_decay_matches_autograd_of_the_penalised_loss(setup) -> None:
    params, x, labels = setup
    tensors, _, loss = torch_forward(params, x, labels)
    (loss + 0.35 / 2 * (torch.sum(tensors["W1"] ** 2) + torch.sum(tensors["W2"] ** 2))).backward()
    grads = checks.gradient_with_decay(params, x, labels, 0.35)
    assert sorted(grads) == sorted(params)
    for name, grad in grads.items():
        np.testing.assert_allclose(grad, tensors[name].grad.numpy(), rtol=1e-10, atol=1e-14)
