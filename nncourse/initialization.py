"""Initial weight scales, and what they do to the signal in a deep ReLU network (chapter 9).

A unit with ``n`` inputs ``h_i`` and independent weights of mean 0 and standard deviation
``σ`` computes ``z = Σ w_i h_i`` with ``Var[z] = n · σ² · E[h_i²]`` (chapter 4). Behind a
ReLU, ``h = relu(z)`` with ``z`` symmetric around 0, ``E[h²] = Var[z] / 2``: half of the
second moment is cut off. :func:`relu_preactivation_std` chains these factors through a
network; :func:`he_std` is the ``σ`` for which they are 1.

The setting of :func:`relu_preactivation_std` (and of chapter 9's exercise): the inputs
``x`` have ``fan_in`` independent entries of mean 0 and standard deviation ``input_std``
(not ReLU outputs); every layer ``l = 1 … L`` computes ``z_l = h_{l-1} W_l`` with
``h_0 = x`` and ``h_l = relu(z_l)``, no biases, and ``fan_in`` inputs per unit, with fresh
independent weights of mean 0 and standard deviation ``weight_std``. Then

``Var[z_1] = fan_in · weight_std² · input_std²`` and
``Var[z_{l+1}] = fan_in · weight_std² · Var[z_l] / 2``.
"""

from __future__ import annotations

import math
from numbers import Integral, Real


def _check_fan_in(fan_in: int) -> None:
    if not isinstance(fan_in, Integral) or isinstance(fan_in, bool) or fan_in < 1:
        raise ValueError(f"fan_in must be a positive integer, got {fan_in!r}")


def xavier_std(fan_in: int) -> float:
    """``sqrt(1 / fan_in)``: keeps ``Var[z]`` through units that act like the identity near 0.

    The simple form of Xavier/Glorot initialisation (the number of inputs only), as in
    ``TwoLayerNet(weight_init_std="xavier")``.

    Parameters
    ----------
    fan_in : int
        The number of inputs of each unit.

    Returns
    -------
    float

    Examples
    --------
    >>> xavier_std(100)
    0.1
    """
    _check_fan_in(fan_in)
    return math.sqrt(1.0 / fan_in)


def he_std(fan_in: int) -> float:
    """``sqrt(2 / fan_in)``: keeps the variance of the pre-activations behind ReLUs constant.

    From ``fan_in · σ² · Var[z] / 2 = Var[z]`` (He et al. 2015), as in
    ``TwoLayerNet(weight_init_std="he")`` and ``torch.nn.init.kaiming_normal_`` with
    ``nonlinearity="relu"`` and ``mode="fan_in"``.

    Parameters
    ----------
    fan_in : int
        The number of inputs of each unit.

    Returns
    -------
    float

    Examples
    --------
    >>> he_std(50)
    0.2
    """
    _check_fan_in(fan_in)
    return math.sqrt(2.0 / fan_in)


def relu_preactivation_std(layers: int, fan_in: int, weight_std: float,
                           input_std: float = 1.0) -> float:
    """The standard deviation of the last layer's pre-activations of a deep ReLU network.

    In the setting of the module docstring (inputs of standard deviation ``input_std`` that
    are not ReLU outputs, ``layers`` bias-free layers with ``fan_in`` inputs per unit and
    weights of standard deviation ``weight_std``, a ReLU after each layer), the entries of
    ``z_L`` have mean 0 and

    ``std[z_L] = input_std · sqrt(fan_in) · weight_std · (sqrt(fan_in / 2) · weight_std)^(L-1)``:

    the first layer scales the input by ``sqrt(fan_in) · weight_std``, each further layer by
    ``sqrt(fan_in / 2) · weight_std``, since the ReLU in front of it halves the second moment.
    With ``weight_std = he_std(fan_in)`` that is ``sqrt(2) · input_std`` at every depth.

    Parameters
    ----------
    layers : int
        L, the number of layers (1 or more); ``z_L`` is the last one's output before its ReLU.
    fan_in : int
        The number of inputs of every unit (the width of the input and of every hidden layer).
    weight_std : float
        The standard deviation of every weight (0 or more).
    input_std : float, default 1.0
        The standard deviation of the input entries (0 or more).

    Returns
    -------
    float

    Examples
    --------
    >>> relu_preactivation_std(5, 100, he_std(100))  # doctest: +ELLIPSIS
    1.41421356...
    >>> round(relu_preactivation_std(3, 100, 0.1), 12)  # Xavier: 1/sqrt(2) per ReLU
    0.5
    """
    if not isinstance(layers, Integral) or isinstance(layers, bool) or layers < 1:
        raise ValueError(f"layers must be a positive integer, got {layers!r}")
    _check_fan_in(fan_in)
    for name, value in (("weight_std", weight_std), ("input_std", input_std)):
        if not isinstance(value, Real) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    first = math.sqrt(fan_in) * weight_std
    behind_relu = math.sqrt(fan_in / 2) * weight_std
    return float(input_std * first * behind_relu ** (layers - 1))
