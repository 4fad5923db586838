"""Layers: ``Linear`` and the activations (chapters 1, 4 and 5).

Row convention: a batch ``X`` has shape ``(batch, in_features)`` and a dense layer computes
:math:`Z = XW + b` with ``W.shape == (in_features, out_features)``. Each class caches in
``forward`` exactly what its ``backward`` needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from numpy.typing import DTypeLike, NDArray

from . import init as _init
from ._checks import (
    as_batch,
    as_float_dtype,
    describe,
    floating_input,
    positive_int,
    real,
    same_shape,
)
from .functional import sigmoid
from .init import RngLike
from .module import Module, Parameter


class Linear(Module):
    r"""A dense layer, :math:`Z = XW + b` (chapter 4 derives it, chapter 5 builds it).

    Backward, given :math:`\delta = \partial L/\partial Z` of shape (batch, out):

    .. math::

        \frac{\partial L}{\partial W} = X^\top \delta, \qquad
        \frac{\partial L}{\partial b} = \textstyle\sum_{\text{batch}} \delta, \qquad
        \frac{\partial L}{\partial X} = \delta W^\top .

    The weight and bias gradients are *added* to ``weight.grad`` and ``bias.grad``.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of the input and output rows, both >= 1.
    bias : bool
        Whether to add the bias :math:`b` (initialised to zero).
    init : str or callable
        A name from :mod:`bplib.init` (default ``"uniform"``: :math:`U(\pm 1/\sqrt{n_\text{in}})`,
        as PyTorch's ``nn.Linear``) or a function ``f(fan_in, fan_out, *, rng, dtype)``.
    rng : int, numpy.random.Generator or None
        Seed or generator for the initial weights.
    dtype : float64 (default) or float32

    Examples
    --------
    >>> import numpy as np, bplib
    >>> layer = bplib.Linear(3, 2, rng=0)
    >>> layer(np.ones((4, 3))).shape
    (4, 2)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        init: str | Callable[..., NDArray[Any]] = "uniform",
        rng: RngLike = None,
        dtype: DTypeLike = np.float64,
    ) -> None:
        self.in_features = positive_int(in_features, "in_features")
        self.out_features = positive_int(out_features, "out_features")
        self.dtype = as_float_dtype(dtype)
        w = _init.get(init)(
            self.in_features, self.out_features, rng=_init.as_rng(rng), dtype=self.dtype
        )
        if w.shape != (self.in_features, self.out_features):
            raise ValueError(
                f"init returned shape {w.shape}, expected ({self.in_features}, {self.out_features})"
            )
        self.weight = Parameter(np.ascontiguousarray(w, dtype=self.dtype), "weight")
        self.bias = Parameter(np.zeros(self.out_features, self.dtype), "bias") if bias else None
        self._x: NDArray[Any] | None = None

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        self._x = x = self._checked_input(x)  # cached for backward
        z = x @ self.weight.data
        if self.bias is not None:
            z += self.bias.data
        return z

    def backward(self, grad_out: NDArray[Any]) -> NDArray[Any]:
        self.backward_to_parameters(grad_out)
        if grad_out.dtype != self.dtype:  # an integer gradient, accepted above
            grad_out = grad_out.astype(self.dtype)
        return grad_out @ self.weight.data.T

    def backward_to_parameters(self, grad_out: NDArray[Any]) -> None:
        r""":math:`\partial L/\partial W` and :math:`\partial L/\partial b` only (see ``Module.backward_to_parameters``)."""
        self._require_forward(self._x)
        x = self._x
        assert x is not None
        delta = same_shape(grad_out, (x.shape[0], self.out_features), self, self.dtype)
        self.weight.accumulate_matmul(x.T, delta)  # weight.grad += x.T @ delta
        if self.bias is not None:
            self.bias.accumulate_sum(delta)  # bias.grad += delta.sum(axis=0)

    def _checked_input(self, x: object) -> NDArray[Any]:
        """``x`` as a (batch, in_features) array of the layer's dtype that the caller cannot
        change before ``backward`` (a private copy); the last input is forgotten first, so
        ``backward`` after a refused call is an error, not the previous call's gradient."""
        self._x = None
        checked = as_batch(x, self.dtype, self)
        if checked.shape[1] != self.in_features:
            raise ValueError(
                f"{self!r} expected input of shape (batch, {self.in_features}), got {checked.shape}"
            )
        if self.weight.data.shape != (self.in_features, self.out_features):
            self._wrong_weight(self.weight.data)
        return checked.copy() if checked is x else checked

    def _wrong_weight(self, w: NDArray[Any]) -> None:
        hint = ""
        if w.shape == (self.out_features, self.in_features):
            hint = (
                "; that is PyTorch's (out_features, in_features) layout: bplib computes "
                "Z = X W and stores W as (in_features, out_features), so assign its transpose"
            )
        raise ValueError(
            f"{self!r}: weight must have shape ({self.in_features}, {self.out_features}), got "
            f"{describe(w)}{hint}"
        )

    def __repr__(self) -> str:
        return (
            f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None})"
        )


