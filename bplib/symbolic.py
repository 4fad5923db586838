r"""The SymPy side of the book: symbolic networks, their exact gradients, and checks of
``bplib``'s backward pass against them (chapters 3 and 4; chapter 5 uses :func:`check_model`).

A small dense network is written out as one SymPy expression in the book's notation
(row convention, as in :class:`bplib.Linear`):

.. math::

    z^{(l)}_k = \sum_j a^{(l-1)}_j\, w^{(l)}_{jk} + b^{(l)}_k, \qquad
    a^{(l)}_k = f^{(l)}\big(z^{(l)}_k\big), \qquad a^{(0)} = x,

with symbols named ``w^{(l)}_{jk}``, ``b^{(l)}_{k}``, ``x_{j}`` and ``y_{k}`` (indices
from 1, as on paper). SymPy differentiates the loss of **one example** with respect to
every weight and bias; the derivatives are compiled once with :func:`sympy.lambdify` and
evaluated on a whole batch at once, then combined over the batch exactly as the matching
``bplib`` loss combines its examples (see :class:`SymbolicMLP`).

``import bplib`` does not import this module (nor SymPy): use ``from bplib import
symbolic``. SymPy is imported when this module is.

Examples
--------
>>> import numpy as np, bplib
>>> from bplib import symbolic
>>> model = bplib.Sequential(bplib.Linear(2, 3, rng=0), bplib.Tanh(), bplib.Linear(3, 2, rng=1))
>>> X, y = np.random.default_rng(2).normal(size=(4, 2)), np.array([0, 1, 1, 0])
>>> symbolic.check_model(model, X, y, bplib.CrossEntropyLoss()) < 1e-12
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import layers as _layers
from ._checks import class_labels, describe, instance, plain_array, positive_int, real, real_matrix
from ._optional import require
from .gradcheck import relative_error
from .layers import LeakyReLU, Linear
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss
from .module import Module, Sequential

sympy = require("sympy", "bplib.symbolic")

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "LayerJacobians",
    "SymbolicMLP",
    "activation",
    "check_model",
    "compare_model",
    "layer_jacobians",
    "relu_convention",
]

#: The activation names :class:`SymbolicMLP` understands, in the book's order: those of
#: the registry ``bplib.layers.ACTIVATIONS`` (a live view: a newly registered activation is
#: in it). Each class's :meth:`~bplib.layers.Activation.sympy` gives its SymPy form.
ACTIVATIONS = _layers.ACTIVATIONS.keys()

#: Leaky ReLU's slope unless one is given: bplib's default.
_SLOPE = LeakyReLU.default_negative_slope

#: Loss name -> how per-example losses are combined over a batch ("mean" or "sum").
LOSSES = {
    "mse": "mean",
    "sse": "sum",
    "half_sse": "sum",
    "cross_entropy": "mean",
    "bce_with_logits": "mean",
}


def _card(name: object) -> type[_layers.Activation]:
    """The class registered under ``name``, if it has a SymPy form."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")
    card = _layers.ACTIVATIONS[name]
    if card.sympy is _layers.Activation.sympy:
        raise ValueError(
            f"activation {name!r} has no SymPy form: its class {card.__qualname__} does not "
            "define sympy(z)"
        )
    return card


def activation(name: str, z: Any, negative_slope: float = _SLOPE) -> Any:
    r"""The activation ``name`` applied to the SymPy expression ``z``.

    ``sigmoid`` is :math:`1/(1+e^{-z})`, ``tanh`` is :math:`\tanh z`, ``relu`` is
    :math:`\max(z, 0)`, ``leaky_relu`` is :math:`\alpha z + (1-\alpha)\max(z, 0)` (which is
    :math:`z` for :math:`z > 0` and :math:`\alpha z` otherwise) and ``identity`` is
    :math:`z`. Every derivative is SymPy's own: nothing here tells SymPy what a derivative
    is. SymPy differentiates :math:`\max(z, 0)` into the step function
    :math:`H(z)`, whose value at exactly :math:`z = 0` is a convention;
    :func:`relu_convention` sets it to 0, as bplib and PyTorch do.

    Each form is the ``sympy`` of the activation's class (its card, see
    :class:`bplib.layers.Activation`); ``negative_slope`` goes to leaky ReLU's.
    """
    card = _card(name)
    real(negative_slope, "negative_slope", "symbolic.activation", low=0.0)
    if issubclass(card, LeakyReLU):
        return card.sympy(z, negative_slope)
    return card.sympy(z)


