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


def test_network_batch_gradients_match_autograd(rng: np.random.Generator) -> None:
    X, T = rng.normal(size=(4, 3)), rng.uniform(size=(4, 2))
    params = [rng.normal(size=(3, 5)), rng.normal(size=5),
              rng.normal(size=(5, 2)), rng.normal(size=2)]
    W1, b1, W2, b2 = tensors(*params, grad=True)
    Xt, Tt = tensors(X, T)
    O = torch.sigmoid(torch.sigmoid(Xt @ W1 + b1) @ W2 + b2)
    (0.5 * torch.sum((Tt - O) ** 2)).backward()
    got = references.network_batch_gradients(X, T, *params)
    for value, tensor in zip(got, (W1, b1, W2, b2), strict=True):
        np.testing.assert_allclose(value, tensor.grad.numpy(), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("curvatures", [[1.0, 50.0], [2.0, 10.0], [0.5, 20.0, 100.0]])
def test_optimizer_race_matches_torch_optim(curvatures: list[float]) -> None:
    from nncourse.grading.optim_checks import RACERS, race

    a = torch.tensor(curvatures, dtype=torch.float64)
    lr = 1.0 / max(curvatures)
    makers = {"SGD": lambda p: torch.optim.SGD(p, lr=lr),
              "Momentum": lambda p: torch.optim.SGD(p, lr=lr, momentum=0.9),
              "RMSprop": lambda p: torch.optim.RMSprop(p, lr=0.01),
              "Adam": lambda p: torch.optim.Adam(p, lr=0.1)}
    expected = {}
    for name in RACERS:
        w = torch.ones_like(a, requires_grad=True)
        optimizer = makers[name]([w])
        expected[name] = -1
        for step in range(1, 2001):
            optimizer.zero_grad()
            (0.5 * torch.sum(a * w ** 2)).backward()
            optimizer.step()
            if 0.5 * torch.sum(a * w.detach() ** 2).item() < 1e-6:
                expected[name] = step
                break
    assert race(curvatures) == expected
    assert race(curvatures, tol=1e-300, max_steps=50) == dict.fromkeys(RACERS, -1)


def test_plane_lr_limit_matches_the_autograd_hessian_and_descent(rng: np.random.Generator) -> None:
    X, y = 2 * rng.normal(size=(12, 2)) + 1, rng.normal(size=12)
    Xt, yt = tensors(X, y)
    hessian = torch.autograd.functional.hessian(
        lambda p: 0.5 * torch.mean((Xt @ p[:2] + p[2] - yt) ** 2),
        torch.zeros(3, dtype=torch.float64))
    expected = 2 / torch.linalg.eigvalsh(hessian).max().item()
    limit = references.plane_lr_limit(X)
    assert limit == pytest.approx(expected, rel=1e-10)
    start = references.plane_loss(X, y, 0.0, 0.0, 0.0)
    for factor, diverges in [(0.95, False), (1.05, True)]:
        path = references.plane_descent(X, y, (0.0, 0.0, 0.0), lr=factor * limit, step_num=800)
        assert (references.plane_loss(X, y, *path[-1]) > 1e6 * start) == diverges
    lrs = [0.5 * limit, 0.99 * limit, 1.01 * limit]
    assert references.plane_diverging(X, lrs) == [False, False, True]


def test_sin_difference_errors_follow_the_truncation_formula() -> None:
    hs = [1e-1, 1e-2, 1e-3]
    for x in (0.3, 1.0, 2.0):
        # sin(x ± h) expanded: the central difference is cos(x)·sin(h)/h exactly.
        expected = np.abs(np.cos(x) * (np.sin(hs) / np.array(hs) - 1))
        np.testing.assert_allclose(references.sin_difference_errors(x, hs), expected, rtol=1e-5)


def test_sin_best_step_is_at_the_bottom_of_the_measured_curve() -> None:
    grid = np.logspace(-15, -1, 281)
    for x in (0.3, 1.0, 2.0, -1.2):
        best = references.sin_best_step(x)
        errors = references.sin_difference_errors(x, grid)
        # A median over half a decade smooths the rounding noise of the measured V.
        smooth = np.array([np.median(errors[max(i - 5, 0):i + 6]) for i in range(len(grid))])
        assert abs(np.log10(grid[np.argmin(smooth)] / best)) < 1.0
