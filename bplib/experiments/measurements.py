r"""The measurements of chapter 8: per-layer statistics of real forward and backward passes.

:func:`layer_statistics` measures one bplib network; :func:`measure` and :func:`sweep` many
random ones (:func:`random_network`) at once, beside the prediction of
:mod:`bplib.experiments.theory`. See :mod:`bplib.experiments`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import init as _init
from .._checks import (
    describe,
    finite_array,
    instance,
    integer,
    plain_array,
    positive_int,
    real,
    real_numbers,
)
from ..init import RngLike
from ..layers import ACTIVATIONS, Activation, Linear
from ..losses import Loss
from ..module import Module, Sequential
from .theory import card, predicted_ratio, ratio_tolerance, weight_variance

__all__ = [
    "LayerStats",
    "Measurement",
    "format_table",
    "layer_statistics",
    "measure",
    "random_network",
    "sweep",
    "table",
]


# --------------------------------------------------------------------------------------
# Measuring one network
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LayerStats:
    r"""Statistics of every layer of one forward/backward pass (:func:`layer_statistics`).

    Layer :math:`l = 1, \dots, L` is a ``Linear`` (computing
    :math:`Z^{(l)} = A^{(l-1)}W^{(l)} + b^{(l)}`) and the parameter-free modules after it
    (computing :math:`A^{(l)} = f(Z^{(l)})`, or :math:`A^{(l)} = Z^{(l)}` when there are none).
    Each field is an array whose **last** axis is the layer: shape ``(L,)`` from
    :func:`layer_statistics`, ``(seeds, L)`` in ``Measurement.per_seed``. Means and standard
    deviations are taken over the batch and the units of the layer.

    Attributes
    ----------
    preactivation_mean, preactivation_std : ndarray
        Of :math:`Z^{(l)}`.
    activation_mean, activation_std : ndarray
        Of :math:`A^{(l)}`.
    derivative_mean_square : ndarray
        :math:`\mathbb E[f'(Z^{(l)})^2]`, from the activation's own ``derivative`` (1 without one).
    delta_std : ndarray
        Of the backpropagated error :math:`\delta^{(l)} = \partial L/\partial Z^{(l)}`.
    weight_grad_norm, weight_grad_std : ndarray
        Frobenius norm and standard deviation of
        :math:`\partial L/\partial W^{(l)} = A^{(l-1)\top}\delta^{(l)}`.
    weight_var : ndarray
        :math:`\operatorname{Var}[W^{(l)}]`, the sample variance of the layer's weights.
    fan_out : ndarray
        :math:`n_l`, the fan-out of :math:`W^{(l)}` (its number of columns).
    """

    preactivation_mean: NDArray[np.float64]
    preactivation_std: NDArray[np.float64]
    activation_mean: NDArray[np.float64]
    activation_std: NDArray[np.float64]
    derivative_mean_square: NDArray[np.float64]
    delta_std: NDArray[np.float64]
    weight_grad_norm: NDArray[np.float64]
    weight_grad_std: NDArray[np.float64]
    weight_var: NDArray[np.float64]
    fan_out: NDArray[np.float64]

    @property
    def n_layers(self) -> int:
        """The number of layers :math:`L`."""
        return int(self.delta_std.shape[-1])

    def as_dict(self) -> dict[str, NDArray[np.float64]]:
        """The fields as a plain ``{name: array}`` dictionary (for a table or a plot)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def mean(self) -> LayerStats:
        """Average every field over the leading (seed) axis: shape ``(S, L)`` becomes ``(L,)``."""
        if self.delta_std.ndim < 2:
            raise ValueError(
                "LayerStats.mean() averages over seeds, but these statistics have shape "
                f"{self.delta_std.shape} (one network); nothing to average"
            )
        return LayerStats(**{k: v.mean(axis=0) for k, v in self.as_dict().items()})

    def variance_ratios(self) -> NDArray[np.float64]:
        r"""The per-layer ratios of variances of the error signal.

        :math:`\operatorname{Var}[\delta^{(l)}]/\operatorname{Var}[\delta^{(l+1)}]`.

        One for each :math:`l = 1, \dots, L-1`: shape ``(..., L-1)``. Where the error has died
        (:math:`\operatorname{Var}[\delta^{(l+1)}] = 0`) the ratio is reported as 0.
        """
        var = self.delta_std**2
        below, above = var[..., :-1], var[..., 1:]
        return np.divide(below, above, out=np.zeros_like(below), where=above > 0)

    def measured_ratio(self) -> NDArray[np.float64]:
        r"""The per-layer ratio of variances, averaged over the layers.

        .. math::

            \hat r = \frac{1}{L-1}\sum_{l=1}^{L-1}
                     \frac{\operatorname{Var}[\delta^{(l)}]}{\operatorname{Var}[\delta^{(l+1)}]}

        Shape ``(...)`` (a 0-d array for one network). Each term has expectation :math:`r`
        given the layers above it, so the average is an unbiased estimate of :math:`r`. (The
        geometric mean
        :math:`(\operatorname{Var}[\delta^{(1)}]/\operatorname{Var}[\delta^{(L)}])^{1/(L-1)}`,
        the *typical* rate at which one network's gradient shrinks, is smaller by a factor of
        about :math:`e^{-1/n}` for width :math:`n`: the mean of a logarithm is below the
        logarithm of the mean.)
        """
        if self.n_layers < 2:
            raise ValueError(f"a per-layer ratio needs at least 2 layers, got {self.n_layers}")
        return np.asarray(self.variance_ratios().mean(axis=-1), dtype=np.float64)

    def mean_field_ratios(self) -> NDArray[np.float64]:
        r"""The mean-field prediction of each per-layer ratio.

        :math:`n_{l+1}\operatorname{Var}[W^{(l+1)}]\,\mathbb E[f'(Z^{(l)})^2]` for
        :math:`l = 1, \dots, L-1`.

        Shape ``(..., L-1)``, aligned with :meth:`variance_ratios`. It uses the *measured*
        :math:`\mathbb E[f'(Z^{(l)})^2]` and weight variance, so it stays right when the units
        saturate, where the closed form of :func:`predicted_ratio` (with :math:`f'(0)`) fails.
        """
        weights = self.fan_out[..., 1:] * self.weight_var[..., 1:]
        return np.asarray(weights * self.derivative_mean_square[..., :-1], dtype=np.float64)