def relu_convention(expr: Any) -> Any:
    r"""``expr`` with every step function :math:`H(u)` given the value 0 at :math:`u = 0`.

    SymPy's :math:`\frac{d}{dz}\max(z, 0) = H(z)` leaves :math:`H(0) = 1/2`; bplib and
    PyTorch use 0, so a ReLU unit whose input is exactly 0 passes no gradient back.
    """
    return sympy.sympify(expr).replace(sympy.Heaviside, lambda u, *_: sympy.Heaviside(u, 0))


def _symbol_matrix(rows: int, cols: int, name: Callable[[int, int], str]) -> Any:
    return sympy.Matrix(rows, cols, lambda j, k: sympy.Symbol(name(j + 1, k + 1), real=True))


def _layer_symbols(layer: int, n_in: int, n_out: int, has_bias: bool) -> tuple[Any, Any]:
    """:math:`W^{(l)}` (symbols ``w^{(l)}_{jk}``) and :math:`b^{(l)}` (``b^{(l)}_{k}``, or zeros)."""
    sup = f"^{{({layer})}}"
    sep = "," if max(n_in, n_out) > 9 else ""  # w_{1,12}, not the ambiguous w_{112}
    W = _symbol_matrix(n_in, n_out, lambda j, k: f"w{sup}_{{{j}{sep}{k}}}")
    if not has_bias:
        return W, sympy.zeros(1, n_out)
    return W, _symbol_matrix(1, n_out, lambda _, k: f"b{sup}_{{{k}}}")


def _apply(name: str, z: Any, negative_slope: float) -> Any:
    """The activation ``name`` applied to every entry of the matrix ``z``."""
    return z.applyfunc(lambda e: activation(name, e, negative_slope))


