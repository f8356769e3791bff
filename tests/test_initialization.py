"""Initial weight scales against torch.nn.init, the deep ReLU prediction against simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nncourse.initialization import he_std, relu_preactivation_std, xavier_std
from nncourse.networks import TwoLayerNet


@pytest.mark.parametrize("fan_in", [1, 2, 50, 100, 784])
def test_he_and_xavier_match_torch_gains(fan_in: int) -> None:
    # kaiming_normal_(mode="fan_in") draws with std gain / sqrt(fan_in)
    relu_gain, linear_gain = (torch.nn.init.calculate_gain(name) for name in ("relu", "linear"))
    assert he_std(fan_in) == pytest.approx(relu_gain / math.sqrt(fan_in), rel=1e-15)
    assert xavier_std(fan_in) == pytest.approx(linear_gain / math.sqrt(fan_in), rel=1e-15)


def test_he_std_is_the_std_of_torch_kaiming_normal() -> None:
    weights = torch.empty(400, 300, dtype=torch.float64)  # torch: (fan_out, fan_in)
    torch.nn.init.kaiming_normal_(weights, mode="fan_in", nonlinearity="relu",
                                  generator=torch.Generator().manual_seed(0))
    assert weights.std().item() == pytest.approx(he_std(300), rel=0.01)


def test_two_layer_net_draws_with_these_stds() -> None:
    net = TwoLayerNet(400, 300, 10, weight_init_std="he", seed=0)
    assert net.params["W1"].std() == pytest.approx(he_std(400), rel=0.02)
    net = TwoLayerNet(400, 300, 10, weight_init_std="xavier", seed=0)
    assert net.params["W2"].std() == pytest.approx(xavier_std(300), rel=0.02)


def simulated_std(layers: int, fan_in: int, weight_std: float, input_std: float,
                  seed: int, samples: int = 128, networks: int = 32) -> float:
    """sqrt(mean z_L²) over many networks with fresh weights: Var[z_L] over weights and inputs.

    The mean of z_L is 0 by symmetry, so the mean square is its variance. One network alone
    would not do: its layers' gains fluctuate around 1 (the ReLU outputs share a mean), and a
    product of such gains is typically below its expectation.
    """
    rng = np.random.default_rng(seed)
    h = input_std * rng.standard_normal((networks, samples, fan_in))
    for _ in range(layers):
        z = h @ (weight_std * rng.standard_normal((networks, fan_in, fan_in)))
        h = np.maximum(z, 0.0)
    return float(np.sqrt(np.mean(z**2)))


@pytest.mark.parametrize(("layers", "fan_in", "weight_std", "input_std"), [
    (1, 128, 0.05, 2.0),                     # one layer: no ReLU in front of it
    (5, 128, he_std(128), 1.0),              # He: sqrt(2) at every depth
    (6, 128, 0.8 * he_std(128), 0.5),        # shrinks by 0.8 per layer behind the first
    (4, 100, xavier_std(100), 3.0),          # Xavier behind ReLUs: 1/sqrt(2) per layer
])
def test_prediction_matches_a_simulated_network(layers: int, fan_in: int, weight_std: float,
                                                input_std: float) -> None:
    predicted = relu_preactivation_std(layers, fan_in, weight_std, input_std)
    simulated = simulated_std(layers, fan_in, weight_std, input_std, seed=layers)
    # about 2% spread between seeds for these sizes; the usual wrong formulas are >= 41% off
    assert simulated == pytest.approx(predicted, rel=0.08)
    without_relu_half = input_std * (math.sqrt(fan_in) * weight_std) ** layers
    half_at_the_input_too = input_std * (math.sqrt(fan_in / 2) * weight_std) ** layers
    for wrong in (without_relu_half, half_at_the_input_too):
        if layers > 1 or wrong is half_at_the_input_too:
            assert abs(simulated / wrong - 1) > 0.25


def test_closed_forms() -> None:
    for layers in (1, 2, 10, 50):
        assert relu_preactivation_std(layers, 64, he_std(64), 0.5) == pytest.approx(
            math.sqrt(2) * 0.5, rel=1e-12)
    assert relu_preactivation_std(1, 100, 0.1, 3.0) == pytest.approx(3.0, rel=1e-12)
    assert relu_preactivation_std(3, 100, 0.1) == pytest.approx(0.5, rel=1e-12)
    # vanishing and exploding: a factor sqrt(50)·σ per layer behind the first
    assert relu_preactivation_std(10, 100, 0.01) == pytest.approx(
        0.1 * (math.sqrt(50) * 0.01) ** 9, rel=1e-12)
    assert relu_preactivation_std(40, 100, 1.0) == pytest.approx(10 * 50**19.5, rel=1e-12)
    assert relu_preactivation_std(3, 10, 0.0) == 0.0


@pytest.mark.parametrize(("args", "message"), [
    ((0, 10, 0.1), "layers"), ((2.0, 10, 0.1), "layers"), ((True, 10, 0.1), "layers"),
    ((2, 0, 0.1), "fan_in"), ((2, 10.5, 0.1), "fan_in"),
    ((2, 10, -0.1), "weight_std"), ((2, 10, float("nan")), "weight_std"),
    ((2, 10, 0.1, -1.0), "input_std"),
])
def test_bad_arguments_are_refused(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        relu_preactivation_std(*args)


def test_bad_fan_in_is_refused() -> None:
    for fan_in in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="fan_in"):
            he_std(fan_in)
        with pytest.raises(ValueError, match="fan_in"):
            xavier_std(fan_in)