def _split_layers(model: Sequential) -> list[tuple[Linear, list[Activation]]]:
    """Group a Sequential into layers: each Linear with the activations after it."""
    if not isinstance(model, Sequential):
        raise TypeError(f"layer statistics need a bplib.Sequential, got {type(model).__name__}")
    layers: list[tuple[Linear, list[Activation]]] = []
    for i, m in enumerate(model):
        if isinstance(m, Linear):
            layers.append((m, []))
        elif not layers:
            raise ValueError(
                f"layer statistics expect the Sequential to start with a Linear layer; "
                f"module 0 is {m!r}"
            )
        elif not isinstance(m, Activation):
            has = "has parameters" if m.parameters() else "is not an activation"
            raise ValueError(
                "layer statistics expect a Sequential of Linear layers and elementwise "
                f"activations (bplib.layers.ACTIVATIONS); module {i} ({type(m).__name__}) {has}"
            )
        else:
            layers[-1][1].append(m)
    return layers


def _stats_over_units(
    x: NDArray[Any],
    z: NDArray[Any],
    a: NDArray[Any],
    fprime: NDArray[Any],
    delta: NDArray[Any],
    weight: NDArray[Any],
) -> dict[str, NDArray[np.float64]]:
    """One layer's statistics; arrays are ``(..., batch, units)``, reduced over the last two."""
    axes = (-2, -1)
    grad_w = np.swapaxes(x, -1, -2) @ delta  # dL/dW = A^(l-1)^T delta^(l) (per seed)
    return {
        "preactivation_mean": z.mean(axis=axes),
        "preactivation_std": z.std(axis=axes),
        "activation_mean": a.mean(axis=axes),
        "activation_std": a.std(axis=axes),
        "derivative_mean_square": (fprime**2).mean(axis=axes),
        "delta_std": delta.std(axis=axes),
        "weight_grad_norm": np.sqrt((grad_w**2).sum(axis=axes)),
        "weight_grad_std": grad_w.std(axis=axes),
        "weight_var": weight.var(axis=axes),
        "fan_out": np.full(z.shape[:-2], float(z.shape[-1])),
    }


