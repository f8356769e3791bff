"""nncourse.losses against torch.nn.functional (float64), autograd and central differences."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nncourse import losses
from nncourse.functions import softmax
from nncourse.gradients import numerical_gradient
from nncourse.losses import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    cross_entropy_error,
    cross_entropy_error_grad,
    mean_absolute_error,
    mean_absolute_error_grad,
    mean_squared_error,
    mean_squared_error_grad,
    smooth_l1,
    smooth_l1_grad,
    softmax_cross_entropy,
    softmax_cross_entropy_grad,
    sum_squared_error,
    sum_squared_error_grad,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL, ATOL = 1e-6, 1e-12
BETAS = [0.0, 0.1, 1.0, 2.5]


def tensor(a, requires_grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=requires_grad)


def torch_value_and_grad(torch_loss, y: np.ndarray, t) -> tuple[float, np.ndarray]:
    """torch_loss(y, t) and its gradient with respect to y, by autograd."""
    yt = tensor(y, requires_grad=True)
    loss = torch_loss(yt, t)
    loss.backward()
    return loss.item(), yt.grad.numpy()


def assert_matches_torch(ours, ours_grad, torch_loss, y, t, torch_t=None, **kwargs):
    """Loss value and gradient of nncourse agree with torch's forward and autograd."""
    value, grad = torch_value_and_grad(torch_loss, y, tensor(t) if torch_t is None else torch_t)
    result = ours(y, t, **kwargs)
    assert isinstance(result, float)
    np.testing.assert_allclose(result, value, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(ours_grad(y, t, **kwargs), grad, rtol=RTOL, atol=ATOL)


def assert_matches_central_differences(ours, ours_grad, y, t, **kwargs):
    numeric = numerical_gradient(lambda z: ours(z, t, **kwargs), y.copy())
    np.testing.assert_allclose(ours_grad(y, t, **kwargs), numeric, rtol=1e-5, atol=1e-8)


@st.composite
def prediction_target_pairs(draw, low=-10.0, high=10.0):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    values = st.floats(low, high)
    return draw(hnp.arrays(np.float64, shape, elements=values)), draw(
        hnp.arrays(np.float64, shape, elements=values)
    )


@st.composite
def logits_and_labels(draw):
    """Logits of shape (C,) with a label of shape (), or (N, C) with labels of shape (N,)."""
    n_classes = draw(st.integers(1, 6))
    batch = draw(st.one_of(st.just(()), st.tuples(st.integers(1, 5))))
    logits = draw(hnp.arrays(np.float64, (*batch, n_classes), elements=st.floats(-30, 30)))
    labels = draw(hnp.arrays(np.int64, batch, elements=st.integers(0, n_classes - 1)))
    return logits, labels


def one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    return np.eye(n_classes)[labels]


rng = np.random.default_rng(2024)

# --- regression losses -----------------------------------------------------------------

REGRESSION = {
    "sum_squared_error": (
        sum_squared_error,
        sum_squared_error_grad,
        lambda y, t: 0.5 * F.mse_loss(y, t, reduction="sum"),
    ),
    "mean_squared_error": (mean_squared_error, mean_squared_error_grad, F.mse_loss),
    "mean_absolute_error": (mean_absolute_error, mean_absolute_error_grad, F.l1_loss),
}


@pytest.mark.parametrize("name", REGRESSION)
@settings(deadline=None, max_examples=30)
@given(pair=prediction_target_pairs())
def test_regression_loss_matches_torch(name, pair):
    assert_matches_torch(*REGRESSION[name], *pair)


@pytest.mark.parametrize("beta", BETAS)
@settings(deadline=None, max_examples=30)
@given(pair=prediction_target_pairs(-3.0, 3.0))
def test_smooth_l1_matches_torch(beta, pair):
    def torch_loss(y, t):
        return F.smooth_l1_loss(y, t, beta=beta)

    assert_matches_torch(smooth_l1, smooth_l1_grad, torch_loss, *pair, beta=beta)


@pytest.mark.parametrize("name", REGRESSION)
def test_regression_grad_matches_central_differences(name):
    ours, ours_grad, _ = REGRESSION[name]
    y, t = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    assert_matches_central_differences(ours, ours_grad, y, t)


@pytest.mark.parametrize("beta", BETAS)
def test_smooth_l1_grad_matches_central_differences(beta):
    # Differences between -2 and 2 with none within 1e-3 of a kink (0 and +-beta).
    d = np.array([-1.9, -1.2, -0.7, -0.35, -0.05, 0.08, 0.3, 0.6, 1.1, 1.7, 1.95, -1.5])
    t = rng.normal(size=d.shape)
    assert_matches_central_differences(smooth_l1, smooth_l1_grad, t + d, t, beta=beta)


def test_smooth_l1_with_beta_zero_is_l1():
    y, t = rng.normal(size=7), rng.normal(size=7)
    assert smooth_l1(y, t, beta=0.0) == pytest.approx(mean_absolute_error(y, t), rel=1e-15)
    np.testing.assert_allclose(smooth_l1_grad(y, t, beta=0.0), mean_absolute_error_grad(y, t))


# --- binary cross entropy ----------------------------------------------------------------


@settings(deadline=None, max_examples=40)
@given(
    data=st.data(),
    shape=hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=5),
)
def test_binary_cross_entropy_matches_torch(data, shape):
    # Probabilities including exactly 0 and 1 (where torch clamps log at -100),
    # targets 0/1 or soft.
    p = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(0.0, 1.0)))
    t = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 0.3, 1.0])))
    assert_matches_torch(binary_cross_entropy, binary_cross_entropy_grad, F.binary_cross_entropy,
                         p, t)


