r"""Vanishing and exploding gradients, measured beside the theory (chapters 8 and 9).

In a stack of layers :math:`Z^{(l)} = A^{(l-1)} W^{(l)} + b^{(l)}`, :math:`A^{(l)} = f(Z^{(l)})`,
the backward pass computes the error signal :math:`\delta^{(l)} = \partial L/\partial Z^{(l)}`
by the recursion

.. math::

    \delta^{(l)} = f'(Z^{(l)}) \odot \big(\delta^{(l+1)} W^{(l+1)\top}\big).

If the weights are drawn independently with mean zero and variance :math:`\operatorname{Var}[W]`,
and :math:`f'(Z^{(l)})` is independent of the incoming signal (the "mean-field" assumption),
each step multiplies the **variance** of the error signal by

.. math::

    r = \frac{\operatorname{Var}[\delta^{(l)}]}{\operatorname{Var}[\delta^{(l+1)}]}
      = n_{l+1}\, \operatorname{Var}[W]\, \mathbb E\big[f'(z)^2\big],

where :math:`n_{l+1}`, the fan-out of :math:`W^{(l+1)}`, is the number of terms in each sum.
Through :math:`L` layers the variance is multiplied by about :math:`r^{L}`: it vanishes when
:math:`r < 1` and explodes when :math:`r > 1`.

Every ratio in this module is a ratio of **variances**, never of standard deviations
(the standard deviation, and a gradient's norm, change by :math:`\sqrt r` per layer).

What is here (activations are named ``"sigmoid"``, ``"tanh"``, ``"relu"``,
``"leaky_relu"`` with slope 0.01, or ``"identity"``; initialisations by their
:mod:`bplib.init` names):

- :func:`layer_statistics`: one forward/backward pass through a bplib ``Sequential``, and
  the statistics of every layer (:class:`LayerStats`).
- :func:`predicted_ratio`: the closed form of :math:`r` in the near-linear regime, from
  :func:`weight_variance` and :func:`derivative_mean_square`.
- :func:`measure` and :func:`sweep`: the same statistics over many random networks (seeds,
  depths, widths, activations, initialisations), with the prediction beside the measurement
  (:class:`Measurement`, :func:`table`, :func:`format_table`).

The package's modules: ``theory`` (the prediction) and ``measurements`` (the
measurement); every name is re-exported here.
The remedy for exploding gradients, :func:`bplib.utils.clip_grad_norm`, is in
:mod:`bplib.utils`; the slices through a loss surface of chapter 9 are in
:mod:`bplib.landscape`.
"""

from __future__ import annotations

from .measurements import (
    LayerStats,
    Measurement,
    format_table,
    layer_statistics,
    measure,
    random_network,
    sweep,
    table,
)
from .theory import (
    derivative_mean_square,
    predicted_ratio,
    ratio_tolerance,
    weight_variance,
)

__all__ = [
    "LayerStats",
    "Measurement",
    "derivative_mean_square",
    "format_table",
    "layer_statistics",
    "measure",
    "predicted_ratio",
    "random_network",
    "ratio_tolerance",
    "sweep",
    "table",
    "weight_variance",
]
