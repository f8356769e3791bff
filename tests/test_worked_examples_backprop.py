"""The worked examples: the published numbers of posts 001 and 004, and PyTorch autograd."""

from __future__ import annotations

import pytest

from nncourse.worked_examples import line_fit_steps, tiny_network, tiny_network_step

torch = pytest.importorskip("torch")

WEIGHTS = [f"w{k}" for k in range(1, 9)]


# --- post 001: y_hat = w·x + b, loss (y_hat − y)², lr 0.1, samples (2, 1) then (-1, -5) ---

def test_line_fit_reproduces_post_001() -> None:
    first, second = line_fit_steps()
    expected_first = {"x": 2.0, "y": 1.0, "w": 1.0, "b": 1.0, "y_hat": 3.0, "loss": 4.0,
                      "dL_dyhat": 4.0, "dw": 8.0, "db": 4.0, "w_new": 0.2, "b_new": 0.6}
    expected_second = {"x": -1.0, "y": -5.0, "w": 0.2, "b": 0.6, "y_hat": 0.4, "loss": 29.16,
                       "dL_dyhat": 10.8, "dw": -10.8, "db": 10.8, "w_new": 1.28, "b_new": -0.48}
    assert first == pytest.approx(expected_first, abs=1e-12)
    assert second == pytest.approx(expected_second, abs=1e-12)


def test_line_fit_matches_torch_autograd() -> None:
    w = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    for step, (x, y) in zip(line_fit_steps(), [(2.0, 1.0), (-1.0, -5.0)], strict=True):
        loss = (w * x + b - y) ** 2
        loss.backward()
        assert step["loss"] == pytest.approx(loss.item(), abs=1e-12)
        assert (step["dw"], step["db"]) == pytest.approx((w.grad.item(), b.grad.item()), abs=1e-12)
        with torch.no_grad():
            w -= 0.1 * w.grad
            b -= 0.1 * b.grad
        w.grad, b.grad = None, None
        assert (step["w_new"], step["b_new"]) == pytest.approx((w.item(), b.item()), abs=1e-12)


def test_line_fit_takes_other_starts_and_samples() -> None:
    (step,) = line_fit_steps(w=0.0, b=0.0, lr=0.5, samples=[(1.0, 2.0)])
    assert (step["loss"], step["w_new"], step["b_new"]) == (4.0, 2.0, 2.0)


def test_line_fit_rejects_a_sample_that_is_not_a_pair() -> None:
    with pytest.raises(ValueError, match=r"samples\[1\] must be an \(x, y\) pair"):
        line_fit_steps(samples=[(1.0, 2.0), (1.0, 2.0, 3.0)])


# --- post 004: the 2-2-2 sigmoid network ---

def test_tiny_network_values() -> None:
    net = tiny_network()
    assert [net[name] for name in WEIGHTS] == [0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55]
    assert (net["i1"], net["i2"], net["b1"], net["b2"]) == (0.05, 0.10, 0.35, 0.60)
    assert (net["t1"], net["t2"]) == (0.01, 0.99)


def test_tiny_network_reproduces_the_published_numbers() -> None:
    step = tiny_network_step()
    assert round(step["E_total"], 9) == 0.298371109
    assert round(step["dE_dw"]["w5"], 9) == 0.082167041
    assert round(step["w_new"]["w5"], 8) == 0.35891648


@pytest.mark.parametrize(
    ("key", "published", "decimals"),
    [("out_h1", 0.593269992, 9), ("out_h2", 0.596884378, 9), ("out_o1", 0.75136507, 8),
     ("out_o2", 0.772928465, 9), ("E_o1", 0.274811083, 9), ("E_o2", 0.023560026, 9)],
)
def test_tiny_network_forward_values(key: str, published: float, decimals: int) -> None:
    assert round(tiny_network_step()[key], decimals) == published


@pytest.mark.parametrize(
    ("weight", "published"),
    [("w1", 0.149780716), ("w2", 0.19956143), ("w3", 0.24975114), ("w4", 0.29950229),
     ("w6", 0.408666186), ("w7", 0.511301270), ("w8", 0.561370121)],
)
def test_tiny_network_other_updated_weights(weight: str, published: float) -> None:
    decimals = len(repr(published).split(".")[1])
    assert round(tiny_network_step()["w_new"][weight], decimals) == published


def torch_tiny_network():
    """Forward pass of the same network in torch float64; returns its tensors."""
    net = {key: torch.tensor(value, dtype=torch.float64, requires_grad=key in WEIGHTS)
           for key, value in tiny_network().items()}
    out = {}
    out["out_h1"] = torch.sigmoid(net["w1"] * net["i1"] + net["w2"] * net["i2"] + net["b1"])
    out["out_h2"] = torch.sigmoid(net["w3"] * net["i1"] + net["w4"] * net["i2"] + net["b1"])
    out["out_o1"] = torch.sigmoid(net["w5"] * out["out_h1"] + net["w6"] * out["out_h2"] + net["b2"])
    out["out_o2"] = torch.sigmoid(net["w7"] * out["out_h1"] + net["w8"] * out["out_h2"] + net["b2"])
    out["E_total"] = 0.5 * ((net["t1"] - out["out_o1"]) ** 2 + (net["t2"] - out["out_o2"]) ** 2)
    return net, out


@pytest.mark.parametrize("lr", [0.5, 0.1])
def test_tiny_network_step_matches_torch_autograd(lr: float) -> None:
    net, out = torch_tiny_network()
    out["E_total"].backward()
    step = tiny_network_step(lr=lr)
    for key, value in out.items():
        assert step[key] == pytest.approx(value.item(), abs=1e-12), key
    for name in WEIGHTS:
        assert step["dE_dw"][name] == pytest.approx(net[name].grad.item(), abs=1e-12), name
        expected_new = net[name].item() - lr * net[name].grad.item()
        assert step["w_new"][name] == pytest.approx(expected_new, abs=1e-12), name


def test_tiny_network_deltas_are_dE_dnet() -> None:
    """delta_<n> is dE/dnet_<n>: check it with torch by differentiating w.r.t. the net inputs."""
    net, _ = torch_tiny_network()
    net_h = [net["w1"] * net["i1"] + net["w2"] * net["i2"] + net["b1"],
             net["w3"] * net["i1"] + net["w4"] * net["i2"] + net["b1"]]
    for tensor in net_h:
        tensor.retain_grad()
    out_h = [torch.sigmoid(tensor) for tensor in net_h]
    net_o = [net["w5"] * out_h[0] + net["w6"] * out_h[1] + net["b2"],
             net["w7"] * out_h[0] + net["w8"] * out_h[1] + net["b2"]]
    for tensor in net_o:
        tensor.retain_grad()
    error = 0.5 * ((net["t1"] - torch.sigmoid(net_o[0])) ** 2
                   + (net["t2"] - torch.sigmoid(net_o[1])) ** 2)
    error.backward()
    step = tiny_network_step()
    for name, tensor in zip(["h1", "h2", "o1", "o2"], net_h + net_o, strict=True):
        assert step[f"net_{name}"] == pytest.approx(tensor.item(), abs=1e-12)
        assert step[f"delta_{name}"] == pytest.approx(tensor.grad.item(), abs=1e-12)
        assert step[f"delta_{name}"] == pytest.approx(
            step[f"dE_dout_{name}"] * step[f"dout_dnet_{name}"], abs=1e-15)
