r"""The theory of chapter 8: the per-layer ratio of backpropagated variances, predicted.

:func:`predicted_ratio` multiplies out :math:`r = n\,\operatorname{Var}[W]\,\mathbb E[f'(z)^2]`
from :func:`weight_variance` and :func:`derivative_mean_square`; :func:`ratio_tolerance`
says how far a measured ratio may stray from it by chance. See :mod:`bplib.experiments`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .. import init as _init
from .._checks import positive_int, real
from ..layers import ACTIVATIONS, Activation, LeakyReLU

__all__ = [
    "LEAKY_SLOPE",
    "derivative_mean_square",
    "predicted_ratio",
    "ratio_tolerance",
    "weight_variance",
]


#: Leaky ReLU's negative slope in every experiment here: bplib's (and PyTorch's) default.
LEAKY_SLOPE = LeakyReLU.default_negative_slope


def _activation_name(activation: str) -> str:
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}; expected one of {sorted(ACTIVATIONS)}"
        )
    return activation


def card(activation: str) -> type[Activation]:
    """The class registered under ``activation``: its card carries the theory values."""
    return ACTIVATIONS[_activation_name(activation)]


# --------------------------------------------------------------------------------------
# The theory
# --------------------------------------------------------------------------------------


def weight_variance(init: str, fan_in: int, fan_out: int) -> float:
    r"""The variance :math:`\operatorname{Var}[W]` of the weights a :mod:`bplib.init` initialiser
    draws.

    - ``zeros``: :math:`0`;
    - ``normal`` (std 0.01): :math:`10^{-4}`;
    - ``uniform`` (the old default, :math:`U(-a, a)` with :math:`a = 1/\sqrt{n_\text{in}}`):
      :math:`a^2/3 = 1/(3 n_\text{in})`;
    - ``xavier_uniform``, ``xavier_normal`` (and the ``glorot_*`` aliases):
      :math:`2/(n_\text{in} + n_\text{out})`;
    - ``he_uniform``, ``he_normal`` (and the ``kaiming_*`` aliases): :math:`2/n_\text{in}`;
    - ``lecun_normal``: :math:`1/n_\text{in}`.

    A uniform :math:`U(-a, a)` has variance :math:`a^2/3`; chapter 9 derives the Xavier and
    He scales from the variance argument of :func:`predicted_ratio`. Only each initialiser's default
    arguments are covered (gain 1, negative slope 0).
    """
    fan_in = positive_int(fan_in, "fan_in")
    fan_out = positive_int(fan_out, "fan_out")
    closed_forms: dict[Callable[..., Any], float] = {
        _init.zeros: 0.0,
        _init.normal: 0.01**2,
        _init.uniform: 1.0 / (3.0 * fan_in),
        _init.xavier_uniform: 2.0 / (fan_in + fan_out),
        _init.xavier_normal: 2.0 / (fan_in + fan_out),
        _init.he_uniform: 2.0 / fan_in,
        _init.he_normal: 2.0 / fan_in,
        _init.lecun_normal: 1.0 / fan_in,
    }
    if not isinstance(init, str) or init not in _init.INITIALIZERS:
        raise ValueError(
            f"weight_variance needs the name of a bplib.init initialiser, one of "
            f"{sorted(_init.INITIALIZERS)}; got {init!r}"
        )
    return closed_forms[_init.INITIALIZERS[init]]


def derivative_mean_square(activation: str) -> float:
    r""":math:`\mathbb E[f'(z)^2]` in the near-linear regime: :math:`z` small and symmetric about 0.

    - ``sigmoid``: :math:`f'(0)^2 = (1/4)^2 = 1/16`, since
      :math:`\sigma' = \sigma(1-\sigma) \le 1/4`;
    - ``tanh``: :math:`f'(0)^2 = 1`, since :math:`\tanh' = 1 - \tanh^2 \le 1`;
    - ``relu``: :math:`1/2`, the fraction of units with :math:`z > 0`;
    - ``leaky_relu``: :math:`(1 + \alpha^2)/2` with :math:`\alpha = 0.01`;
    - ``identity``: :math:`1`.

    Each value is the ``derivative_mean_square`` of the activation's class (its card, see
    :class:`bplib.layers.Activation`).

    For ReLU and leaky ReLU the value holds at any scale of :math:`z` (only its sign
    matters); for sigmoid and tanh it is an upper bound, reached as :math:`z \to 0`, and it
    falls once the units saturate.
    """
    cls = card(activation)
    if cls.derivative_mean_square is None:
        raise ValueError(
            f"activation {activation!r} has no theory value: its class {cls.__qualname__} "
            f"does not set derivative_mean_square, E[f'(z)^2] for small z"
        )
    return cls.derivative_mean_square


def predicted_ratio(activation: str, init: str, fan_in: int, fan_out: int | None = None) -> float:
    r"""The per-layer ratio of backpropagated **variances** predicted in the near-linear regime.

    .. math::

        r = \frac{\operatorname{Var}[\delta^{(l)}]}{\operatorname{Var}[\delta^{(l+1)}]}
          = n_\text{out}\,\operatorname{Var}[W]\,\mathbb E\big[f'(z)^2\big]

    (chapter 8), with :func:`weight_variance` and :func:`derivative_mean_square`. For layers
    of width :math:`n` (``fan_out`` defaults to ``fan_in``, a square layer):

    - old uniform + tanh: :math:`n \cdot \frac{1}{3n} \cdot 1 = 1/3` (the gradient's norm
      shrinks by :math:`1/\sqrt 3` a layer);
    - Glorot + tanh: :math:`n \cdot \frac{2}{2n} \cdot 1 = 1`;
    - He + ReLU: :math:`n \cdot \frac{2}{n} \cdot \frac12 = 1`; Glorot + ReLU: :math:`1/2`;
    - anything + sigmoid: at most :math:`n \operatorname{Var}[W] / 16`.

    Take the square root for the ratio of standard deviations (or of gradient norms).

    Examples
    --------
    >>> from bplib.experiments import predicted_ratio
    >>> round(predicted_ratio("tanh", "uniform", 64), 6)
    0.333333
    >>> predicted_ratio("relu", "he_normal", 64)
    1.0
    """
    fan_in = positive_int(fan_in, "fan_in")
    fan_out = fan_in if fan_out is None else positive_int(fan_out, "fan_out")
    return fan_out * weight_variance(init, fan_in, fan_out) * derivative_mean_square(activation)


def ratio_tolerance(
    width: int, depth: int, n_seeds: int, z: float = 4.0, *, activation: str | None = None
) -> float:
    r"""How far a measured ratio may stray from the truth by chance: ``z`` relative standard errors.

    The measured ratio :math:`\hat r` (:attr:`Measurement.measured_ratio`) averages the
    :math:`(L-1)S` per-layer ratios
    :math:`\rho^{(l)} = \operatorname{Var}[\delta^{(l)}]/\operatorname{Var}[\delta^{(l+1)}]`
    of :math:`S` networks of depth :math:`L`. Each :math:`\rho^{(l)}` is random: for a given
    incoming error :math:`\delta` (Gram matrix :math:`G = \delta^\top\delta`) and weights of
    variance :math:`v`, :math:`\|\delta W^\top\|^2 = \sum_i w_i^\top G\, w_i` sums :math:`n`
    independent rows :math:`w_i` and has relative variance
    :math:`2\operatorname{tr}(G^2)/(n\operatorname{tr}(G)^2) \le 2/n` for Gaussian weights (the
    bound is reached when :math:`\delta` has rank one; uniform weights fluctuate less). Given
    the layers above it, each :math:`\rho^{(l)}` has mean :math:`r` and a relative standard
    deviation of at most :math:`\sqrt{2/n}`, so the fluctuations of successive layers are
    uncorrelated (a martingale), and the relative standard error of :math:`\hat r` is at most

    .. math::

        \sqrt{2/n} \,/\, \sqrt{(L - 1)\, S}

    for width :math:`n`. This returns ``z`` times that: a bound on
    :math:`|\hat r / r - 1|` that chance exceeds with probability well below 1e-4 for ``z = 4``.
    For ``activation="relu"`` or ``"leaky_relu"`` (any activation whose card says
    ``sign_gated``) the random on/off pattern adds to this:
    the fraction :math:`k/n` of active units, :math:`k \sim \text{Binomial}(n, 1/2)`, has
    relative variance :math:`1/n`, so the per-layer bound becomes :math:`3/n`.

    It covers chance only: the bias of the near-linear prediction once units saturate is a
    separate matter (chapter 8).
    """
    width = positive_int(width, "width")
    depth = positive_int(depth, "depth")
    n_seeds = positive_int(n_seeds, "n_seeds")
    if depth < 2:
        raise ValueError(f"a per-layer ratio needs depth >= 2 layers, got depth={depth}")
    z = real(z, "z (the number of standard errors)", "ratio_tolerance", low=0.0, low_open=True)
    per_layer = 2.0 / width
    if activation is not None and card(activation).sign_gated:
        per_layer += 1.0 / width
    return z * math.sqrt(per_layer) / math.sqrt((depth - 1) * n_seeds)
