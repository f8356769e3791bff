"""TwoLayerNet: backprop against central differences and against the same network in PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from nncourse.networks import TwoLayerNet

torch = pytest.importorskip("torch")
F = torch.nn.functional

ACTIVATIONS = ["sigmoid", "relu"]
PARAM_NAMES = ["W1", "b1", "W2", "b2"]


def batch(n: int = 4, d: int = 5, c: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.integers(0, c, size=n)


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest difference relative to the array's scale (an element near 0 cannot blow it up)."""
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), 1e-12))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_backprop_matches_central_differences(activation: str) -> None:
    net = TwoLayerNet(5, 4, 3, weight_init_std=1.0, activation=activation, seed=3)
    x, t = batch()
    analytic, numeric = net.gradient(x, t), net.numerical_gradient(x, t)
    assert sorted(analytic) == sorted(numeric) == sorted(PARAM_NAMES)
    for name in PARAM_NAMES:
        assert analytic[name].shape == net.params[name].shape
        assert relative_error(analytic[name], numeric[name]) < 1e-6, name


def torch_twin(net: TwoLayerNet, activation: str):
    """The same network in PyTorch, float64, sharing the initial parameter values."""
    params = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
              for name, value in net.params.items()}
    act = torch.sigmoid if activation == "sigmoid" else torch.relu

    def predict(x: np.ndarray):
        x = torch.tensor(x, dtype=torch.float64).reshape(len(x), -1)
        return act(x @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]

    return params, predict


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("target_kind", ["labels", "one-hot"])
def test_loss_and_gradient_match_torch(activation: str, target_kind: str) -> None:
    net = TwoLayerNet(20, 8, 4, weight_init_std="he", activation=activation, seed=1)
    rng = np.random.default_rng(1)
    x, labels = rng.normal(size=(10, 20)), rng.integers(0, 4, size=10)
    t = labels if target_kind == "labels" else np.eye(4)[labels]

    params, predict = torch_twin(net, activation)
    expected_loss = F.cross_entropy(predict(x), torch.tensor(labels))
    expected_loss.backward()

    assert net.loss(x, t) == pytest.approx(expected_loss.item(), abs=1e-12)
    np.testing.assert_allclose(net.predict(x), predict(x).detach().numpy(), rtol=0, atol=1e-12)
    grads = net.gradient(x, t)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(grads[name], params[name].grad.numpy(), rtol=0, atol=1e-10)


def test_images_are_flattened() -> None:
    net = TwoLayerNet(12, 5, 3, seed=0)
    images = np.random.default_rng(0).normal(size=(2, 1, 3, 4))
    np.testing.assert_array_equal(net.predict(images), net.predict(images.reshape(2, 12)))
    grads = net.gradient(images, np.array([0, 2]))
    np.testing.assert_array_equal(grads["W1"], net.gradient(images.reshape(2, 12), [0, 2])["W1"])


def test_accuracy_with_labels_and_one_hot() -> None:
    net = TwoLayerNet(5, 4, 3, weight_init_std=1.0, seed=0)
    x, _ = batch(n=8)
    predicted = net.predict(x).argmax(axis=1)
    labels = predicted.copy()
    labels[:2] = (labels[:2] + 1) % 3  # two of eight wrong
    assert net.accuracy(x, labels) == 0.75
    assert net.accuracy(x, np.eye(3)[labels]) == 0.75
    assert isinstance(net.accuracy(x, labels), float)


def test_accuracy_rejects_labels_of_another_batch() -> None:
    net = TwoLayerNet(5, 4, 3, seed=0)
    with pytest.raises(ValueError, match="t must hold 4 labels"):
        net.accuracy(batch()[0], np.zeros(3, dtype=int))


def test_same_seed_same_network() -> None:
    first, second = TwoLayerNet(6, 5, 4, seed=7), TwoLayerNet(6, 5, 4, seed=7)
    other = TwoLayerNet(6, 5, 4, seed=8)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(first.params[name], second.params[name])
    assert not np.array_equal(first.params["W1"], other.params["W1"])


def test_seed_none_gives_fresh_weights() -> None:
    assert not np.array_equal(TwoLayerNet(6, 5, 4).params["W1"], TwoLayerNet(6, 5, 4).params["W1"])


@pytest.mark.parametrize(
    ("weight_init_std", "std_W1", "std_W2"),
    [(0.01, 0.01, 0.01), ("he", np.sqrt(2 / 400), np.sqrt(2 / 300)),
     ("xavier", np.sqrt(1 / 400), np.sqrt(1 / 300))],
)
def test_initial_weights(weight_init_std, std_W1: float, std_W2: float) -> None:
    net = TwoLayerNet(400, 300, 200, weight_init_std=weight_init_std, seed=0)
    assert net.params["W1"].shape == (400, 300) and net.params["W2"].shape == (300, 200)
    assert net.params["W1"].std() == pytest.approx(std_W1, rel=0.02)
    assert net.params["W2"].std() == pytest.approx(std_W2, rel=0.02)
    assert abs(net.params["W1"].mean()) < 0.02 * std_W1
    np.testing.assert_array_equal(net.params["b1"], np.zeros(300))
    np.testing.assert_array_equal(net.params["b2"], np.zeros(200))