class SymbolicMLP:
    r"""A dense network written out symbolically, its loss, and the loss's exact gradient.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first: ``[2, 3, 2]`` is 2 inputs, 3 hidden units, 2 outputs.
    activations : str or sequence of str
        One name from :data:`ACTIVATIONS` per layer (``len(sizes) - 1`` names), or a single
        name for every hidden layer. With a single name the output layer uses
        ``output_activation``, which defaults to that same name (so ``"sigmoid"`` is the
        all-sigmoid network of chapter 3).
    loss : str
        The loss of **one example** with output :math:`a` (length :math:`K`) and target
        :math:`y`:

        * ``"mse"``: :math:`\frac1K\sum_k (a_k-y_k)^2`; batches are averaged, so this is
          ``bplib.MSELoss(reduction="mean")``.
        * ``"sse"``: :math:`\sum_k (a_k-y_k)^2`; batches are summed:
          ``bplib.MSELoss(reduction="sum")``.
        * ``"half_sse"``: :math:`E = \frac12\sum_k (a_k-y_k)^2`, the classic worked
          example's error; batches are summed (the total error over the patterns).
        * ``"cross_entropy"``: :math:`-\sum_k y_k \log \operatorname{softmax}(a)_k` with
          :math:`y` one-hot (the symbols ``y_{k}`` stand for the one-hot entries; numeric
          targets are integer labels); batches are averaged: ``bplib.CrossEntropyLoss()``.
          The network's output :math:`a` are the logits, so the output activation is
          usually ``"identity"``.
        * ``"bce_with_logits"``: :math:`\frac1K\sum_k [\log(1+e^{a_k}) - y_k a_k]`;
          batches are averaged: ``bplib.BCEWithLogitsLoss()``.
    output_activation : str, optional
        The output layer's activation when ``activations`` is a single name.
    negative_slope : float or sequence of float
        The slope :math:`\alpha` of ``leaky_relu`` (default 0.01, as ``bplib.LeakyReLU``),
        one value for every layer or one per layer.
    bias : bool or sequence of bool
        Whether each layer has a bias (default: all do). A layer without one has
        ``biases[l]`` equal to a zero matrix and no bias derivatives.

    Attributes
    ----------
    inputs : sympy.Matrix
        The row :math:`x` of one example, shape (1, sizes[0]).
    targets : sympy.Matrix
        The row :math:`y`, shape (1, sizes[-1]).
    weights, biases : list of sympy.Matrix
        :math:`W^{(l)}` of shape (in, out) and :math:`b^{(l)}` of shape (1, out).
    preactivations, activations : list of sympy.Matrix
        :math:`z^{(l)}` and :math:`a^{(l)}` of every layer, as expressions of the symbols.
    output : sympy.Matrix
        :math:`a^{(L)}`, the network's output row.
    loss : sympy.Expr
        The loss of one example.
    names : list of str
        The parameters' names as in ``model.named_parameters()`` of the matching
        ``Sequential`` (``"0.weight"``, ``"0.bias"``, ``"2.weight"``, ...).

    Examples
    --------
    >>> from bplib.symbolic import SymbolicMLP
    >>> net = SymbolicMLP([2, 2, 2], "sigmoid", loss="half_sse")
    >>> net.weights[0]
    Matrix([
    [w^{(1)}_{11}, w^{(1)}_{12}],
    [w^{(1)}_{21}, w^{(1)}_{22}]])
    >>> len(net.gradient())
    12
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activations: str | Sequence[str],
        loss: str = "mse",
        *,
        output_activation: str | None = None,
        negative_slope: float | Sequence[float] = _SLOPE,
        bias: bool | Sequence[bool] = True,
    ) -> None:
        self.sizes = self._check_sizes(sizes)
        n_layers = len(self.sizes) - 1
        self.activation_names = self._check_activations(activations, output_activation, n_layers)
        self.negative_slopes = self._per_layer(negative_slope, n_layers, "negative_slope", float)
        for s in self.negative_slopes:
            if not np.isfinite(s) or s < 0:
                raise ValueError(f"negative_slope must be finite and >= 0, got {s!r}")
        self.has_bias = self._per_layer(bias, n_layers, "bias", bool)
        if not isinstance(loss, str) or loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)}")
        if loss == "cross_entropy" and self.sizes[-1] < 2:
            raise ValueError(
                f"loss 'cross_entropy' needs at least 2 outputs (classes), got {self.sizes[-1]}"
            )
        self.loss_name = loss
        self.reduction = LOSSES[loss]
        # Default names: a Sequential of Linear, activation, Linear, activation, ...
        self.names = [
            f"{2 * layer}.{kind}"
            for layer in range(n_layers)
            for kind in ("weight", "bias")
            if kind == "weight" or self.has_bias[layer]
        ]
        self._build()
        self._gradient: dict[Any, Any] | None = None
        self._compiled: Callable[..., Any] | None = None
        self._compiled_loss: Callable[..., Any] | None = None

    # ------------------------------------------------------------------ construction
    @staticmethod
    def _check_sizes(sizes: Sequence[int]) -> list[int]:
        if isinstance(sizes, str | bytes) or not isinstance(sizes, Sequence) or len(sizes) < 2:
            raise ValueError(
                f"sizes must be a sequence of at least two layer widths, e.g. [2, 3, 2]; "
                f"got {sizes!r}"
            )
        return [positive_int(s, f"every layer width (sizes={list(sizes)!r})") for s in sizes]

    @staticmethod
    def _check_activations(
        activations: str | Sequence[str], output_activation: str | None, n_layers: int
    ) -> list[str]:
        if isinstance(activations, str):
            out = activations if output_activation is None else output_activation
            names = [activations] * (n_layers - 1) + [out]
        else:
            if output_activation is not None:
                raise ValueError(
                    "output_activation is only used with a single activation name; "
                    "with a list, give the output layer's activation as its last entry"
                )
            what = "an activation name or a list of names (one per layer)"
            instance(activations, Sequence, "activations", "SymbolicMLP", what)
            names = list(activations)
            if len(names) != n_layers:
                raise ValueError(
                    f"expected {n_layers} activation names (one per layer) for sizes with "
                    f"{n_layers} layers, got {len(names)}: {names!r}"
                )
        for name in names:
            _card(name)  # refuses an unknown name, or one without a SymPy form
        return names

    @staticmethod
    def _per_layer(value: Any, n_layers: int, what: str, kind: type) -> list[Any]:
        def convert(v: Any) -> Any:
            if kind is bool:  # bool("no") is True: only a real bool says yes or no
                if not isinstance(v, bool | np.bool_):
                    raise TypeError(
                        f"SymbolicMLP: {what} must be True or False (or one per layer), "
                        f"got {describe(v)}"
                    )
                return bool(v)
            return real(v, what, "SymbolicMLP", low=0.0)

        if isinstance(value, Sequence) and not isinstance(value, str):
            if len(value) != n_layers:
                raise ValueError(f"expected one {what} per layer ({n_layers}), got {len(value)}")
            return [convert(v) for v in value]
        return [convert(value)] * n_layers

    def _build(self) -> None:
        sizes, n_layers = self.sizes, len(self.sizes) - 1
        self.inputs = _symbol_matrix(1, sizes[0], lambda _, j: f"x_{{{j}}}")
        self.targets = _symbol_matrix(1, sizes[-1], lambda _, k: f"y_{{{k}}}")
        self.weights: list[Any] = []
        self.biases: list[Any] = []
        self.preactivations: list[Any] = []
        self.activations: list[Any] = []
        a = self.inputs
        for layer in range(n_layers):
            W, b = _layer_symbols(layer + 1, sizes[layer], sizes[layer + 1], self.has_bias[layer])
            z = a * W + b
            a = _apply(self.activation_names[layer], z, self.negative_slopes[layer])
            self.weights.append(W)
            self.biases.append(b)
            self.preactivations.append(z)
            self.activations.append(a)
        self.output = a
        self.loss = self._loss_expr(a, self.targets)

    def _loss_expr(self, a: Any, y: Any) -> Any:
        K = a.shape[1]
        if self.loss_name in ("mse", "sse", "half_sse"):
            sse = sum(((a[k] - y[k]) ** 2 for k in range(K)), sympy.Integer(0))
            scale = {"mse": sympy.Rational(1, K), "sse": 1, "half_sse": sympy.Rational(1, 2)}
            return scale[self.loss_name] * sse
        if self.loss_name == "cross_entropy":
            log_norm = sympy.log(sum((sympy.exp(a[k]) for k in range(K)), sympy.Integer(0)))
            return -sum((y[k] * (a[k] - log_norm) for k in range(K)), sympy.Integer(0))
        # bce_with_logits
        total = sum(
            (sympy.log(1 + sympy.exp(a[k])) - y[k] * a[k] for k in range(K)), sympy.Integer(0)
        )
        return sympy.Rational(1, K) * total

    @classmethod
    def from_model(cls, model: Sequential, loss: str | Loss = "mse") -> SymbolicMLP:
        """The :class:`SymbolicMLP` of a ``bplib.Sequential`` of ``Linear`` and activation
        layers (each ``Linear`` followed by at most one activation; none means identity).

        ``loss`` is a name from :data:`LOSSES` or a bplib loss object
        (``MSELoss``, ``CrossEntropyLoss`` or ``BCEWithLogitsLoss``).
        """
        if not isinstance(model, Sequential):
            raise TypeError(f"from_model expects a bplib.Sequential, got {type(model).__name__}")
        linear_at, sizes, acts, slopes, bias = cls._layout(model)
        net = cls(
            sizes,
            acts,
            _loss_name(loss) if isinstance(loss, Loss) else loss,
            negative_slope=slopes,
            bias=bias,
        )
        net.names = [
            f"{i}.{kind}"
            for i, has_b in zip(linear_at, bias, strict=True)
            for kind in ("weight", "bias")
            if kind == "weight" or has_b
        ]
        return net

    @staticmethod
    def _layout(
        model: Sequential,
    ) -> tuple[list[int], list[int], list[str], list[float], list[bool]]:
        """Indices of the Linear layers, widths, activations, slopes and bias flags."""
        linear_at: list[int] = []
        sizes: list[int] = []
        acts: list[str] = []
        slopes: list[float] = []
        bias: list[bool] = []
        for i, m in enumerate(model):
            if isinstance(m, Linear):
                if sizes and m.in_features != sizes[-1]:
                    raise ValueError(
                        f"layer {i} {m!r} expects {m.in_features} inputs but the previous "
                        f"Linear gives {sizes[-1]}"
                    )
                if not sizes:
                    sizes.append(m.in_features)
                sizes.append(m.out_features)
                linear_at.append(i)
                acts.append("identity")
                slopes.append(_SLOPE)
                bias.append(m.bias is not None)
            elif isinstance(m, tuple(_layers.ACTIVATIONS.values())):
                if not linear_at:
                    raise ValueError(f"layer {i} {m!r} comes before any Linear layer")
                if acts[-1] != "identity" or i != linear_at[-1] + 1:
                    raise ValueError(
                        f"layer {i} {m!r}: expected at most one activation after each Linear"
                    )
                acts[-1] = next(a for a, t in _layers.ACTIVATIONS.items() if isinstance(m, t))
                if isinstance(m, LeakyReLU):
                    slopes[-1] = m.negative_slope
            else:
                *others, last = ["Linear", *(t.__name__ for t in _layers.ACTIVATIONS.values())]
                raise TypeError(
                    f"layer {i} is {m!r}; SymbolicMLP understands {', '.join(others)} and "
                    f"{last} layers"
                )
        if not linear_at:
            raise ValueError("the model has no Linear layer")
        return linear_at, sizes, acts, slopes, bias

    # ------------------------------------------------------------------ symbols
    @property
    def parameter_symbols(self) -> list[Any]:
        """Every weight and bias symbol, in ``model.parameters()`` order (row-major)."""
        out: list[Any] = []
        for W, b, has_b in zip(self.weights, self.biases, self.has_bias, strict=True):
            out.extend(W)
            if has_b:
                out.extend(b)
        return out

    def gradient(self) -> dict[Any, Any]:
        r"""SymPy's :math:`\partial L/\partial\theta` for every weight and bias symbol
        :math:`\theta`, of the loss of one example (computed once, then cached)."""
        if self._gradient is None:
            self._gradient = {
                p: relu_convention(sympy.diff(self.loss, p)) for p in self.parameter_symbols
            }
        return self._gradient

    def gradient_matrices(self) -> list[tuple[Any, Any | None]]:
        r""":math:`(\partial L/\partial W^{(l)}, \partial L/\partial b^{(l)})` per layer, as
        matrices of the weights' and biases' shapes (``None`` for a layer without bias)."""
        g = self.gradient()
        return [
            (W.applyfunc(lambda s: g[s]), b.applyfunc(lambda s: g[s]) if has_b else None)
            for W, b, has_b in zip(self.weights, self.biases, self.has_bias, strict=True)
        ]

    def __repr__(self) -> str:
        return (
            f"SymbolicMLP(sizes={self.sizes}, activations={self.activation_names}, "
            f"loss={self.loss_name!r})"
        )

    # ------------------------------------------------------------------ numbers
    def _arguments(self) -> list[Any]:
        return [*self.inputs, *self.targets, *self.parameter_symbols]

    def _values(
        self, model: Module, X: NDArray[Any], y: NDArray[Any]
    ) -> tuple[list[Any], int, list[str]]:
        """The numeric arguments of the compiled functions: columns of X and of the
        (one-hot) targets, then every parameter entry; the batch size; the model's names."""
        if isinstance(model, Sequential):
            _, sizes, acts, slopes, bias = self._layout(model)
            mine = (self.sizes, self.activation_names, self.has_bias)
            if (sizes, acts, bias) != mine or any(
                a == "leaky_relu" and s != t
                for a, s, t in zip(acts, slopes, self.negative_slopes, strict=True)
            ):
                raise ValueError(f"the model {model!r} does not match {self!r}")
        named = list(model.named_parameters())
        expected = [
            shape
            for W, has_b in zip(self.weights, self.has_bias, strict=True)
            for shape in ([W.shape, (W.shape[1],)] if has_b else [W.shape])
        ]
        given = [p.data.shape for _, p in named]
        if given != expected:
            raise ValueError(
                f"the model's parameter shapes {given} do not match {self!r}, "
                f"which expects {expected}"
            )
        X, T = self._check_batch(X, y)
        values = [*X.T, *T.T]
        for _, p in named:
            values.extend(np.asarray(p.data, dtype=np.float64).reshape(-1))
        return values, X.shape[0], [name for name, _ in named]

    def _check_batch(self, X: object, y: object) -> tuple[NDArray[Any], NDArray[Any]]:
        n_in, n_out = self.sizes[0], self.sizes[-1]
        X = real_matrix(X, "X", "", n_in)
        y = plain_array(y, "y")
        if self.loss_name == "cross_entropy":
            return X, np.eye(n_out)[class_labels(y, X.shape[0], n_out, self)]
        if y.dtype.kind not in "biuf" or y.shape != (X.shape[0], n_out):
            raise ValueError(
                f"loss {self.loss_name!r} expects real targets of shape "
                f"({X.shape[0]}, {n_out}), got {y.dtype} array of shape {y.shape}"
            )
        return X, y.astype(np.float64)

    def _reduce(self, per_example: Any, n: int) -> NDArray[Any]:
        values = np.broadcast_to(np.asarray(per_example, dtype=np.float64), (n,))
        return values.mean() if self.reduction == "mean" else values.sum()

    def gradient_at(
        self, model: Module, X: NDArray[Any], y: NDArray[Any]
    ) -> dict[str, NDArray[Any]]:
        """SymPy's gradient at the model's current parameters, on the batch ``(X, y)``.

        Each example's gradient comes from the compiled symbolic derivatives; they are
        averaged (or summed, see :data:`LOSSES`) over the batch as the bplib loss does.

        Returns
        -------
        dict
            ``{name: gradient}`` keyed like ``model.named_parameters()``, each array of
            its parameter's shape, float64.
        """
        values, n, names = self._values(model, X, y)
        if self._compiled is None:
            grads = list(self.gradient().values())
            self._compiled = sympy.lambdify(self._arguments(), grads, "numpy", cse=True)
        flat = self._compiled(*values)
        out: dict[str, NDArray[Any]] = {}
        start = 0
        for name, (_, p) in zip(names, model.named_parameters(), strict=True):
            size = p.data.size
            block = [self._reduce(g, n) for g in flat[start : start + size]]
            out[name] = np.array(block, dtype=np.float64).reshape(p.data.shape)
            start += size
        return out

    def loss_at(self, model: Module, X: NDArray[Any], y: NDArray[Any]) -> float:
        """The symbolic loss evaluated on the batch and reduced as in :meth:`gradient_at`."""
        values, n, _ = self._values(model, X, y)
        if self._compiled_loss is None:
            self._compiled_loss = sympy.lambdify(self._arguments(), self.loss, "numpy", cse=True)
        return float(self._reduce(self._compiled_loss(*values), n))