def _stack(per_layer: list[dict[str, NDArray[np.float64]]]) -> LayerStats:
    names = [f.name for f in fields(LayerStats)]
    return LayerStats(
        **{k: np.stack([d[k] for d in per_layer], axis=-1).astype(np.float64) for k in names}
    )


def _check_statistics_input(
    x: object, grad_out: object, layers: list[tuple[Linear, list[Activation]]]
) -> None:
    """Check ``x`` and ``grad_out`` before anything runs (or any ``.grad`` is zeroed)."""
    where = "layer_statistics"
    x = real_numbers(x, "x", where)
    n_in = layers[0][0].in_features
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] != n_in:
        raise ValueError(
            f"{where}: x must have shape (batch, {n_in}) with batch >= 1, got shape {x.shape}"
        )
    finite_array(x, "x", where)  # statistics of NaN are NaN
    if grad_out is None:
        return
    out_shape = (x.shape[0], layers[-1][0].out_features)
    grad_out = plain_array(grad_out, "grad_out", where)
    dtype = layers[-1][0].weight.data.dtype
    if grad_out.dtype != dtype:
        raise TypeError(
            f"{where}: grad_out must be a floating numpy array of the model's dtype {dtype}, "
            f"got {describe(grad_out)}"
        )
    if grad_out.shape != out_shape:
        raise ValueError(
            f"{where}: grad_out must have the shape of the model's output {out_shape}, "
            f"got {grad_out.shape}"
        )
    finite_array(grad_out, "grad_out", where)


def layer_statistics(
    model: Sequential,
    x: NDArray[Any],
    grad_out: NDArray[Any] | None = None,
    *,
    loss_fn: Loss | None = None,
    target: NDArray[Any] | None = None,
) -> LayerStats:
    r"""Run one forward and one backward pass of ``model`` and measure every layer (chapter 8).

    The backward pass starts either from ``grad_out``, the gradient
    :math:`\partial L/\partial\,\text{output}` (e.g. a standard normal array, as if a random
    linear read-out sat on top), or from ``loss_fn(model(x), target)``. It runs bplib's own
    modules: each ``Linear``'s ``forward`` and ``backward``, and each activation's, whose
    ``derivative`` gives :math:`f'(z)` elementwise.

    The model's gradients are zeroed first; afterwards every ``.grad`` holds this pass's
    gradient.

    Parameters
    ----------
    model : Sequential
        Linear layers, each followed by zero or more parameter-free elementwise modules.
    x : ndarray, shape (batch, in_features)
    grad_out : ndarray of the output's shape, optional
    loss_fn, target : optional
        Give these instead of ``grad_out``.

    Returns
    -------
    LayerStats
        Arrays of shape ``(L,)``, one entry per Linear layer.
    """
    layers = _split_layers(model)
    if (grad_out is None) == (loss_fn is None):
        raise ValueError(
            "layer_statistics needs exactly one way to start the backward pass: "
            "grad_out=..., or loss_fn=... with target=...; got "
            + ("both" if grad_out is not None else "neither")
        )
    if loss_fn is not None and target is None:
        raise ValueError("layer_statistics got loss_fn but no target")
    if grad_out is not None and target is not None:  # it would be ignored
        raise ValueError(
            "layer_statistics: target goes with loss_fn, got grad_out and a target; pass "
            "grad_out=... alone, or loss_fn=... with target=..."
        )
    if loss_fn is not None:
        instance(loss_fn, Loss, "loss_fn", "layer_statistics", "a bplib Loss (e.g. MSELoss())")
    _check_statistics_input(x, grad_out, layers)

    model.zero_grad()
    inputs: list[NDArray[Any]] = []  # A^(l-1)
    zs: list[NDArray[Any]] = []  # Z^(l)
    outputs: list[NDArray[Any]] = []  # A^(l)
    fprimes: list[NDArray[Any]] = []  # f'(Z^(l)): the product over the layer's activations
    a = x
    for linear, activations in layers:
        z = linear.forward(a)
        inputs.append(np.asarray(a, dtype=z.dtype))
        zs.append(z)
        a, fprime = z, np.ones_like(z)
        for m in activations:
            a_in, a = a, m.forward(a)
            fprime = fprime * m.derivative(a_in, a)
        outputs.append(a)
        fprimes.append(fprime)
    out = a
    if loss_fn is not None:
        assert target is not None
        loss_fn(out, target)
        g = loss_fn.backward()
    else:
        assert grad_out is not None
        if not isinstance(grad_out, np.ndarray) or grad_out.dtype.kind != "f":
            raise TypeError(f"grad_out must be a floating numpy array, got {describe(grad_out)}")
        if grad_out.shape != out.shape:
            raise ValueError(
                f"grad_out must have the shape of the model's output {out.shape}, "
                f"got {grad_out.shape}"
            )
        if not np.isfinite(grad_out).all():
            raise ValueError("grad_out contains NaN or infinity")
        g = grad_out

    per_layer: list[dict[str, NDArray[np.float64]]] = []
    for k in reversed(range(len(layers))):
        linear, activations = layers[k]
        for m in reversed(activations):
            g = m.backward(g)
        delta = g
        g = linear.backward(delta)
        stats = _stats_over_units(
            inputs[k], zs[k], outputs[k], fprimes[k], delta, linear.weight.data
        )
        per_layer.append(stats)
    return _stack(per_layer[::-1])


