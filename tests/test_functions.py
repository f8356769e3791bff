"""nncourse.functions against PyTorch (float64), central differences and softmax's properties."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nncourse import functions
from nncourse.functions import (
    identity,
    log_softmax,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    step,
)
from nncourse.gradients import numerical_gradient

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-6, 1e-12

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6)
moderate = hnp.arrays(np.float64, shapes, elements=st.floats(-50, 50))
extreme = hnp.arrays(np.float64, shapes, elements=st.floats(-1000, 1000))
# Arrays with several samples sharing very large and very small logits in one row.
extreme_rows = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=2, max_side=6),
    elements=st.sampled_from([-1000.0, -999.0, -1.0, 0.0, 1.0, 999.0, 1000.0]),
)


def tensor(a: np.ndarray, requires_grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=requires_grad)


def torch_elementwise_grad(torch_fn, x: np.ndarray) -> np.ndarray:
    """d torch_fn(x)_i / d x_i via autograd (the function is element-wise)."""
    xt = tensor(x, requires_grad=True)
    torch_fn(xt).sum().backward()
    return xt.grad.numpy()


# --- values against PyTorch -----------------------------------------------------------


ACTIVATIONS = {
    "identity": (identity, lambda x: x),
    "step": (step, lambda x: (x > 0).to(torch.float64)),
    "sigmoid": (sigmoid, torch.sigmoid),
    "relu": (relu, torch.relu),
    "softmax": (softmax, lambda x: torch.softmax(x, dim=-1)),
    "log_softmax": (log_softmax, lambda x: torch.log_softmax(x, dim=-1)),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
@settings(deadline=None, max_examples=30)
@given(x=extreme)
def test_activation_matches_torch(name, x):
    ours, theirs = ACTIVATIONS[name]
    result = ours(x)
    assert result.shape == x.shape
    assert np.all(np.isfinite(result))
    np.testing.assert_allclose(result, theirs(tensor(x)).numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@settings(deadline=None, max_examples=30)
@given(x=extreme_rows)
def test_softmax_matches_torch_on_extreme_rows(name, x):
    ours, theirs = ACTIVATIONS[name]
    result = ours(x)
    assert np.all(np.isfinite(result))
    np.testing.assert_allclose(result, theirs(tensor(x)).numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.filterwarnings("error")  # no overflow warnings either
def test_extreme_logits_give_exact_finite_values():
    x = np.array([[1000.0, -1000.0], [-1000.0, -1000.0], [1000.0, 1000.0]])
    np.testing.assert_array_equal(softmax(x), [[1.0, 0.0], [0.5, 0.5], [0.5, 0.5]])
    np.testing.assert_allclose(log_softmax(x), [[0.0, -2000.0], [-np.log(2)] * 2, [-np.log(2)] * 2])
    np.testing.assert_array_equal(sigmoid([-1000.0, 1000.0]), [0.0, 1.0])
    np.testing.assert_array_equal(sigmoid_grad([-1000.0, 1000.0]), [0.0, 0.0])


# --- derivatives against autograd and central differences ------------------------------


GRADS = {
    "sigmoid_grad": (sigmoid_grad, sigmoid, torch.sigmoid),
    "relu_grad": (relu_grad, relu, torch.relu),
}


@pytest.mark.parametrize("name", GRADS)
@settings(deadline=None, max_examples=30)
@given(x=extreme)
def test_grad_matches_torch_autograd(name, x):
    grad, _, torch_fn = GRADS[name]
    np.testing.assert_allclose(grad(x), torch_elementwise_grad(torch_fn, x), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", GRADS)
def test_grad_matches_central_differences(name):
    grad, fn, _ = GRADS[name]
    x = np.random.default_rng(0).normal(scale=3.0, size=(4, 5))
    x[np.abs(x) < 1e-2] = 0.5  # ReLU has a kink at 0, where differences are meaningless
    numeric = numerical_gradient(lambda z: float(np.sum(fn(z))), x)
    np.testing.assert_allclose(grad(x), numeric, rtol=1e-6, atol=1e-9)


def test_relu_and_step_at_zero_are_zero_like_torch():
    assert relu_grad(0.0) == 0.0 == torch_elementwise_grad(torch.relu, np.array(0.0))
    np.testing.assert_array_equal(step([-1.0, 0.0, 1e-300]), [0.0, 0.0, 1.0])


def test_sigmoid_grad_peak_is_a_quarter():
    assert sigmoid_grad(0.0) == 0.25
    x = np.linspace(-10, 10, 101)
    assert np.all(sigmoid_grad(x) <= 0.25)


# --- properties of softmax ---------------------------------------------------------------


@settings(deadline=None, max_examples=40)
@given(x=extreme)
def test_softmax_rows_are_probability_distributions(x):
    p = softmax(x)
    assert p.shape == x.shape
    assert np.all((p >= 0) & (p <= 1))
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)


@settings(deadline=None, max_examples=40)
@given(
    x=moderate,
    shift=st.floats(-100, 100),
)
def test_softmax_is_shift_invariant(x, shift):
    np.testing.assert_allclose(softmax(x + shift), softmax(x), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(log_softmax(x + shift), log_softmax(x), rtol=1e-9, atol=1e-9)


@settings(deadline=None, max_examples=40)
@given(x=moderate)
def test_log_softmax_is_log_of_softmax(x):
    np.testing.assert_allclose(np.exp(log_softmax(x)), softmax(x), rtol=1e-9, atol=1e-15)
    assert np.all(log_softmax(x) <= 0)


def test_softmax_of_one_row_equals_softmax_of_batch_row():
    x = np.random.default_rng(1).normal(size=(3, 4))
    np.testing.assert_allclose(softmax(x[1]), softmax(x)[1], rtol=1e-15)


@pytest.mark.parametrize("fn", [softmax, log_softmax])
@pytest.mark.parametrize("bad", [np.float64(1.0), np.zeros((3, 0))])
def test_softmax_needs_a_class_axis(fn, bad):
    with pytest.raises(ValueError, match="C >= 1"):
        fn(bad)


# --- dtypes and inputs -------------------------------------------------------------------


ALL = [identity, step, sigmoid, sigmoid_grad, relu, relu_grad, softmax, log_softmax]


@pytest.mark.parametrize("fn", ALL)
def test_float32_stays_float32(fn):
    assert fn(np.ones((2, 3), dtype=np.float32)).dtype == np.float32


@pytest.mark.parametrize("fn", ALL)
def test_lists_and_integers_become_float64(fn):
    result = fn([[1, -2, 3]])
    assert result.dtype == np.float64
    np.testing.assert_allclose(result, fn(np.array([[1.0, -2.0, 3.0]])))


def test_docstring_examples():
    assert doctest.testmod(functions).failed == 0
