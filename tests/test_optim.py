"""Optimizers: 60-step trajectories against torch.optim in float64, plus the DLFS equivalences."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nncourse.optim import SGD, AdaGrad, Adam, CosineAnnealingLR, Momentum, RMSprop, StepLR

torch = pytest.importorskip("torch")

STEPS = 60

# (our optimizer, its arguments, the torch optimizer, the same settings in torch's names)
CASES = [
    (SGD, {}, torch.optim.SGD, {}),
    (SGD, {"lr": 0.05}, torch.optim.SGD, {"lr": 0.05}),
    (Momentum, {}, torch.optim.SGD, {"lr": 1e-2, "momentum": 0.9}),
    (Momentum, {"lr": 0.02, "momentum": 0.5}, torch.optim.SGD, {"lr": 0.02, "momentum": 0.5}),
    (Momentum, {"lr": 0.01, "momentum": 0.0}, torch.optim.SGD, {"lr": 0.01, "momentum": 0.0}),
    (AdaGrad, {}, torch.optim.Adagrad, {}),
    (AdaGrad, {"lr": 0.5, "eps": 1e-6}, torch.optim.Adagrad, {"lr": 0.5, "eps": 1e-6}),
    (RMSprop, {}, torch.optim.RMSprop, {}),
    (RMSprop, {"lr": 1e-3, "alpha": 0.9, "eps": 1e-6}, torch.optim.RMSprop,
     {"lr": 1e-3, "alpha": 0.9, "eps": 1e-6}),
    (Adam, {}, torch.optim.Adam, {}),
    (Adam, {"lr": 0.05, "beta1": 0.5, "beta2": 0.9, "eps": 1e-6}, torch.optim.Adam,
     {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-6}),
    # weight decay (L2): the gradient becomes g + λ·w in every optimizer
    (SGD, {"lr": 0.05, "weight_decay": 0.1}, torch.optim.SGD, {"lr": 0.05, "weight_decay": 0.1}),
    (Momentum, {"lr": 0.02, "weight_decay": 1e-2}, torch.optim.SGD,
     {"lr": 0.02, "momentum": 0.9, "weight_decay": 1e-2}),
    (AdaGrad, {"weight_decay": 0.05}, torch.optim.Adagrad, {"weight_decay": 0.05}),
    (RMSprop, {"weight_decay": 0.05}, torch.optim.RMSprop, {"weight_decay": 0.05}),
    (Adam, {"lr": 0.01, "weight_decay": 0.1}, torch.optim.Adam, {"lr": 0.01, "weight_decay": 0.1}),
]


class LeastSquares:
    """A random linear regression problem: loss = mean((x @ W + b − y)²) / 2."""

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.x, self.y = rng.normal(size=(20, 4)), rng.normal(size=(20, 3))
        self.initial = {"W": rng.normal(size=(4, 3)), "b": rng.normal(size=3)}

    def numpy_grads(self, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        residual = (self.x @ params["W"] + params["b"] - self.y) / len(self.x)
        return {"W": self.x.T @ residual, "b": residual.sum(axis=0)}

    def torch_loss(self, params: dict):
        x, y = torch.from_numpy(self.x), torch.from_numpy(self.y)
        return ((x @ params["W"] + params["b"] - y) ** 2).mean(dim=0).sum() / 2


def numpy_trajectory(optimizer, problem: LeastSquares) -> list[dict[str, np.ndarray]]:
    params = {name: value.copy() for name, value in problem.initial.items()}
    path = []
    for _ in range(STEPS):
        optimizer.update(params, problem.numpy_grads(params))
        path.append({name: value.copy() for name, value in params.items()})
    return path


def torch_trajectory(optimizer_class, settings: dict, problem: LeastSquares):
    params = {name: torch.tensor(value, requires_grad=True)
              for name, value in problem.initial.items()}
    optimizer = optimizer_class(params.values(), **settings)
    path = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        problem.torch_loss(params).backward()
        optimizer.step()
        path.append({name: value.detach().numpy().copy() for name, value in params.items()})
    return path


@pytest.mark.parametrize(
    ("ours", "our_settings", "theirs", "their_settings"), CASES,
    ids=[f"{case[0].__name__}-{case[1]}" for case in CASES],
)
def test_trajectory_matches_torch(ours, our_settings, theirs, their_settings) -> None:
    problem = LeastSquares()
    got = numpy_trajectory(ours(**our_settings), problem)
    expected = torch_trajectory(theirs, their_settings, problem)
    assert not np.allclose(got[-1]["W"], problem.initial["W"])  # it did move
    for step, (ours_now, theirs_now) in enumerate(zip(got, expected, strict=True)):
        for name in ("W", "b"):
            difference = np.max(np.abs(ours_now[name] - theirs_now[name]))
            assert difference <= 1e-6, f"step {step}, {name}: {difference}"


@pytest.mark.parametrize(
    ("ours", "theirs", "names"),
    [(SGD, torch.optim.SGD, {"lr": "lr"}),
     (AdaGrad, torch.optim.Adagrad, {"lr": "lr", "eps": "eps"}),
     (RMSprop, torch.optim.RMSprop, {"lr": "lr", "alpha": "alpha", "eps": "eps"}),
     (Adam, torch.optim.Adam, {"lr": "lr", "eps": "eps"})],
)
def test_defaults_are_torch_defaults(ours, theirs, names: dict[str, str]) -> None:
    torch_defaults = theirs([torch.zeros(1, requires_grad=True)]).defaults
    optimizer = ours()
    for our_name, their_name in names.items():
        assert getattr(optimizer, our_name) == torch_defaults[their_name]
    if ours is Adam:
        assert (optimizer.beta1, optimizer.beta2) == torch_defaults["betas"]


def test_momentum_defaults() -> None:
    assert (Momentum().lr, Momentum().momentum) == (1e-2, 0.9)


def test_classic_momentum_form_is_the_same_trajectory() -> None:
    """v ← μ·v − lr·g; w ← w + v (DLFS, post 004) equals torch's buf form with v = −lr·buf."""
    problem, lr, mu = LeastSquares(seed=1), 0.05, 0.9
    params = {name: value.copy() for name, value in problem.initial.items()}
    velocity = {name: np.zeros_like(value) for name, value in params.items()}
    ours = numpy_trajectory(Momentum(lr=lr, momentum=mu), problem)
    for step in range(STEPS):
        grads = problem.numpy_grads(params)
        for name in params:
            velocity[name] = mu * velocity[name] - lr * grads[name]
            params[name] = params[name] + velocity[name]
            np.testing.assert_allclose(params[name], ours[step][name], rtol=0, atol=1e-12)