# --------------------------------------------------------------------------------------
# Many networks at once
# --------------------------------------------------------------------------------------


def random_network(
    depth: int,
    width: int,
    activation: str,
    init: str,
    *,
    rng: RngLike = None,
    batch: int = 128,
    input_std: float = 1.0,
) -> tuple[Sequential, NDArray[np.float64], NDArray[np.float64]]:
    r"""A random deep network, an input batch and an upstream gradient to backpropagate (chapter 8).

    The network is ``depth`` identical layers ``Linear(width, width, init=init)`` each
    followed by the activation; the input is :math:`x \sim \mathcal N(0, \text{input\_std}^2)`
    of shape ``(batch, width)`` and the gradient arriving at the output is
    :math:`\partial L/\partial a_L \sim \mathcal N(0, 1)`, as if a random linear read-out sat on
    top. Everything is drawn from ``rng`` in that order (weights layer by layer, then
    :math:`x`, then the gradient), so one seed reproduces one network of :func:`measure`.

    Returns
    -------
    (model, x, grad_out)
        Ready for ``layer_statistics(model, x, grad_out)``.
    """
    depth = positive_int(depth, "depth")
    width = positive_int(width, "width")
    batch = positive_int(batch, "batch")
    factory = card(activation)
    weight_variance(init, width, width)  # refuses an unknown init with a clear message
    input_std = real(input_std, "input_std", "random_network", low=0.0, low_open=True)
    gen = _init.as_rng(rng)
    modules: list[Module] = []
    for _ in range(depth):
        modules += [Linear(width, width, init=init, rng=gen), factory()]
    x = gen.standard_normal((batch, width)) * input_std
    grad_out = gen.standard_normal((batch, width))
    return Sequential(*modules), x, grad_out


def _batched_statistics(
    weights: list[NDArray[np.float64]],
    biases: list[NDArray[np.float64]],
    x: NDArray[np.float64],
    grad_out: NDArray[np.float64],
    activation: str,
) -> LayerStats:
    r""":func:`layer_statistics` for S networks at once: arrays carry a leading seed axis.

    ``weights[l]`` has shape ``(S, n_in, n_out)``, ``x`` and ``grad_out`` ``(S, batch, n)``.
    The activations are bplib's own modules (they are elementwise, so a 3-D array is fine);
    only ``Linear`` is re-written, as the batched matrix products
    :math:`Z = XW + b`, :math:`\partial L/\partial W = X^\top\delta`,
    :math:`\partial L/\partial X = \delta W^\top`, because ``Linear`` takes one 2-D batch and
    a Python loop over S networks of L layers would cost S times the interpreter overhead.
    The tests check that the two agree.
    """
    fs = [ACTIVATIONS[activation]() for _ in weights]  # each caches its own z and a
    inputs, zs, outputs = [], [], []
    a = x
    for W, b, f in zip(weights, biases, fs, strict=True):
        z = a @ W + b[:, None, :]
        inputs.append(a)
        zs.append(z)
        a = f.forward(z)
        outputs.append(a)
    g = grad_out
    per_layer: list[dict[str, NDArray[np.float64]]] = []
    for k in reversed(range(len(weights))):
        delta = fs[k].backward(g)
        fprime = fs[k].derivative(zs[k], outputs[k])
        per_layer.append(_stats_over_units(inputs[k], zs[k], outputs[k], fprime, delta, weights[k]))
        # a contiguous W^T: numpy's stacked matmul is ~40x slower on a transposed view
        g = delta @ np.ascontiguousarray(np.swapaxes(weights[k], -1, -2))
    return _stack(per_layer[::-1])