def test_layers_are_named_as_in_the_book() -> None:
    assert list(TwoLayerNet(2, 2, 2).layers) == ["Affine1", "Sigmoid1", "Affine2"]
    assert list(TwoLayerNet(2, 2, 2, activation="relu").layers) == ["Affine1", "Relu1", "Affine2"]


def test_in_place_updates_and_reassigned_params_both_reach_the_layers() -> None:
    net = TwoLayerNet(5, 4, 3, seed=0)
    x, _ = batch()
    net.params["b2"] += 1.0  # in place
    np.testing.assert_allclose(net.predict(x), _reference_predict(net.params, x))
    net.params["W2"] = net.params["W2"] * 2.0  # a new array
    np.testing.assert_allclose(net.predict(x), _reference_predict(net.params, x))


def _reference_predict(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    hidden = 1.0 / (1.0 + np.exp(-(x @ params["W1"] + params["b1"])))
    return hidden @ params["W2"] + params["b2"]


def test_float32_network_stays_float32_and_agrees_with_float64() -> None:
    net64 = TwoLayerNet(20, 8, 4, activation="relu", weight_init_std="he", seed=2)
    net32 = TwoLayerNet(20, 8, 4, activation="relu", weight_init_std="he", seed=2,
                        dtype=np.float32)
    rng = np.random.default_rng(2)
    x, t = rng.normal(size=(10, 20)).astype(np.float32), rng.integers(0, 4, size=10)
    grads32, grads64 = net32.gradient(x, t), net64.gradient(x, t)
    assert net32.loss(x, t) == pytest.approx(net64.loss(x, t), rel=1e-5)
    for name in PARAM_NAMES:
        assert net32.params[name].dtype == grads32[name].dtype == np.float32
        assert grads64[name].dtype == np.float64
        np.testing.assert_allclose(grads32[name], grads64[name], rtol=1e-4, atol=1e-6)


def test_float32_data_in_a_float64_network_is_exact() -> None:
    net = TwoLayerNet(5, 4, 3, seed=0)
    x, t = batch()
    x32 = x.astype(np.float32)
    expected = net.gradient(x32.astype(np.float64), t)
    got = net.gradient(x32, t)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(got[name], expected[name])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"activation": "tanh"}, "activation must be"),
     ({"hidden_size": 0}, "hidden_size must be a positive integer"),
     ({"input_size": 2.5}, "input_size must be a positive integer"),
     ({"weight_init_std": "lecun"}, "weight_init_std must be"),
     ({"weight_init_std": -0.1}, "weight_init_std must be"),
     ({"weight_init_std": None}, "weight_init_std must be"),
     ({"dtype": np.int64}, "dtype must be a floating point dtype")],
)
def test_invalid_arguments_are_named(kwargs: dict, match: str) -> None:
    arguments = {"input_size": 5, "hidden_size": 4, "output_size": 3} | kwargs
    with pytest.raises(ValueError, match=match):
        TwoLayerNet(**arguments)


def test_dropout_network_gradient_matches_torch_with_the_same_mask() -> None:
    net = TwoLayerNet(20, 8, 4, weight_init_std="he", activation="relu", seed=1, dropout=0.5)
    assert list(net.layers) == ["Affine1", "Relu1", "Dropout1", "Affine2"]
    rng = np.random.default_rng(1)
    x, labels = rng.normal(size=(10, 20)), rng.integers(0, 4, size=10)
    params, _ = torch_twin(net, "relu")
    grads = net.gradient(x, labels)
    keep = torch.from_numpy(net.layers["Dropout1"].mask != 0)
    hidden = torch.relu(torch.from_numpy(x) @ params["W1"] + params["b1"])
    logits = F.dropout(hidden, p=0.0) * keep / 0.5 @ params["W2"] + params["b2"]
    F.cross_entropy(logits, torch.tensor(labels)).backward()
    for name in PARAM_NAMES:
        np.testing.assert_allclose(grads[name], params[name].grad.numpy(), rtol=0, atol=1e-10)


def test_dropout_network_predicts_without_dropout() -> None:
    plain = TwoLayerNet(6, 5, 3, activation="relu", seed=4)
    dropped = TwoLayerNet(6, 5, 3, activation="relu", seed=4, dropout=0.3)
    x, t = batch(d=6)
    np.testing.assert_array_equal(dropped.predict(x), plain.predict(x))
    assert dropped.loss(x, t) == plain.loss(x, t)
    assert not np.array_equal(dropped.predict(x, train=True), plain.predict(x))
