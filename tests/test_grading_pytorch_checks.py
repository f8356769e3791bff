"""The chapter-5 exercise checks: references against closed forms, and students caught."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nncourse.grading import pytorch_checks as checks


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def closed_form_gradient(coef: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dL/dcoef = Aᵀ·2(A·coef − y) with A[i, k] = x_i^k, written out with a loop."""
    powers = np.array([[xi**k for k in range(len(coef))] for xi in x])
    return powers.T @ (2 * (powers @ coef - y))


def test_polynomial_loss_and_grad_match_the_closed_form(rng: np.random.Generator) -> None:
    coef, x, y = rng.normal(size=4), rng.uniform(-2, 2, size=7), rng.normal(size=7)
    loss, grad = checks.polynomial_loss_and_grad(coef, x, y)
    prediction = sum(c * x**k for k, c in enumerate(coef))
    assert loss == pytest.approx(np.sum((prediction - y) ** 2), rel=1e-12)
    assert checks.polynomial_loss(coef, x, y) == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(grad, closed_form_gradient(coef, x, y), rtol=1e-12)


def test_polynomial_descent_follows_the_closed_form(rng: np.random.Generator) -> None:
    coef, x, y = rng.normal(size=3), rng.uniform(-1, 1, size=9), rng.normal(size=9)
    losses, final = checks.polynomial_descent(coef, x, y, lr=0.01, steps=3)
    expected = coef.copy()
    for step in range(3):
        assert losses[step] == pytest.approx(checks.polynomial_loss(expected, x, y), rel=1e-12)
        expected = expected - 0.01 * closed_form_gradient(expected, x, y)
    np.testing.assert_allclose(final, expected, rtol=1e-8)


def good_step(params, x, y, lr):
    loss = torch.sum((sum(p * x**k for k, p in enumerate(params)) - y) ** 2)
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None
    return loss.item()


def step_without_reset(params, x, y, lr):
    loss = torch.sum((sum(p * x**k for k, p in enumerate(params)) - y) ** 2)
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
    return loss.item()


def step_replacing_params(params, x, y, lr):
    loss = torch.sum((sum(p * x**k for k, p in enumerate(params)) - y) ** 2)
    loss.backward()
    with torch.no_grad():
        params[:] = [p - lr * p.grad for p in params]
    return loss.item()


def test_check_autograd_step(rng: np.random.Generator) -> None:
    cases = [(rng.normal(size=4), rng.uniform(-2, 2, size=20), rng.normal(size=20), 1e-3)]
    checks.check_autograd_step(good_step, cases)
    with pytest.raises(AssertionError, match="grad"):
        checks.check_autograd_step(step_without_reset, cases)
    with pytest.raises(AssertionError, match="replaced tensors"):
        checks.check_autograd_step(step_replacing_params, cases)
    with pytest.raises(AssertionError, match="return a Python float"):
        checks.check_autograd_step(lambda *args: torch.tensor(good_step(*args)), cases)


def test_check_torch_loss(rng: np.random.Generator) -> None:
    cases = [(rng.normal(size=5), rng.normal(size=5))]
    reference = torch.nn.L1Loss(reduction="sum")
    checks.check_torch_loss(lambda y, t: torch.sum(torch.abs(y - t)), reference, cases)
    with pytest.raises(AssertionError, match="wrong value"):
        checks.check_torch_loss(lambda y, t: torch.mean(torch.abs(y - t)), reference, cases)
    with pytest.raises(AssertionError, match="one number"):
        checks.check_torch_loss(lambda y, t: torch.sum(torch.abs(y - t)).item(), reference, cases)
    with pytest.raises(AssertionError, match="cannot differentiate"):
        checks.check_torch_loss(lambda y, t: torch.sum(torch.abs(y - t)).detach(), reference,
                                cases)


class Cubic(torch.nn.Module):
    def __init__(self, coef: np.ndarray) -> None:
        super().__init__()
        self.coef = torch.tensor(coef, dtype=torch.float32)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features @ self.coef[1:] + self.coef[0]


def test_assert_fit_and_losses() -> None:
    x = np.linspace(-np.pi, np.pi, 200)
    y = np.sin(x)
    best = np.linalg.lstsq(checks.polynomial_features(x, 3), y, rcond=None)[0]
    model = Cubic(best)
    checks.assert_fit(model, x, y, max_error=0.25)
    with pytest.raises(AssertionError, match="largest error"):
        checks.assert_fit(model, x, y, max_error=0.1)
    final = np.sum((checks.polynomial_features(x, 3) @ best - y) ** 2)
    checks.assert_losses_recorded([10 * final, final], 2, model, x, y)
    with pytest.raises(AssertionError, match="expected 3 losses"):
        checks.assert_losses_recorded([10 * final, final], 3, model, x, y)
    with pytest.raises(AssertionError, match="returned model"):
        checks.assert_losses_recorded([10 * final, 2 * final], 2, model, x, y)


def test_grads_without_zero_grad_add_both_steps_gradients(rng: np.random.Generator) -> None:
    worked = checks.grads_without_zero_grad(0.5, 0.5, [2.0], [3.0], 0.05)
    assert worked == pytest.approx((-9.0, -4.5))
    w0, b0, x, y, lr = rng.normal(), rng.normal(), rng.normal(size=6), rng.normal(size=6), 0.03
    first = 2 * (w0 * x + b0 - y)
    w1, b1 = w0 - lr * np.sum(first * x), b0 - lr * np.sum(first)
    second = 2 * (w1 * x + b1 - y)
    expected = (np.sum(first * x) + np.sum(second * x), np.sum(first) + np.sum(second))
    assert checks.grads_without_zero_grad(w0, b0, x, y, lr) == pytest.approx(expected, rel=1e-12)
