"""The book's worked examples of backpropagation, with every intermediate number.

Plain scalar arithmetic, one line per chain-rule factor, so that a chapter can print each
number next to the formula that produced it (and an exercise can check a student's):

- :func:`line_fit_steps`: post 001's two SGD steps on ``y_hat = w·x + b``.
- :func:`tiny_network` and :func:`tiny_network_step`: post 004's 2-2-2 sigmoid network,
  one forward pass, backprop of every weight, one gradient-descent update.
"""

from __future__ import annotations

from collections.abc import Sequence

from nncourse.functions import sigmoid


def line_fit_steps(
    w: float = 1.0,
    b: float = 1.0,
    lr: float = 0.1,
    samples: Sequence[tuple[float, float]] = ((2.0, 1.0), (-1.0, -5.0)),
) -> list[dict[str, float]]:
    """SGD on ``y_hat = w·x + b`` with loss ``(y_hat − y)²``, one sample per step.

    Parameters
    ----------
    w, b : float, default 1.0
        The starting weight and bias.
    lr : float, default 0.1
        Learning rate.
    samples : sequence of (x, y) pairs, default ((2, 1), (-1, -5))
        Post 001's two samples of ``y = 2x − 3``, used in order.

    Returns
    -------
    list of dict, one per sample
        Keys ``x, y, w, b`` (before the step), ``y_hat = w·x + b``, ``loss = (y_hat − y)²``,
        ``dL_dyhat = 2·(y_hat − y)``, ``dw = dL_dyhat·x``, ``db = dL_dyhat``,
        ``w_new = w − lr·dw``, ``b_new = b − lr·db``.

    Examples
    --------
    >>> first, second = line_fit_steps()
    >>> first["loss"], first["dw"], first["db"], round(first["w_new"], 10), first["b_new"]
    (4.0, 8.0, 4.0, 0.2, 0.6)
    >>> round(second["loss"], 10), round(second["w_new"], 10), round(second["b_new"], 10)
    (29.16, 1.28, -0.48)
    """
    steps = []
    for index, sample in enumerate(samples):
        if len(sample) != 2:
            raise ValueError(f"samples[{index}] must be an (x, y) pair, got {sample!r}")
        x, y = float(sample[0]), float(sample[1])
        y_hat = w * x + b
        dL_dyhat = 2.0 * (y_hat - y)
        dw, db = dL_dyhat * x, dL_dyhat
        step = {"x": x, "y": y, "w": w, "b": b, "y_hat": y_hat, "loss": (y_hat - y) ** 2,
                "dL_dyhat": dL_dyhat, "dw": dw, "db": db,
                "w_new": w - lr * dw, "b_new": b - lr * db}
        steps.append(step)
        w, b = step["w_new"], step["b_new"]
    return steps


def tiny_network() -> dict[str, float]:
    """Post 004's 2-2-2 network: inputs, the eight weights, the two shared biases, targets.

    ``h1 = σ(w1·i1 + w2·i2 + b1)``, ``h2 = σ(w3·i1 + w4·i2 + b1)``,
    ``o1 = σ(w5·h1 + w6·h2 + b2)``, ``o2 = σ(w7·h1 + w8·h2 + b2)``; error
    ``E = ½·Σ(t − o)²``.

    Returns
    -------
    dict of str to float
        Keys ``i1, i2, w1 … w8, b1, b2, t1, t2``.
    """
    weights = dict(zip([f"w{k}" for k in range(1, 9)],
                       [0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55], strict=True))
    return {"i1": 0.05, "i2": 0.10, **weights, "b1": 0.35, "b2": 0.60, "t1": 0.01, "t2": 0.99}


