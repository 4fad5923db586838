"""Layers: ``Linear`` and the activations (chapters 1, 4 and 5).

Row convention: a batch ``X`` has shape ``(batch, in_features)`` and a dense layer computes
:math:`Z = XW + b` with ``W.shape == (in_features, out_features)``. Each class caches in
``forward`` exactly what its ``backward`` needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
from numpy.typing import DTypeLike, NDArray

from . import init as _init
from ._checks import (
    as_float_dtype,
    describe,
    flatten_input,
    floating_layer_input,
    is_floating,
    linear_input,
    positive_int,
    real,
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

    An input with leading dimensions, ``(..., in_features)`` such as ``(batch, time,
    in_features)``, is taken as PyTorch's ``nn.Linear`` takes it: each position is one row
    of :math:`X`, so the output is ``(..., out_features)`` and the weight and bias
    gradients sum over every leading axis (the boundary passes the rows, see
    :class:`~bplib.Module`). A 1-D input is refused (PyTorch takes it as one row).

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
    dtype : float64 (default), float32, or float16 (low precision: :mod:`bplib.amp`)

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
        if not isinstance(bias, bool | np.bool_):  # bias="False" is a true string
            raise TypeError(f"Linear: bias must be True or False, got {describe(bias)}")
        w = _init.get(init)(
            self.in_features, self.out_features, rng=_init.as_rng(rng), dtype=self.dtype
        )
        if not isinstance(w, np.ndarray) or not (w.dtype.kind in "biu" or is_floating(w.dtype)):
            raise TypeError(
                f"Linear: init must return a numpy array of shape ({self.in_features}, "
                f"{self.out_features}), got {describe(w)}"
            )
        if w.shape != (self.in_features, self.out_features):
            raise ValueError(
                f"init returned shape {w.shape}, expected ({self.in_features}, {self.out_features})"
            )
        self.weight = Parameter(np.ascontiguousarray(w, dtype=self.dtype), "weight")
        self.bias = Parameter(np.zeros(self.out_features, self.dtype), "bias") if bias else None

    check_input = linear_input  # the boundary (see Module): shape, dtype, a private copy
    leading_dims = True  # (..., in_features) runs as rows, as torch's (see Module)
    x: NDArray[Any]  # the last input, cached by forward for backward

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        self.x = x  # cached for backward
        z = x @ self.weight.data
        if self.bias is not None:
            z += self.bias.data
        return z

    def backward(self, grad_out: NDArray[Any]) -> NDArray[Any]:
        self.backward_to_parameters(grad_out)
        return grad_out @ self.weight.data.T

    def backward_to_parameters(self, grad_out: NDArray[Any]) -> None:
        r""":math:`\partial L/\partial W` and :math:`\partial L/\partial b` only (see ``Module.backward_to_parameters``)."""
        self.weight.grad += self.x.T @ grad_out
        if self.bias is not None:
            self.bias.grad += grad_out.sum(axis=0)

    def __repr__(self) -> str:
        return (
            f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None})"
        )


#: The activations by the names the book uses (chapters 8 and 9 and :mod:`bplib.symbolic`
#: pick them by name): the one registry, filled by the classes themselves (each ``Activation``
#: subclass that sets ``name``), in the order they are defined.
ACTIVATIONS: dict[str, type[Activation]] = {}


def _sympy() -> Any:
    """SymPy, imported on first use: ``import bplib`` stays numpy-only."""
    from ._optional import require

    return require("sympy", "an activation's SymPy form")


class Activation(Module):
    r"""An elementwise function :math:`a = f(z)` and its derivative :math:`f'(z)`: the base
    class of :class:`Sigmoid`, :class:`Tanh`, :class:`ReLU`, :class:`LeakyReLU`,
    :class:`Identity` and :class:`GELU`.

    A subclass gives the two formulas and nothing else: :meth:`function`, :math:`f(z)`, and
    :meth:`derivative`, :math:`f'(z)` (from :math:`z` or from :math:`a = f(z)`, whichever is
    cheaper), as Nielsen's ``sigmoid``/``sigmoid_prime``. This base class caches :math:`z`
    and :math:`a` in ``forward`` and applies the chain rule in ``backward``:

    .. math:: \frac{\partial L}{\partial z} = \frac{\partial L}{\partial a} \odot f'(z).

    **The card.** Everything else the book knows about an activation sits on its class, and
    the rest of bplib reads it from there:

    - ``name``: its name in :data:`ACTIVATIONS`. A subclass that sets ``name`` in its own
      body is registered under it when the class is created (a subclass that inherits the
      name is not);
    - :meth:`sympy`: the same :math:`f` as a SymPy expression (:mod:`bplib.symbolic`);
    - ``derivative_mean_square``: :math:`\mathbb E[f'(z)^2]` for small :math:`z`
      symmetric about 0 (:func:`bplib.experiments.derivative_mean_square`);
    - ``sign_gated``: whether :math:`f'(z)` is set by the sign of :math:`z` alone, as for
      ReLU, so that the fraction of units passing a gradient is random
      (:func:`bplib.experiments.ratio_tolerance`);
    - ``torch_name``: the ``torch.nn`` class computing the same :math:`f` (the tests check
      the two agree), and ``torch_kwargs``, the arguments it needs to compute it (GELU's
      ``{"approximate": "tanh"}``; empty by default).

    A constant in :meth:`function` or :meth:`derivative` must keep the input's dtype
    (``z.dtype.type(0.5)``, not ``np.sqrt(2 / np.pi)``, which is a float64 scalar and turns a
    float32 batch into float64).
    """

    check_input = floating_layer_input  # the boundary (see Module): a floating array
    z: NDArray[Any]  # the last input and output, cached by forward for backward
    a: NDArray[Any]

    # the card (see above); None where the class does not say
    name: ClassVar[str | None] = None
    derivative_mean_square: ClassVar[float | None] = None
    sign_gated: ClassVar[bool] = False
    torch_name: ClassVar[str | None] = None
    torch_kwargs: ClassVar[Mapping[str, Any]] = MappingProxyType({})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name")
        if name is None:
            return
        if not isinstance(name, str) or not name.isidentifier():
            raise TypeError(f"{cls.__name__}.name must be an identifier string, got {name!r}")
        if name in ACTIVATIONS:
            raise ValueError(
                f"activation name {name!r} of {cls.__qualname__} is already registered, by "
                f"{ACTIVATIONS[name].__qualname__}"
            )
        ACTIVATIONS[name] = cls

    @staticmethod
    def sympy(z: Any) -> Any:
        """:math:`f(z)` for the SymPy expression ``z`` (SymPy is imported on first use)."""
        raise NotImplementedError

    def function(self, z: NDArray[Any]) -> NDArray[Any]:
        """:math:`f(z)`, elementwise."""
        raise NotImplementedError

    def derivative(self, z: NDArray[Any], a: NDArray[Any]) -> NDArray[Any]:
        """:math:`f'(z)`, elementwise, given :math:`z` and :math:`a = f(z)`."""
        raise NotImplementedError

    def forward(self, z: NDArray[Any]) -> NDArray[Any]:
        self.z, self.a = z, self.function(z)  # cached for backward
        return self.a

    def backward(self, grad_out: NDArray[Any]) -> NDArray[Any]:
        return grad_out * self.derivative(self.z, self.a)


class Sigmoid(Activation):
    r""":math:`\sigma(z) = 1/(1+e^{-z})`, :math:`\sigma'(z) = \sigma(z)(1-\sigma(z)) \le 1/4`."""

    def function(self, z: NDArray[Any]) -> NDArray[Any]:
        return sigmoid(z)

    def derivative(self, z: NDArray[Any], a: NDArray[Any]) -> NDArray[Any]:
        return a * (1 - a)

    # the card (see Activation)
    name = "sigmoid"
    derivative_mean_square = 1.0 / 16.0  # sigma'(0)^2 = (1/4)^2
    torch_name = "Sigmoid"

    @staticmethod
    def sympy(z: Any) -> Any:
        return 1 / (1 + _sympy().exp(-z))


class Tanh(Activation):
    r""":math:`\tanh(z)`, with :math:`\tanh'(z) = 1 - \tanh^2(z) \le 1`."""

    def function(self, z: NDArray[Any]) -> NDArray[Any]:
        return np.tanh(z)

    def derivative(self, z: NDArray[Any], a: NDArray[Any]) -> NDArray[Any]:
        return 1 - a * a

    # the card (see Activation)
    name = "tanh"
    derivative_mean_square = 1.0  # tanh'(0)^2
    torch_name = "Tanh"

    @staticmethod
    def sympy(z: Any) -> Any:
        return _sympy().tanh(z)


class ReLU(Activation):
    r""":math:`\max(z, 0)`, with derivative 1 for :math:`z > 0` and 0 otherwise (0 at 0, as PyTorch)."""

    def function(self, z: NDArray[Any]) -> NDArray[Any]:
        return np.maximum(z, 0)

    def derivative(self, z: NDArray[Any], a: NDArray[Any]) -> NDArray[Any]:
        return (z > 0).astype(z.dtype)

    # the card (see Activation)
    name = "relu"
    derivative_mean_square = 0.5  # the fraction of units with z > 0
    sign_gated = True
    torch_name = "ReLU"

    @staticmethod
    def sympy(z: Any) -> Any:
        return _sympy().Max(z, 0)


class LeakyReLU(Activation):
    r""":math:`z` for :math:`z > 0`, :math:`\alpha z` otherwise; derivative 1 or :math:`\alpha`.

    :math:`\alpha` is ``negative_slope``, by default ``default_negative_slope`` (0.01, as
    PyTorch's).
    """

    default_negative_slope: ClassVar[float] = 0.01

    def __init__(self, negative_slope: float = default_negative_slope) -> None:
        self.negative_slope = real(negative_slope, "negative_slope", "LeakyReLU", low=0.0)

    def function(self, z: NDArray[Any]) -> NDArray[Any]:
        return np.where(z > 0, z, self.negative_slope * z)

    def derivative(self, z: NDArray[Any], a: NDArray[Any]) -> NDArray[Any]:
        one, alpha = z.dtype.type(1), z.dtype.type(self.negative_slope)
        return np.where(z > 0, one, alpha)

    # the card (see Activation)
    name = "leaky_relu"
    derivative_mean_square = (1.0 + default_negative_slope**2) / 2.0  # half 1, half alpha^2
    sign_gated = True
    torch_name = "LeakyReLU"

    @staticmethod
    def sympy(z: Any, negative_slope: float = default_negative_slope) -> Any:
        r""":math:`\alpha z + (1-\alpha)\max(z, 0)`, with :math:`\alpha` = ``negative_slope``."""
        alpha = _sympy().Float(negative_slope)
        return alpha * z + (1 - alpha) * _sympy().Max(z, 0)

    def __repr__(self) -> str:
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class Identity(Activation):
    """:math:`f(z) = z`, derivative 1: the output layer of a regression network."""

    def function(self, z: NDArray[Any]) -> NDArray[Any]:
        return z

    def derivative(self, z: NDArray[Any], a: NDArray[Any]) -> NDArray[Any]:
        return np.ones_like(z)

    # the card (see Activation)
    name = "identity"
    derivative_mean_square = 1.0
    torch_name = "Identity"

    @staticmethod
    def sympy(z: Any) -> Any:
        return z


class GELU(Activation):
    r"""The Gaussian error linear unit in its tanh form (Hendrycks and Gimpel 2016), the one
    GPT-2 used and PyTorch's ``nn.GELU(approximate="tanh")`` computes (nanoGPT's
    ``nn.GELU()`` is the exact form):

    .. math::

        f(z) = \tfrac12 z\,(1 + \tanh u), \quad u = c\,(z + k z^3), \quad
        c = \sqrt{2/\pi},\ k = 0.044715,

        f'(z) = \tfrac12 (1 + \tanh u) + \tfrac12 z\,(1 - \tanh^2 u)\, c\,(1 + 3 k z^2).

    It stands for the exact :math:`z\,\Phi(z)` (:math:`\Phi` the standard normal
    distribution function), which needs the error function, which numpy lacks; the two
    differ by less than :math:`5\times10^{-4}` for every :math:`z`.
    """

    def function(self, z: NDArray[Any]) -> NDArray[Any]:
        half, c, k = z.dtype.type(0.5), z.dtype.type(np.sqrt(2 / np.pi)), z.dtype.type(0.044715)
        return half * z * (1 + np.tanh(c * (z + k * z**3)))

    def derivative(self, z: NDArray[Any], a: NDArray[Any]) -> NDArray[Any]:
        half, c, k = z.dtype.type(0.5), z.dtype.type(np.sqrt(2 / np.pi)), z.dtype.type(0.044715)
        t = np.tanh(c * (z + k * z**3))
        return half * (1 + t) + half * z * (1 - t * t) * c * (1 + 3 * k * z * z)

    # the card (see Activation)
    name = "gelu"
    derivative_mean_square = 0.25  # f'(0)^2 = (1/2)^2
    torch_name = "GELU"
    torch_kwargs = MappingProxyType({"approximate": "tanh"})

    @staticmethod
    def sympy(z: Any) -> Any:
        sp = _sympy()
        u = sp.sqrt(2 / sp.pi) * (z + sp.Rational(44715, 1000000) * z**3)
        return z / 2 * (1 + sp.tanh(u))


class Flatten(Module):
    """Reshape ``(batch, d1, d2, ...)`` to ``(batch, d1 * d2 * ...)``, as ``torch.nn.Flatten``.

    :class:`Linear` acts on the last axis only; put ``Flatten()`` in front of it to feed
    it images, e.g. the digits as ``(batch, 8, 8)``. Backward reshapes the gradient back to
    the input's shape: flattening moves no number, so its Jacobian is a permutation of the
    identity (and, as everywhere in backpropagation, each gradient has the shape of what it
    differentiates).
    """

    check_input = flatten_input  # the boundary (see Module): at least 2-D
    shape: tuple[int, ...]  # the last input's shape, cached by forward for backward

    def forward(self, x: NDArray[Any]) -> NDArray[Any]:
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out: NDArray[Any]) -> NDArray[Any]:
        return grad_out.reshape(self.shape)

    def __repr__(self) -> str:
        return "Flatten()"