def test_dlfs_adam_is_torch_adam_with_a_moved_epsilon() -> None:
    """lr·sqrt(1 − β2^t)/(1 − β1^t) · m/(sqrt(v) + ε) equals torch's step with ε/sqrt(1 − β2^t)."""
    rng = np.random.default_rng(0)
    m, v = rng.normal(size=5), rng.random(5) * 1e-10  # tiny v: where epsilon matters
    lr, beta1, beta2, eps = 1e-3, 0.9, 0.999, 1e-7
    for t in (1, 10, 1000):
        bc1, bc2 = 1 - beta1**t, 1 - beta2**t
        dlfs = lr * math.sqrt(bc2) / bc1 * m / (np.sqrt(v) + eps)
        torch_form = lr / bc1 * m / (np.sqrt(v) / math.sqrt(bc2) + eps / math.sqrt(bc2))
        np.testing.assert_allclose(dlfs, torch_form, rtol=1e-12)


@pytest.mark.parametrize("optimizer", [SGD(), Momentum(), AdaGrad(), RMSprop(), Adam()],
                         ids=lambda optimizer: type(optimizer).__name__)
def test_updates_in_place_keeping_dtype(optimizer) -> None:
    weights = np.ones((2, 3), dtype=np.float32)
    params = {"W": weights}
    optimizer.update(params, {"W": np.full((2, 3), 0.5, dtype=np.float32)})
    assert params["W"] is weights
    assert weights.dtype == np.float32
    assert np.all(weights < 1.0)


def test_state_is_created_per_parameter_on_first_update() -> None:
    optimizer = Adam()
    assert optimizer.state == {}
    optimizer.update({"a": np.zeros(2)}, {"a": np.ones(2)})
    optimizer.update({"a": np.zeros(2), "b": np.zeros(3)}, {"a": np.ones(2), "b": np.ones(3)})
    assert optimizer.state["a"]["step"] == 2 and optimizer.state["b"]["step"] == 1
    assert optimizer.state["b"]["exp_avg"].shape == (3,)


def test_update_rejects_missing_or_misshapen_gradients() -> None:
    with pytest.raises(KeyError, match="'b'"):
        SGD().update({"W": np.zeros(2), "b": np.zeros(1)}, {"W": np.ones(2)})
    with pytest.raises(ValueError, match=r"grads\['W'\] has shape \(3,\)"):
        SGD().update({"W": np.zeros(2)}, {"W": np.ones(3)})
    with pytest.raises(TypeError, match=r"params\['W'\] must be a numpy array"):
        SGD().update({"W": 1.0}, {"W": 1.0})


