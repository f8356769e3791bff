"""Layers: forward and backward against PyTorch autograd in float64."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nncourse.layers import Affine, Dropout, ReLU, Sigmoid, SoftmaxWithLoss

torch = pytest.importorskip("torch")
F = torch.nn.functional

TOL = 1e-10


def tensor(array: np.ndarray, requires_grad: bool = False):
    return torch.tensor(array, dtype=torch.float64, requires_grad=requires_grad)


def torch_backward(forward, inputs: list[np.ndarray], dout: np.ndarray):
    """Run ``forward`` in torch and backprop ``dout``; return the output and the input grads."""
    leaves = [tensor(a, requires_grad=True) for a in inputs]
    out = forward(*leaves)
    out.backward(tensor(dout))
    return out.detach().numpy(), [leaf.grad.numpy() for leaf in leaves]


@pytest.mark.parametrize(
    ("x_shape", "n_out"),
    [((5, 4), 3), ((1, 4), 3), ((2, 3, 4, 5), 7), ((1, 1, 2, 2), 1)],
    ids=["batch", "batch-of-1", "4d-input", "4d-batch-of-1"],
)
def test_affine_matches_torch(x_shape: tuple[int, ...], n_out: int) -> None:
    rng = np.random.default_rng(0)
    n_in = int(np.prod(x_shape[1:]))
    x, W, b = rng.normal(size=x_shape), rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
    dout = rng.normal(size=(x_shape[0], n_out))

    layer = Affine(W, b)
    out = layer.forward(x)
    dx = layer.backward(dout)

    expected_out, (ex_dx, ex_dW, ex_db) = torch_backward(
        lambda x_, W_, b_: x_.reshape(x_.shape[0], -1) @ W_ + b_, [x, W, b], dout
    )
    np.testing.assert_allclose(out, expected_out, rtol=0, atol=TOL)
    assert dx.shape == x.shape
    np.testing.assert_allclose(dx, ex_dx, rtol=0, atol=TOL)
    np.testing.assert_allclose(layer.dW, ex_dW, rtol=0, atol=TOL)
    np.testing.assert_allclose(layer.db, ex_db, rtol=0, atol=TOL)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 6), n_in=st.integers(1, 6), n_out=st.integers(1, 6),
       seed=st.integers(0, 2**32 - 1))
def test_affine_any_shape_matches_torch(n: int, n_in: int, n_out: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, W, b = rng.normal(size=(n, n_in)), rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
    dout = rng.normal(size=(n, n_out))
    layer = Affine(W, b)
    layer.forward(x)
    dx = layer.backward(dout)
    _, (ex_dx, ex_dW, ex_db) = torch_backward(lambda x_, W_, b_: x_ @ W_ + b_, [x, W, b], dout)
    for got, expected in [(dx, ex_dx), (layer.dW, ex_dW), (layer.db, ex_db)]:
        np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)


def test_affine_keeps_a_reference_to_its_parameters() -> None:
    W, b = np.ones((2, 1)), np.zeros(1)
    layer = Affine(W, b)
    W *= 3.0  # an in-place update, as optimizers do
    np.testing.assert_array_equal(layer.forward(np.array([[1.0, 1.0]])), [[6.0]])


def test_affine_computes_in_the_dtype_of_its_weights() -> None:
    W, b = np.ones((3, 2), dtype=np.float32), np.zeros(2, dtype=np.float32)
    layer = Affine(W, b)
    out = layer.forward(np.ones((4, 3)))  # float64 data
    dx = layer.backward(np.ones((4, 2), dtype=np.float32))
    assert out.dtype == dx.dtype == layer.dW.dtype == layer.db.dtype == np.float32


@pytest.mark.parametrize(
    ("W", "b", "match"),
    [(np.ones(3), np.ones(3), "W must be a 2-D"), (np.ones((3, 2)), np.ones(3), "b must be"),
     ([[1.0]], np.ones(1), "W must be")],
)
def test_affine_rejects_bad_parameters(W, b, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Affine(W, b)


def test_affine_rejects_input_of_the_wrong_width() -> None:
    layer = Affine(np.ones((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3\)"):
        layer.forward(np.ones((4, 5)))


@pytest.mark.parametrize(
    ("layer_class", "torch_function"), [(Sigmoid, torch.sigmoid), (ReLU, torch.relu)]
)
@pytest.mark.parametrize("shape", [(7,), (4, 5), (2, 3, 4)])
def test_activation_matches_torch(layer_class, torch_function, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(scale=3.0, size=shape)
    x.flat[0] = 40.0  # far in the saturated tail
    dout = rng.normal(size=shape)

    layer = layer_class()
    out = layer.forward(x)
    dx = layer.backward(dout)

    expected_out, (expected_dx,) = torch_backward(torch_function, [x], dout)
    np.testing.assert_allclose(out, expected_out, rtol=0, atol=TOL)
    np.testing.assert_allclose(dx, expected_dx, rtol=0, atol=TOL)


@pytest.mark.parametrize("layer_class", [Sigmoid, ReLU])
def test_activation_keeps_float32(layer_class) -> None:
    layer = layer_class()
    x = np.linspace(-2, 2, 6, dtype=np.float32)
    assert layer.forward(x).dtype == np.float32
    assert layer.backward(np.ones_like(x)).dtype == np.float32


@pytest.mark.parametrize("target_kind", ["labels", "one-hot"])
@pytest.mark.parametrize("dout", [1.0, 2.5])
@pytest.mark.parametrize("n", [1, 6])
def test_softmax_with_loss_matches_torch(target_kind: str, dout: float, n: int) -> None:
    rng = np.random.default_rng(2)
    logits, labels = rng.normal(scale=2.0, size=(n, 4)), rng.integers(0, 4, size=n)
    t = labels if target_kind == "labels" else np.eye(4)[labels]

    layer = SoftmaxWithLoss()
    loss = layer.forward(logits, t)
    dx = layer.backward(dout)

    leaf = tensor(logits, requires_grad=True)
    target = torch.tensor(labels) if target_kind == "labels" else tensor(t)
    expected = F.cross_entropy(leaf, target)
    (expected * dout).backward()
    assert isinstance(loss, float)
    assert loss == pytest.approx(expected.item(), abs=TOL)
    np.testing.assert_allclose(dx, leaf.grad.numpy(), rtol=0, atol=TOL)


def test_softmax_with_loss_is_stable_for_huge_logits() -> None:
    layer = SoftmaxWithLoss()
    loss = layer.forward(np.array([[1000.0, -1000.0]]), np.array([1]))
    assert loss == pytest.approx(2000.0)
    np.testing.assert_allclose(layer.backward(), [[1.0, -1.0]])


def test_softmax_with_loss_gradient_has_the_dtype_of_the_logits() -> None:
    layer = SoftmaxWithLoss()
    layer.forward(np.zeros((2, 3), dtype=np.float32), np.eye(3)[[0, 2]])  # float64 one-hot
    assert layer.backward().dtype == np.float32


@pytest.mark.parametrize(
    "layer",
    [Affine(np.ones((2, 2)), np.zeros(2)), Sigmoid(), ReLU(), SoftmaxWithLoss(), Dropout()],
    ids=lambda layer: type(layer).__name__,
)
def test_backward_before_forward_explains_itself(layer) -> None:
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((1, 2)))


def test_affine_can_skip_the_input_gradient() -> None:
    rng = np.random.default_rng(3)
    x, W, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    dout = rng.normal(size=(4, 2))
    full, partial = Affine(W, b), Affine(W, b)
    full.forward(x)
    partial.forward(x)
    full.backward(dout)
    assert partial.backward(dout, input_grad=False) is None
    np.testing.assert_array_equal(partial.dW, full.dW)
    np.testing.assert_array_equal(partial.db, full.db)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("shape", [(6,), (5, 7), (2, 3, 4)])
def test_dropout_matches_the_torch_formula_with_the_same_mask(p: float, shape) -> None:
    rng = np.random.default_rng(4)
    x, dout = rng.normal(size=shape), rng.normal(size=shape)
    layer = Dropout(p, seed=5)
    out = layer.forward(x)
    dx = layer.backward(dout)
    keep = layer.mask != 0
    # torch.nn.functional.dropout computes x * keep / (1 - p); feed it our mask
    expected_out, (expected_dx,) = torch_backward(
        lambda x_: x_ * torch.from_numpy(keep) / (1 - p), [x], dout
    )
    np.testing.assert_allclose(out, expected_out, rtol=0, atol=TOL)
    np.testing.assert_allclose(dx, expected_dx, rtol=0, atol=TOL)
    np.testing.assert_array_equal(dx, dout * layer.mask)  # backward is the mask scaling
    assert set(np.unique(layer.mask)) <= {0.0, 1 / (1 - p)}


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_keeps_the_expectation_like_torch(p: float) -> None:
    x = np.linspace(-2.0, 3.0, 10)
    samples = 20000
    layer = Dropout(p, seed=1)
    ours = np.mean([layer.forward(x) for _ in range(samples)], axis=0)
    torch.manual_seed(0)
    theirs = F.dropout(tensor(x).expand(samples, 10), p=p, training=True).mean(dim=0).numpy()
    # both sample means are within a few standard errors of x
    tolerance = 5 * np.abs(x) * np.sqrt(p / (1 - p) / samples) + 1e-12
    assert np.all(np.abs(ours - x) <= tolerance)
    assert np.all(np.abs(theirs - x) <= tolerance)
    kept = np.mean([np.mean(layer.forward(np.ones(1000)) != 0) for _ in range(20)])
    assert kept == pytest.approx(1 - p, abs=0.01)


def test_dropout_in_evaluation_mode_is_the_identity_like_torch() -> None:
    x = np.random.default_rng(6).normal(size=(4, 5))
    layer = Dropout(0.5, seed=0)
    layer.forward(x)  # a training call first: evaluation must forget its mask
    out = layer.forward(x, train=False)
    np.testing.assert_array_equal(out, F.dropout(tensor(x), p=0.5, training=False).numpy())
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))
    assert layer.mask is None
    np.testing.assert_array_equal(Dropout(0.0).forward(x), x)


def test_dropout_same_seed_same_masks_and_float32_stays() -> None:
    x = np.ones((3, 4), dtype=np.float32)
    first, second = Dropout(0.5, seed=3), Dropout(0.5, seed=3)
    np.testing.assert_array_equal(first.forward(x), second.forward(x))
    big = np.ones(1000)
    assert not np.array_equal(first.forward(big), first.forward(big))  # a new mask per call
    assert first.forward(x).dtype == first.backward(x).dtype == np.float32


@pytest.mark.parametrize("p", [-0.1, 1.0, "0.5", True])
def test_dropout_rejects_a_bad_probability(p) -> None:
    with pytest.raises(ValueError, match=r"p must be a number in \[0, 1\)"):
        Dropout(p)
