r"""Dropout: randomly silenced units while training, the identity in evaluation (chapter 10).

Srivastava et al. (2014). In training mode each entry of the input is kept with probability
:math:`1-p` and zeroed otherwise, and the kept entries are scaled by :math:`1/(1-p)`
("inverted" dropout), so the expected output equals the input and evaluation needs no
rescaling:

.. math::

    y = \frac{M \odot x}{1-p}, \qquad M_{ij} \sim \text{Bernoulli}(1-p), \qquad
    \frac{\partial L}{\partial x} = \frac{M}{1-p} \odot \frac{\partial L}{\partial y}.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._checks import floating_layer_input, real
from .init import RngLike, as_rng
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    r"""Inverted dropout with drop probability ``p`` (chapter 10; Srivastava et al. 2014).

    Training mode: :math:`y = x \odot M/(1-p)` with a fresh mask :math:`M` of independent
    Bernoulli(:math:`1-p`) entries at every forward pass; backward multiplies by the same
    :math:`M/(1-p)`. Evaluation mode (``eval()``): :math:`y = x`, and backward passes the
    gradient through unchanged.

    Parameters
    ----------
    p : float
        The probability of zeroing an entry, in [0, 1).
    rng : int, numpy.random.Generator or None
        Seed or generator of the masks.

    Examples
    --------
    >>> import numpy as np, bplib
    >>> drop = bplib.Dropout(0.5, rng=0)
    >>> drop(np.ones((2, 4)))
    array([[0., 2., 0., 0.],
           [2., 2., 2., 2.]])
    >>> drop.eval()(np.ones((2, 4)))
    array([[1., 1., 1., 1.],
           [1., 1., 1., 1.]])
    """

    def __init__(self, p: float = 0.5, rng: RngLike = None) -> None:
        # p = 1 would drop every unit (and divide by 1 - p = 0): refused
        self.p = real(
            p, "p (the probability of dropping)", "Dropout", low=0.0, high=1.0, high_open=True
        )
        self.rng = as_rng(rng)

    check_input = floating_layer_input  # the boundary (see Module): a floating array
    mask: NDArray[Any] | None  # the last mask (None: nothing dropped), cached for backward

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        if not self.training or self.p == 0:
            self.mask = None
            return x
        keep = self.rng.random(x.shape) >= self.p  # each entry kept with probability 1 - p
        self.mask = keep * np.asarray(1 / (1 - self.p), dtype=x.dtype)
        return x * self.mask

    def backward(self, grad_out: NDArray[Any]) -> NDArray[Any]:
        if self.mask is None:
            return grad_out
        return grad_out * self.mask

    def __repr__(self) -> str:
        return f"Dropout(p={self.p:g})"