@pytest.mark.parametrize(
    ("make", "match"),
    [(lambda: SGD(lr=-1.0), "lr must be a positive number"),
     (lambda: Momentum(momentum=1.0), r"momentum must be a number in \[0, 1\)"),
     (lambda: AdaGrad(eps=0.0), "eps must be a positive number"),
     (lambda: RMSprop(alpha=-0.1), "alpha must be"),
     (lambda: Adam(beta2=1.5), "beta2 must be"),
     (lambda: Adam(lr="0.1"), "lr must be"),
     (lambda: SGD(weight_decay=-1e-4), "weight_decay must be a number >= 0"),
     (lambda: StepLR(SGD(), step_size=0), "step_size must be a positive integer"),
     (lambda: StepLR(SGD(), step_size=2, gamma=1.5), r"gamma must be a number in \(0, 1\]"),
     (lambda: CosineAnnealingLR(SGD(), t_max=0), "t_max must be a positive integer"),
     (lambda: CosineAnnealingLR(SGD(), t_max=5, eta_min=-1.0), "eta_min must be")],
)
def test_invalid_hyperparameters_are_named(make, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()


def test_weight_decay_is_the_gradient_of_half_lambda_w_squared() -> None:
    lam, w, g = 0.3, np.array([2.0, -1.0]), np.array([0.5, 0.5])
    params = {"w": w.copy()}
    SGD(lr=1.0, weight_decay=lam).update(params, {"w": g})
    leaf = torch.tensor(w, requires_grad=True)
    (torch.tensor(g) @ leaf + lam / 2 * (leaf**2).sum()).backward()
    np.testing.assert_allclose(params["w"], w - leaf.grad.numpy(), rtol=0, atol=1e-15)


SCHEDULES = [
    (StepLR, {"step_size": 3, "gamma": 0.5}, torch.optim.lr_scheduler.StepLR,
     {"step_size": 3, "gamma": 0.5}),
    (StepLR, {"step_size": 1}, torch.optim.lr_scheduler.StepLR, {"step_size": 1}),
    (CosineAnnealingLR, {"t_max": 10}, torch.optim.lr_scheduler.CosineAnnealingLR,
     {"T_max": 10}),
    (CosineAnnealingLR, {"t_max": 10, "eta_min": 1e-3},
     torch.optim.lr_scheduler.CosineAnnealingLR, {"T_max": 10, "eta_min": 1e-3}),
]


@pytest.mark.parametrize(("ours", "our_settings", "theirs", "their_settings"), SCHEDULES,
                         ids=[f"{case[0].__name__}-{case[1]}" for case in SCHEDULES])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_schedule_matches_torch_lr_scheduler(ours, our_settings, theirs, their_settings,
                                             optimizer: str) -> None:
    """Same lrs epoch by epoch, and the same trajectory when each epoch is a few steps.

    Ten epochs: torch's cosine rises again after T_max, nncourse's stays at eta_min.
    """
    problem, epochs, steps_per_epoch, lr = LeastSquares(seed=2), 10, 3, 0.1
    params = {name: value.copy() for name, value in problem.initial.items()}
    leaves = {name: torch.tensor(value, requires_grad=True)
              for name, value in problem.initial.items()}
    momentum = 0.9 if optimizer == "momentum" else 0.0
    our_optimizer = Momentum(lr=lr, momentum=momentum)
    their_optimizer = torch.optim.SGD(leaves.values(), lr=lr, momentum=momentum)
    our_schedule = ours(our_optimizer, **our_settings)
    their_schedule = theirs(their_optimizer, **their_settings)
    for epoch in range(epochs):
        for _ in range(steps_per_epoch):
            our_optimizer.update(params, problem.numpy_grads(params))
            their_optimizer.zero_grad()
            problem.torch_loss(leaves).backward()
            their_optimizer.step()
        our_lr = our_schedule.step()
        their_schedule.step()
        assert our_lr == our_optimizer.lr
        assert our_lr == pytest.approx(their_schedule.get_last_lr()[0], rel=1e-12, abs=1e-15), epoch
        for name in params:
            np.testing.assert_allclose(params[name], leaves[name].detach().numpy(),
                                       rtol=0, atol=1e-10)


def test_cosine_schedule_stays_at_eta_min_after_t_max() -> None:
    scheduler = CosineAnnealingLR(SGD(lr=0.1), t_max=2, eta_min=0.01)
    assert [scheduler.step() for _ in range(4)] == pytest.approx([0.055, 0.01, 0.01, 0.01])


def test_schedule_rejects_something_that_is_not_an_optimizer() -> None:
    with pytest.raises(TypeError, match="optimizer must be an optimizer of nncourse.optim"):
        StepLR(torch.optim.SGD([torch.zeros(1, requires_grad=True)]), step_size=1)