def _loss_name(loss_fn: Loss) -> str:
    if isinstance(loss_fn, MSELoss):
        return "mse" if loss_fn.reduction == "mean" else "sse"
    if isinstance(loss_fn, CrossEntropyLoss):
        return "cross_entropy"
    if isinstance(loss_fn, BCEWithLogitsLoss):
        return "bce_with_logits"
    raise TypeError(
        f"no symbolic form for {loss_fn!r}; expected MSELoss, CrossEntropyLoss or BCEWithLogitsLoss"
    )


def compare_model(
    model: Sequential, X: NDArray[Any], y: NDArray[Any], loss_fn: Loss
) -> dict[str, float]:
    """Relative error (:func:`bplib.gradcheck.relative_error`) between SymPy's gradient
    and the model's backward pass, per parameter, keyed like ``model.named_parameters()``.

    Runs ``zero_grad``, forward, the loss and backward itself; the parameters' ``.grad``
    are left holding the model's gradient for this batch.
    """
    instance(loss_fn, Loss, "loss_fn", "compare_model", "a bplib loss")
    net = SymbolicMLP.from_model(model, loss_fn)
    expected = net.gradient_at(model, X, y)
    model.zero_grad()
    loss_fn(model.forward(X), y)
    model.backward(loss_fn.backward())
    return {name: relative_error(p.grad, expected[name]) for name, p in model.named_parameters()}