class _Activation(Module):
    r"""An elementwise function :math:`a = f(z)` and its derivative :math:`f'(z)` (chapter 1).

    A subclass gives the two formulas and nothing else: :meth:`function`, :math:`f(z)`, and
    :meth:`derivative`, :math:`f'(z)` (from :math:`z` or from :math:`a = f(z)`, whichever is
    cheaper), as Nielsen's ``sigmoid``/``sigmoid_prime``. This base class checks the input,
    caches :math:`z` and :math:`a` in ``forward``, and applies the chain rule in ``backward``:

    .. math:: \frac{\partial L}{\partial z} = \frac{\partial L}{\partial a} \odot f'(z).
    """

    def __init__(self) -> None:
        self._cache: tuple[NDArray[Any], NDArray[Any]] | None = None

    def function(self, z: NDArray[Any]) -> NDArray[Any]:
        """:math:`f(z)`, elementwise."""
        raise NotImplementedError

    def derivative(self, z: NDArray[Any], a: NDArray[Any]) -> NDArray[Any]:
        """:math:`f'(z)`, elementwise, given :math:`z` and :math:`a = f(z)`."""
        raise NotImplementedError

    def forward(self, z: NDArray[Any]) -> NDArray[Any]:
        self._cache = None  # a refused call must not leave the last call's cache for backward
        floating_input(z, self)
        a = self.function(z)
        self._cache = (z, a)
        return a

    def backward(self, grad_out: NDArray[Any]) -> NDArray[Any]:
        self._require_forward(self._cache)
        assert self._cache is not None
        z, a = self._cache
        return same_shape(grad_out, z.shape, self, z.dtype) * self.derivative(z, a)


class Sigmoid(_Activation):
    r""":math:`\sigma(z) = 1/(1+e^{-z})`, :math:`\sigma'(z) = \sigma(z)(1-\sigma(z)) \le 1/4`."""

    def function(self, z: NDArray[Any]) -> NDArray[Any]:
        return sigmoid(z)

    def derivative(self, z: NDArray[Any], a: NDArray[Any]) -> NDArray[Any]:
        return a * (1 - a)


class Tanh(_Activation):
    r""":math:`\tanh(z)`, with :math:`\tanh'(z) = 1 - \tanh^2(z) \le 1`."""

    def function(self, z: NDArray[Any]) -> NDArray[Any]:
        return np.tanh(z)

    def derivative(self, z: NDArray[Any], a: NDArray[Any]) -> NDArray[Any]:
        return 1 - a * a


class ReLU(_Activation):
    r""":math:`\max(z, 0)`, with derivative 1 for :math:`z > 0` and 0 otherwise (0 at 0, as PyTorch)."""

    def function(self, z: NDArray[Any]) -> NDArray[Any]:
        return np.maximum(z, 0)

    def derivative(self, z: NDArray[Any], a: NDArray[Any]) -> NDArray[Any]:
        return (z > 0).astype(z.dtype)


class LeakyReLU(_Activation):
    r""":math:`z` for :math:`z > 0`, :math:`\alpha z` otherwise; derivative 1 or :math:`\alpha`.

    :math:`\alpha` is ``negative_slope``, by default ``default_negative_slope`` (0.01, as
    PyTorch's).
    """

    default_negative_slope: ClassVar[float] = 0.01

    def __init__(self, negative_slope: float = default_negative_slope) -> None:
        super().__init__()
        self.negative_slope = real(negative_slope, "negative_slope", "LeakyReLU", low=0.0)

    def function(self, z: NDArray[Any]) -> NDArray[Any]:
        return np.where(z > 0, z, self.negative_slope * z)

    def derivative(self, z: NDArray[Any], a: NDArray[Any]) -> NDArray[Any]:
        one, alpha = z.dtype.type(1), z.dtype.type(self.negative_slope)
        return np.where(z > 0, one, alpha)

    def __repr__(self) -> str:
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class Identity(_Activation):
    """:math:`f(z) = z`, derivative 1: the output layer of a regression network."""

    def function(self, z: NDArray[Any]) -> NDArray[Any]:
        return z

    def derivative(self, z: NDArray[Any], a: NDArray[Any]) -> NDArray[Any]:
        return np.ones_like(z)


#: The activations by the names the book uses (chapters 8 and 9 and :mod:`bplib.symbolic`
#: pick them by name): the one registry.
ACTIVATIONS: dict[str, type[_Activation]] = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "identity": Identity,
}


class Flatten(Module):
    """Reshape ``(batch, d1, d2, ...)`` to ``(batch, d1 * d2 * ...)``, as ``torch.nn.Flatten``.

    :class:`Linear` takes 2-D batches only; put ``Flatten()`` in front of it to feed it
    images, e.g. the digits as ``(batch, 8, 8)``. Backward reshapes the gradient back to
    the input's shape: flattening moves no number, so its Jacobian is a permutation of the
    identity (and, as everywhere in backpropagation, each gradient has the shape of what it
    differentiates).
    """

    def __init__(self) -> None:
        self._shape: tuple[int, ...] | None = None

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        if not isinstance(x, np.ndarray) or x.ndim < 2:
            raise ValueError(f"Flatten expected an array of shape (batch, ...), got {describe(x)}")
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out: NDArray[Any]) -> NDArray[Any]:
        self._require_forward(self._shape)
        assert self._shape is not None
        flat = (self._shape[0], int(np.prod(self._shape[1:])))
        return same_shape(grad_out, flat, self).reshape(self._shape)

    def __repr__(self) -> str:
        return "Flatten()"