def test_binary_cross_entropy_grad_matches_central_differences():
    p = rng.uniform(0.05, 0.95, size=(3, 4))
    t = rng.integers(0, 2, size=(3, 4)).astype(float)
    assert_matches_central_differences(binary_cross_entropy, binary_cross_entropy_grad, p, t)


def test_binary_cross_entropy_is_finite_at_certain_mistakes():
    assert binary_cross_entropy([0.0, 1.0], [1.0, 0.0]) == 100.0  # log clamped at -100


@pytest.mark.parametrize("p", [[-0.1, 0.5], [0.5, 1.5], [np.nan, 0.5]])
def test_binary_cross_entropy_refuses_non_probabilities(p):
    with pytest.raises(ValueError, match=r"probabilities p in \[0, 1\]"):
        binary_cross_entropy(p, [1.0, 0.0])


# --- cross entropy of probabilities ------------------------------------------------------


@settings(deadline=None, max_examples=40)
@given(case=logits_and_labels())
def test_cross_entropy_error_matches_torch_nll(case):
    logits, labels = case
    y = softmax(logits)

    def torch_loss(yt, _):
        return F.nll_loss(torch.log(yt), torch.tensor(labels))

    for t in (labels, one_hot(labels, y.shape[-1])):  # integer labels, then one-hot
        assert_matches_torch(cross_entropy_error, cross_entropy_error_grad, torch_loss, y, t,
                             torch_t=None, delta=0.0)


def test_cross_entropy_error_with_soft_targets_matches_torch():
    y = softmax(rng.normal(size=(4, 3)))
    t = softmax(rng.normal(size=(4, 3)))

    def torch_loss(yt, tt):
        return -(tt * torch.log(yt)).sum(dim=-1).mean()

    assert_matches_torch(cross_entropy_error, cross_entropy_error_grad, torch_loss, y, t,
                         delta=0.0)


@pytest.mark.parametrize("labels", [np.array(2), np.array([2, 0, 1])])
def test_cross_entropy_error_grad_matches_central_differences(labels):
    y = softmax(rng.normal(size=(*labels.shape, 3)))
    for t in (labels, one_hot(labels, 3)):
        assert_matches_central_differences(cross_entropy_error, cross_entropy_error_grad, y, t)


def test_cross_entropy_error_delta_keeps_log_of_zero_finite():
    y = np.array([0.0, 1.0])
    assert cross_entropy_error(y, 0) == pytest.approx(-np.log(1e-7))
    assert cross_entropy_error(y, 0, delta=0.0) == np.inf
    # A zero probability of a class that is not the target costs nothing, even with delta 0.
    assert cross_entropy_error(y, 1, delta=0.0) == 0.0
    assert cross_entropy_error_grad(y, 1, delta=0.0).tolist() == [0.0, -1.0]


def test_cross_entropy_error_averages_over_the_batch():
    y = softmax(rng.normal(size=(5, 4)))
    labels = np.array([0, 3, 1, 1, 2])
    single = [cross_entropy_error(y[n], labels[n]) for n in range(5)]
    assert cross_entropy_error(y, labels) == pytest.approx(np.mean(single), rel=1e-12)


# --- softmax cross entropy ---------------------------------------------------------------