def tiny_network_step(lr: float = 0.5) -> dict:
    """One forward pass, backprop and gradient-descent step of :func:`tiny_network`.

    Chain rule for an output weight, e.g. ``dE/dw5 = dE/dout_o1 · dout_o1/dnet_o1 · dnet_o1/dw5
    = (out_o1 − t1) · out_o1·(1 − out_o1) · out_h1``; a hidden weight collects the error
    of both outputs, e.g. ``dE/dout_h1 = δ_o1·w5 + δ_o2·w7``. All weights are updated from
    the gradients at the old weights (``w ← w − lr·dE/dw``); the biases stay fixed, as in
    the post.

    Parameters
    ----------
    lr : float, default 0.5
        Learning rate.

    Returns
    -------
    dict
        ``net_h1, out_h1, net_h2, out_h2, net_o1, out_o1, net_o2, out_o2`` (neuron inputs
        and outputs), ``E_o1, E_o2, E_total``, for each output ``o`` and hidden ``h`` neuron
        the factors ``dE_dout_<n>``, ``dout_dnet_<n>`` and ``delta_<n> = dE/dnet_<n>``, plus
        ``dE_dw`` and ``w_new``: dicts ``{"w1": …, …, "w8": …}``.

    Examples
    --------
    >>> step = tiny_network_step()
    >>> round(step["E_total"], 9), round(step["dE_dw"]["w5"], 9), round(step["w_new"]["w5"], 8)
    (0.298371109, 0.082167041, 0.35891648)
    """
    net = tiny_network()
    i1, i2, b1, b2, t1, t2 = (net[key] for key in ("i1", "i2", "b1", "b2", "t1", "t2"))
    w1, w2, w3, w4, w5, w6, w7, w8 = (net[f"w{k}"] for k in range(1, 9))

    # Forward pass: net = weighted sum of the inputs, out = sigmoid(net).
    net_h1, net_h2 = w1 * i1 + w2 * i2 + b1, w3 * i1 + w4 * i2 + b1
    out_h1, out_h2 = float(sigmoid(net_h1)), float(sigmoid(net_h2))
    net_o1, net_o2 = w5 * out_h1 + w6 * out_h2 + b2, w7 * out_h1 + w8 * out_h2 + b2
    out_o1, out_o2 = float(sigmoid(net_o1)), float(sigmoid(net_o2))
    E_o1, E_o2 = 0.5 * (t1 - out_o1) ** 2, 0.5 * (t2 - out_o2) ** 2

    # Output layer: delta = dE/dnet = dE/dout · dout/dnet, with dout/dnet = out·(1 − out).
    o1 = _neuron_backward("o1", out_o1, dE_dout=out_o1 - t1)
    o2 = _neuron_backward("o2", out_o2, dE_dout=out_o2 - t2)
    delta_o1, delta_o2 = o1["delta_o1"], o2["delta_o2"]
    # Hidden layer: each hidden output feeds both output neurons, so their errors add up.
    h1 = _neuron_backward("h1", out_h1, dE_dout=delta_o1 * w5 + delta_o2 * w7)
    h2 = _neuron_backward("h2", out_h2, dE_dout=delta_o1 * w6 + delta_o2 * w8)
    delta_h1, delta_h2 = h1["delta_h1"], h2["delta_h2"]

    # dE/dw = delta of the neuron the weight feeds · the input the weight multiplies.
    dE_dw = {"w1": delta_h1 * i1, "w2": delta_h1 * i2, "w3": delta_h2 * i1, "w4": delta_h2 * i2,
             "w5": delta_o1 * out_h1, "w6": delta_o1 * out_h2,
             "w7": delta_o2 * out_h1, "w8": delta_o2 * out_h2}
    return {
        "net_h1": net_h1, "out_h1": out_h1, "net_h2": net_h2, "out_h2": out_h2,
        "net_o1": net_o1, "out_o1": out_o1, "net_o2": net_o2, "out_o2": out_o2,
        "E_o1": E_o1, "E_o2": E_o2, "E_total": E_o1 + E_o2,
        **o1, **o2, **h1, **h2,
        "dE_dw": dE_dw,
        "w_new": {name: net[name] - lr * grad for name, grad in dE_dw.items()},
    }


def _neuron_backward(neuron: str, out: float, dE_dout: float) -> dict[str, float]:
    """dE/dout, dout/dnet = out·(1 − out) and their product delta = dE/dnet of one neuron."""
    dout_dnet = out * (1.0 - out)
    return {f"dE_dout_{neuron}": dE_dout, f"dout_dnet_{neuron}": dout_dnet,
            f"delta_{neuron}": dE_dout * dout_dnet}
