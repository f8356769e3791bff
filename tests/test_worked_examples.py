"""The source posts' published numbers, reproduced with nncourse's core maths and with PyTorch.

These tests use only :mod:`nncourse.losses` and :mod:`nncourse.gradients` plus two
independent oracles (PyTorch autograd and central differences), not
``nncourse.worked_examples``, so they check that module's numbers from the outside.
"""

from __future__ import annotations

import numpy as np
import pytest

from nncourse.gradients import numerical_gradient
from nncourse.losses import (
    mean_absolute_error,
    mean_squared_error,
    mean_squared_error_grad,
    sum_squared_error,
)

torch = pytest.importorskip("torch")

# --- post 003: L1Loss and MSELoss with reduction="sum" on [1, 2, 3] vs [1, 2, 5] -----------

PREDICTION, TARGET = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0])
SUM_L1, SUM_SQUARES = 2.0, 4.0


def test_post_003_sum_reductions_with_nncourse_losses():
    n = PREDICTION.size
    assert mean_absolute_error(PREDICTION, TARGET) * n == pytest.approx(SUM_L1, rel=1e-15)
    assert mean_squared_error(PREDICTION, TARGET) * n == pytest.approx(SUM_SQUARES, rel=1e-15)
    assert 2 * sum_squared_error(PREDICTION, TARGET) == SUM_SQUARES


def test_post_003_sum_reductions_with_torch():
    y, t = torch.tensor(PREDICTION), torch.tensor(TARGET)
    assert torch.nn.L1Loss(reduction="sum")(y, t).item() == SUM_L1
    assert torch.nn.MSELoss(reduction="sum")(y, t).item() == SUM_SQUARES


# --- post 001: two SGD steps of y_hat = w x + b towards y = 2x - 3 ------------------------
# Start w = b = 1, learning rate 0.1, loss (y_hat - y)^2, one sample per step.

LR = 0.1
SAMPLES = [(2.0, 1.0), (-1.0, -5.0)]
PUBLISHED_STEPS = [
    {"y_hat": 3.0, "loss": 4.0, "dL_dy_hat": 4.0, "db": 4.0, "dw": 8.0, "w": 0.2, "b": 0.6},
    {"y_hat": 0.4, "loss": 29.16, "dL_dy_hat": 10.8, "db": 10.8, "dw": -10.8, "w": 1.28,
     "b": -0.48},
]


def steps_with_torch_autograd() -> list[dict[str, float]]:
    w = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    steps = []
    for x, y in SAMPLES:
        y_hat = w * x + b
        y_hat.retain_grad()
        loss = (y_hat - y) ** 2
        loss.backward()
        step = {"y_hat": y_hat.item(), "loss": loss.item(), "dL_dy_hat": y_hat.grad.item(),
                "db": b.grad.item(), "dw": w.grad.item()}
        with torch.no_grad():
            w -= LR * w.grad
            b -= LR * b.grad
        w.grad, b.grad = None, None
        steps.append(step | {"w": w.item(), "b": b.item()})
    return steps


def steps_with_central_differences() -> list[dict[str, float]]:
    params = np.array([1.0, 1.0])  # (w, b)
    steps = []
    for x, y in SAMPLES:
        def loss(p, x=x, y=y):
            return (p[0] * x + p[1] - y) ** 2

        y_hat = params[0] * x + params[1]
        dL_dy_hat = numerical_gradient(lambda v, y=y: float((v[0] - y) ** 2), np.array([y_hat]))
        dw, db = numerical_gradient(loss, params)
        step = {"y_hat": y_hat, "loss": loss(params), "dL_dy_hat": dL_dy_hat[0], "db": db,
                "dw": dw}
        params -= LR * np.array([dw, db])
        steps.append(step | {"w": params[0], "b": params[1]})
    return steps


def steps_with_nncourse_chain_rule() -> list[dict[str, float]]:
    """Chain rule by hand, with the loss and its gradient from nncourse.losses."""
    w, b = 1.0, 1.0
    steps = []
    for x, y in SAMPLES:
        y_hat = w * x + b
        # For one element, mean((y_hat - y)^2) is the post's loss (y_hat - y)^2.
        dL_dy_hat = float(mean_squared_error_grad([y_hat], [y])[0])
        db, dw = dL_dy_hat, dL_dy_hat * x
        step = {"y_hat": y_hat, "loss": mean_squared_error([y_hat], [y]), "dL_dy_hat": dL_dy_hat,
                "db": db, "dw": dw}
        w, b = w - LR * dw, b - LR * db
        steps.append(step | {"w": w, "b": b})
    return steps


@pytest.mark.parametrize(
    "compute_steps",
    [steps_with_torch_autograd, steps_with_central_differences, steps_with_nncourse_chain_rule],
)
def test_post_001_two_sgd_steps(compute_steps):
    steps = compute_steps()
    assert len(steps) == len(PUBLISHED_STEPS)
    for number, (computed, published) in enumerate(zip(steps, PUBLISHED_STEPS, strict=True), 1):
        for name, value in published.items():
            assert computed[name] == pytest.approx(value, rel=1e-7, abs=1e-9), (
                f"step {number}: {name}"
            )