@dataclass(frozen=True, eq=False)
class Measurement:
    r"""The layer statistics of ``n_seeds`` random networks of one configuration (:func:`measure`).

    Seed ``s`` is the network ``random_network(depth, width, activation, init,
    rng=seed + s, batch=batch, input_std=input_std)``.

    Attributes
    ----------
    activation, init : str
    depth, width, n_seeds, batch : int
    input_std : float
    per_seed : LayerStats
        Arrays of shape ``(n_seeds, depth)``.
    """

    activation: str
    init: str
    depth: int
    width: int
    n_seeds: int
    batch: int
    input_std: float
    per_seed: LayerStats

    @property
    def stats(self) -> LayerStats:
        """The statistics averaged over the seeds, arrays of shape ``(depth,)``."""
        return self.per_seed.mean()

    @property
    def predicted_ratio(self) -> float:
        """The closed form :func:`predicted_ratio` (near-linear regime), a ratio of variances."""
        return predicted_ratio(self.activation, self.init, self.width)

    @property
    def measured_ratio(self) -> float:
        r"""The measured per-layer ratio of variances.

        :meth:`LayerStats.measured_ratio` averaged over the seeds.
        """
        return float(self.per_seed.measured_ratio().mean())

    @property
    def mean_field_ratio(self) -> float:
        r"""The mean-field prediction of the per-layer ratio.

        :meth:`LayerStats.mean_field_ratios` averaged over the seeds and layers.
        """
        return float(self.per_seed.mean_field_ratios().mean())

    @property
    def tolerance(self) -> float:
        """The allowed relative chance error of the measured ratio (:func:`ratio_tolerance`)."""
        return ratio_tolerance(self.width, self.depth, self.n_seeds, activation=self.activation)

    def summary(self) -> dict[str, Any]:
        """One row of a table: the configuration, the three ratios and the end gradient norms."""
        norms = self.stats.weight_grad_norm
        return {
            "activation": self.activation,
            "init": self.init,
            "depth": self.depth,
            "width": self.width,
            "predicted_ratio": self.predicted_ratio,
            "mean_field_ratio": self.mean_field_ratio,
            "measured_ratio": self.measured_ratio,
            "first_grad_norm": float(norms[0]),
            "last_grad_norm": float(norms[-1]),
        }

    def __repr__(self) -> str:
        return (
            f"Measurement(activation={self.activation!r}, init={self.init!r}, "
            f"depth={self.depth}, width={self.width}, n_seeds={self.n_seeds}, "
            f"predicted_ratio={self.predicted_ratio:.4f}, measured_ratio={self.measured_ratio:.4f})"
        )


def measure(
    activation: str,
    init: str,
    *,
    depth: int,
    width: int,
    n_seeds: int = 8,
    seed: int = 0,
    batch: int = 128,
    input_std: float = 1.0,
) -> Measurement:
    r"""Measure ``n_seeds`` random networks of one configuration in one vectorised pass (chapter 8).

    Each network is built by :func:`random_network` from bplib's ``Linear`` (so its weights
    are exactly what ``Linear(init=init)`` draws) and pushed through forward and backward
    with the seeds stacked on a leading axis.

    Examples
    --------
    >>> from bplib.experiments import measure
    >>> m = measure("tanh", "xavier_normal", depth=10, width=32, input_std=0.05)
    >>> round(m.predicted_ratio, 3), abs(m.measured_ratio - 1) < 0.1
    (1.0, True)
    """
    n_seeds = positive_int(n_seeds, "n_seeds")
    seed = integer(seed, "seed", "measure", low=0)
    depth = integer(
        depth, "depth (a per-layer ratio compares consecutive layers)", "measure", low=2
    )
    nets = [
        random_network(
            depth, width, activation, init, rng=int(seed) + s, batch=batch, input_std=input_std
        )
        for s in range(n_seeds)
    ]
    linears = [[m for m in net if isinstance(m, Linear)] for net, _, _ in nets]
    weights = [np.stack([layers[k].weight.data for layers in linears]) for k in range(depth)]
    biases = [np.stack([_bias(layers[k]) for layers in linears]) for k in range(depth)]
    x = np.stack([xs for _, xs, _ in nets])
    g = np.stack([gs for _, _, gs in nets])
    per_seed = _batched_statistics(weights, biases, x, g, activation)
    return Measurement(activation, init, depth, width, n_seeds, batch, float(input_std), per_seed)