def check_model(model: Sequential, X: NDArray[Any], y: NDArray[Any], loss_fn: Loss) -> float:
    """The largest relative disagreement between SymPy's gradients and ``model.backward``.

    Builds the :class:`SymbolicMLP` of ``model`` and ``loss_fn``, differentiates it,
    evaluates it at the model's parameters on ``(X, y)``, runs the model's own forward and
    backward (after ``zero_grad``), and returns the worst relative error over all
    parameters (see :func:`compare_model`). A correct float64 backward gives about 1e-15.
    """
    return max(compare_model(model, X, y, loss_fn).values(), default=0.0)


@dataclass
class LayerJacobians:
    r"""The symbolic pieces of one dense layer :math:`Z = XW + b`, :math:`A = f(Z)`
    (:func:`layer_jacobians`), with every matrix flattened row by row for its Jacobians.

    Attributes
    ----------
    X, W, b, Z, A : sympy.Matrix
        Input (batch, in), weights (in, out), bias (1, out), :math:`Z` and :math:`A`
        (batch, out); the entries of ``A`` are :math:`f` of the entries of ``Z``.
    dZ_dX, dZ_dW, dZ_db, dA_dZ : sympy.Matrix
        Jacobians :math:`\partial\operatorname{vec}Z/\partial\operatorname{vec}X` etc., of
        shape (size of Z, size of X) and so on, where :math:`\operatorname{vec}` reads a
        matrix row by row. ``dA_dZ`` is diagonal: :math:`f` acts elementwise.
    """

    X: Any
    W: Any
    b: Any
    Z: Any
    A: Any
    dZ_dX: Any
    dZ_dW: Any
    dZ_db: Any
    dA_dZ: Any


