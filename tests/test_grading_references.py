"""The exercises' reference answers against PyTorch autograd (float64) and published numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nncourse.grading import references

TOL = {"rtol": 1e-6, "atol": 1e-9}


def tensors(*arrays: np.ndarray, grad: bool = False) -> list[torch.Tensor]:
    return [torch.tensor(a, dtype=torch.float64, requires_grad=grad) for a in arrays]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_plane_loss_and_step_match_autograd(rng: np.random.Generator) -> None:
    X, y, params = rng.normal(size=(9, 2)), rng.normal(size=9), rng.normal(size=3)
    (p,) = tensors(params, grad=True)
    Xt, yt = tensors(X, y)
    loss = 0.5 * torch.mean((Xt @ p[:2] + p[2] - yt) ** 2)
    loss.backward()
    assert references.plane_loss(X, y, *params) == pytest.approx(loss.item(), rel=1e-12)
    expected = params - 0.1 * p.grad.numpy()
    np.testing.assert_allclose(references.plane_step(X, y, *params, 0.1), expected, **TOL)


def test_plane_descent_repeats_the_step(rng: np.random.Generator) -> None:
    X, y = rng.normal(size=(5, 2)), rng.normal(size=5)
    path = references.plane_descent(X, y, (0.1, 0.2, 0.3), lr=0.05, step_num=3)
    assert path.shape == (4, 3)
    np.testing.assert_array_equal(path[0], [0.1, 0.2, 0.3])
    np.testing.assert_allclose(path[3], references.plane_step(X, y, *path[2], 0.05))


def test_sgd_line_reproduces_the_worked_example() -> None:
    steps = references.sgd_line(np.array([2.0, -1.0]), np.array([1.0, -5.0]), 1.0, 1.0, 0.1)
    np.testing.assert_allclose(steps, [(0.2, 0.6), (1.28, -0.48)], rtol=1e-12)


def test_weight_gradient_matches_autograd(rng: np.random.Generator) -> None:
    W, x, labels = rng.normal(size=(3, 4)), rng.normal(size=(5, 3)), rng.integers(0, 4, size=5)
    (Wt,) = tensors(W, grad=True)
    (xt,) = tensors(x)
    torch.nn.functional.cross_entropy(xt @ Wt, torch.tensor(labels)).backward()
    np.testing.assert_allclose(references.weight_gradient(W, x, labels), Wt.grad.numpy(), **TOL)


def test_affine_backward_matches_autograd(rng: np.random.Generator) -> None:
    dout, x, W = rng.normal(size=(4, 5)), rng.normal(size=(4, 3)), rng.normal(size=(3, 5))
    xt, Wt, bt = tensors(x, W, np.zeros(5), grad=True)
    (xt @ Wt + bt).backward(torch.tensor(dout))
    for got, want in zip(references.affine_backward(dout, x, W), (xt, Wt, bt), strict=True):
        np.testing.assert_allclose(got, want.grad.numpy(), **TOL)


def test_network_gradients_and_step_match_autograd(rng: np.random.Generator) -> None:
    x, t = rng.normal(size=3), rng.uniform(size=2)
    W1, b1, W2, b2 = (rng.normal(size=s) for s in [(3, 4), (4,), (4, 2), (2,)])
    W1t, W2t = tensors(W1, W2, grad=True)
    xt, tt, b1t, b2t = tensors(x, t, b1, b2)
    out = torch.sigmoid(torch.sigmoid(xt @ W1t + b1t) @ W2t + b2t)
    (0.5 * torch.sum((tt - out) ** 2)).backward()
    np.testing.assert_allclose(references.network_forward(x, W1, b1, W2, b2)[1],
                               out.detach().numpy(), rtol=1e-12)
    dW1, dW2 = references.network_gradients(x, t, W1, b1, W2, b2)
    np.testing.assert_allclose(dW1, W1t.grad.numpy(), **TOL)
    np.testing.assert_allclose(dW2, W2t.grad.numpy(), **TOL)
    new_W1, new_W2 = references.network_step(x, t, W1, b1, W2, b2, lr=0.5)
    np.testing.assert_allclose(new_W2, W2 - 0.5 * W2t.grad.numpy(), **TOL)
    np.testing.assert_allclose(new_W1, W1 - 0.5 * W1t.grad.numpy(), **TOL)


def test_tiny_network_has_the_published_numbers() -> None:
    x, t, W1, b1, W2, b2 = references.tiny_network_arrays()
    h, o = references.network_forward(x, W1, b1, W2, b2)
    assert 0.5 * np.sum((t - o) ** 2) == pytest.approx(0.298371109, abs=1e-9)
    dW1, dW2 = references.tiny_network_gradients()
    assert dW2[0, 0] == pytest.approx(0.082167041, abs=1e-9)
    np.testing.assert_allclose((dW1, dW2), references.network_gradients(x, t, W1, b1, W2, b2),
                               **TOL)
    assert references.tiny_network_updated(0.5)[1][0, 0] == pytest.approx(0.35891648, abs=1e-8)