@settings(deadline=None, max_examples=40)
@given(case=logits_and_labels())
def test_softmax_cross_entropy_matches_torch(case):
    logits, labels = case
    assert_matches_torch(softmax_cross_entropy, softmax_cross_entropy_grad, F.cross_entropy,
                         logits, labels, torch_t=torch.tensor(labels))
    t = one_hot(labels, logits.shape[-1])
    assert_matches_torch(softmax_cross_entropy, softmax_cross_entropy_grad, F.cross_entropy,
                         logits, t)


def test_softmax_cross_entropy_with_targets_not_summing_to_one_matches_torch():
    logits = rng.normal(size=(4, 3))
    t = rng.uniform(0, 2, size=(4, 3))
    assert_matches_torch(softmax_cross_entropy, softmax_cross_entropy_grad, F.cross_entropy,
                         logits, t)


@pytest.mark.filterwarnings("error")
def test_softmax_cross_entropy_is_stable_for_extreme_logits():
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    labels = np.array([1, 2])
    assert_matches_torch(softmax_cross_entropy, softmax_cross_entropy_grad, F.cross_entropy,
                         logits, labels, torch_t=torch.tensor(labels))
    assert softmax_cross_entropy(logits, labels) == pytest.approx((2000 + 1 + np.log1p(np.exp(-1)))
                                                                  / 2)


@pytest.mark.parametrize("labels", [np.array(1), np.array([2, 0, 1, 1])])
def test_softmax_cross_entropy_grad_matches_central_differences(labels):
    logits = rng.normal(size=(*labels.shape, 3))
    for t in (labels, one_hot(labels, 3)):
        assert_matches_central_differences(softmax_cross_entropy, softmax_cross_entropy_grad,
                                           logits, t)


def test_softmax_cross_entropy_grad_is_softmax_minus_one_hot_over_n():
    logits, labels = rng.normal(size=(6, 4)), np.array([0, 1, 2, 3, 3, 0])
    expected = (softmax(logits) - one_hot(labels, 4)) / 6
    np.testing.assert_allclose(softmax_cross_entropy_grad(logits, labels), expected, rtol=1e-12)


# --- input validation, dtypes ------------------------------------------------------------

ELEMENTWISE = [
    sum_squared_error, sum_squared_error_grad, mean_squared_error, mean_squared_error_grad,
    mean_absolute_error, mean_absolute_error_grad, smooth_l1, smooth_l1_grad,
    binary_cross_entropy, binary_cross_entropy_grad,
]
CLASSIFICATION = [
    cross_entropy_error, cross_entropy_error_grad, softmax_cross_entropy,
    softmax_cross_entropy_grad,
]


@pytest.mark.parametrize("fn", ELEMENTWISE)
def test_elementwise_losses_refuse_different_shapes(fn):
    expected = r"same shape; got y of shape \(3,\) and t of shape \(3, 1\)"
    with pytest.raises(ValueError, match=expected):
        fn(np.full(3, 0.5), np.full((3, 1), 0.5))


@pytest.mark.parametrize("fn", ELEMENTWISE)
def test_elementwise_losses_refuse_empty_input(fn):
    with pytest.raises(ValueError, match="empty"):
        fn(np.zeros(0), np.zeros(0))


@pytest.mark.parametrize("fn", [smooth_l1, smooth_l1_grad])
@pytest.mark.parametrize("beta", [-1.0, np.nan])
def test_smooth_l1_refuses_bad_beta(fn, beta):
    with pytest.raises(ValueError, match="beta"):
        fn([1.0], [0.0], beta=beta)


@pytest.mark.parametrize("fn", CLASSIFICATION)
def test_classification_losses_explain_target_conventions(fn):
    y = softmax(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"integer class labels of shape \(2,\)"):
        fn(y, np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="must be integers"):
        fn(y, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"0\.\.2 for 3 classes"):
        fn(y, np.array([0, 3]))
    with pytest.raises(ValueError, match=r"\(C,\) for one sample or \(N, C\)"):
        fn(np.zeros((2, 2, 3)), np.zeros((2, 2), dtype=int))


@pytest.mark.parametrize("fn", ELEMENTWISE[1::2] + CLASSIFICATION[1::2])
def test_grads_keep_float32(fn):
    y = np.full((2, 3), 0.25, dtype=np.float32)
    t = np.array([0, 2]) if fn in CLASSIFICATION else np.ones((2, 3), dtype=np.float64)
    assert fn(y, t).dtype == np.float32


def test_losses_accept_lists_and_return_python_floats():
    assert type(mean_squared_error([1, 2], [1, 4])) is float
    assert mean_squared_error([1, 2], [1, 4]) == 2.0
    assert type(softmax_cross_entropy([0.0, 0.0], 1)) is float


def test_docstring_examples():
    assert doctest.testmod(losses).failed == 0