def _bias(layer: Linear) -> NDArray[np.float64]:
    if layer.bias is None:
        return np.zeros(layer.out_features)
    return np.asarray(layer.bias.data, dtype=np.float64)


def sweep(
    activations: Sequence[str],
    inits: Sequence[str],
    depths: Sequence[int],
    widths: Sequence[int],
    *,
    n_seeds: int = 8,
    seed: int = 0,
    batch: int = 128,
    input_std: float = 1.0,
) -> list[Measurement]:
    """:func:`measure` every combination, in the order activation, init, depth, width (chapter 8).

    The same seeds serve every configuration, so two inits of the same family are compared
    on the same underlying random numbers.
    """
    for name, values in (
        ("activations", activations),
        ("inits", inits),
        ("depths", depths),
        ("widths", widths),
    ):
        if isinstance(values, dict) or not isinstance(values, str | Sequence | np.ndarray):
            raise TypeError(f"sweep: {name} must be a list, got {describe(values)}")
        if isinstance(values, str) or len(values) == 0:
            raise ValueError(f"sweep needs a non-empty list of {name}, got {values!r}")
    for a in activations:  # every entry before the first measurement
        card(a)
    for k, i in enumerate(inits):
        if not isinstance(i, str) or i not in _init.INITIALIZERS:
            raise ValueError(
                f"sweep: inits[{k}] must be the name of a bplib.init initialiser, one of "
                f"{sorted(_init.INITIALIZERS)}, got {describe(i)}"
            )
    for k, d in enumerate(depths):
        integer(d, f"depths[{k}] (a per-layer ratio compares consecutive layers)", "sweep", low=2)
    for k, w in enumerate(widths):
        positive_int(w, f"widths[{k}]", "sweep")
    return [
        measure(
            a, i, depth=d, width=w, n_seeds=n_seeds, seed=seed, batch=batch, input_std=input_std
        )
        for a in activations
        for i in inits
        for d in depths
        for w in widths
    ]


def table(measurements: Iterable[Measurement]) -> dict[str, NDArray[Any]]:
    """The :meth:`Measurement.summary` rows as columns, ``{name: array}``, to plot or print."""
    if isinstance(measurements, Measurement) or not isinstance(measurements, Iterable):
        raise TypeError(
            f"table: measurements must be a list of Measurements (as sweep returns), got "
            f"{describe(measurements)}"
        )
    checked = list(measurements)
    for i, m in enumerate(checked):
        if not isinstance(m, Measurement):
            raise TypeError(
                f"table: measurements[{i}] must be a Measurement (as measure returns), got "
                f"{describe(m)}"
            )
    rows = [m.summary() for m in checked]
    if not rows:
        raise ValueError("table needs at least one Measurement, got none")
    return {key: np.array([row[key] for row in rows]) for key in rows[0]}


def format_table(measurements: Iterable[Measurement]) -> str:
    """A plain-text table of predicted, mean-field and measured per-layer variance ratios."""
    cols = table(measurements)
    header = (
        f"{'activation':<11} {'init':<15} {'depth':>5} {'width':>5} {'predicted':>10} "
        f"{'mean-field':>10} {'measured':>10} {'|dW_1|':>10} {'|dW_L|':>10}"
    )
    lines = [header, "-" * len(header)]
    for k in range(len(cols["activation"])):
        lines.append(
            f"{cols['activation'][k]:<11} {cols['init'][k]:<15} {cols['depth'][k]:>5d} "
            f"{cols['width'][k]:>5d} {cols['predicted_ratio'][k]:>10.4f} "
            f"{cols['mean_field_ratio'][k]:>10.4f} {cols['measured_ratio'][k]:>10.4f} "
            f"{cols['first_grad_norm'][k]:>10.3e} {cols['last_grad_norm'][k]:>10.3e}"
        )
    return "\n".join(lines)