def _vec(M: Any) -> Any:
    return sympy.Matrix(list(M))  # row by row, as numpy's reshape(-1)


def layer_jacobians(
    n_in: int,
    n_out: int,
    activation_name: str = "identity",
    *,
    batch: int = 1,
    negative_slope: float = _SLOPE,
) -> LayerJacobians:
    r"""Symbolic Jacobians of a dense layer :math:`Z = XW + b` and its activation.

    ``Z`` is built from the symbols of ``X``, ``W`` and ``b`` (``x_{nj}``, ``w_{jk}``,
    ``b_{k}``; with ``batch=1``, ``x_{j}``); ``A`` applies the activation to fresh
    symbols ``z_{nk}`` so that ``dA_dZ`` reads as :math:`\operatorname{diag} f'(z)`.

    Examples
    --------
    >>> from bplib.symbolic import layer_jacobians
    >>> J = layer_jacobians(3, 2)
    >>> J.dZ_dX == J.W.T   # one example: the Jacobian of xW + b with respect to x is W^T
    True
    """
    for value, what in ((n_in, "n_in"), (n_out, "n_out"), (batch, "batch")):
        positive_int(value, what)
    _card(activation_name)  # refuses an unknown name, or one without a SymPy form
    wide = max(n_in, n_out, batch) > 9

    def row(prefix: str, n: int, k: int) -> str:
        return f"{prefix}_{{{k}}}" if batch == 1 else f"{prefix}_{{{n}{',' if wide else ''}{k}}}"

    X = _symbol_matrix(batch, n_in, lambda n, j: row("x", n, j))
    W = _symbol_matrix(n_in, n_out, lambda j, k: f"w_{{{j}{',' if wide else ''}{k}}}")
    b = _symbol_matrix(1, n_out, lambda _, k: f"b_{{{k}}}")
    Z = X * W + sympy.ones(batch, 1) * b
    z = _symbol_matrix(batch, n_out, lambda n, k: row("z", n, k))
    A = _apply(activation_name, z, negative_slope)
    dA_dZ = _vec(A).jacobian(_vec(z)).applyfunc(relu_convention)
    return LayerJacobians(
        X=X,
        W=W,
        b=b,
        Z=Z,
        A=A,
        dZ_dX=_vec(Z).jacobian(_vec(X)),
        dZ_dW=_vec(Z).jacobian(_vec(W)),
        dZ_db=_vec(Z).jacobian(_vec(b)),
        dA_dZ=dA_dZ,
    )
