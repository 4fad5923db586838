r"""Gradient checking by central finite differences (chapter 5).

For every parameter entry :math:`\theta_k`,

.. math::

    \frac{\partial L}{\partial \theta_k} \approx
    \frac{L(\theta + \varepsilon e_k) - L(\theta - \varepsilon e_k)}{2\varepsilon},

whose error is :math:`O(\varepsilon^2)`. Comparing it with the gradient from ``backward``
catches almost every bug in a hand-written backward pass.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._checks import describe, finite_array, instance, plain_array, real, real_numbers, xy
from .losses import Loss
from .module import Module


def relative_error(a: NDArray[Any], b: NDArray[Any]) -> float:
    r""":math:`\max|a-b| / \max(\max|a|, \max|b|)`: the worst error relative to the gradient's scale.

    Returns 0.0 when both are exactly zero. The two arrays must have the same shape (a
    broadcast would compare the wrong entries).
    """
    for name, v in (("a", a), ("b", b)):
        finite_array(real_numbers(v, name, "relative_error"), name, "relative_error")
    if a.shape != b.shape:
        raise ValueError(
            f"relative_error: a and b must have the same shape, got {a.shape} and {b.shape}"
        )
    scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    err = float(np.max(np.abs(a - b), initial=0.0))
    return 0.0 if err == 0.0 else err / max(scale, np.finfo(np.float64).tiny)


def _check_nudge(x: object, eps: object) -> float:
    """``x`` must be a writeable floating array and ``eps`` a finite number > 0."""
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"numerical_gradient: x must be a floating numpy array, got {describe(x)}")
    plain_array(x, "x", "numerical_gradient")
    finite_array(x, "x", "numerical_gradient")
    if not x.flags.writeable:
        raise ValueError("numerical_gradient: x must be writeable: its entries are nudged in place")
    return real(eps, "eps", "numerical_gradient", low=0.0, low_open=True)


def numerical_gradient(f: Callable[[], float], x: NDArray[Any], eps: float = 1e-6) -> NDArray[Any]:
    """Central-difference gradient of the scalar function ``f()`` with respect to the array
    ``x``, which ``f`` reads; each entry of ``x`` is nudged in place and restored.

    The nudges go through ``x[index]``, so they reach the memory ``f`` reads even when
    ``x`` is a view (a transposed or sliced weight), where ``x.reshape(-1)`` would be a copy.
    """
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        try:  # x is restored even if f raises
            x[index] = old + eps
            f_plus = f()
            x[index] = old - eps
            f_minus = f()
        finally:
            x[index] = old
        grad[index] = (f_plus - f_minus) / (2 * eps)
    return grad


def _scalar_function(f: object) -> Callable[[], float]:
    """``f`` as a function whose every value is checked to be a number (a real number or a
    one-element real array, given back as a float), or an exception naming what is wrong."""
    if not callable(f):
        raise TypeError(
            "numerical_gradient: f must be a function of no arguments returning the loss, "
            f"got {describe(f)}"
        )

    def checked() -> float:
        value = f()
        if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "biuf":
            return float(value.reshape(()))
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise TypeError(
                "numerical_gradient: f() must return a number (the scalar loss), "
                f"got {describe(value)}"
            )
        return float(value)

    return checked


def _guarded_numerical_gradient(plain: Callable[..., NDArray[Any]]) -> Callable[..., NDArray[Any]]:
    """``numerical_gradient`` behind its boundary: ``f``, ``x`` and ``eps`` checked before
    anything is nudged, each value of ``f`` checked, the differences checked to be finite.
    The function as chapter 5 prints it is ``numerical_gradient.__wrapped__``."""

    @functools.wraps(plain)
    def guarded(f: Callable[[], float], x: NDArray[Any], eps: float = 1e-6) -> NDArray[Any]:
        checked_f = _scalar_function(f)
        eps = _check_nudge(x, eps)
        return _finite_differences(plain(checked_f, x, eps), eps)

    return guarded


# the boundary, wrapped after the definition so that the listing shows the plain function
numerical_gradient = _guarded_numerical_gradient(numerical_gradient)


def _finite_differences(grad: NDArray[Any], eps: float) -> NDArray[Any]:
    """``grad`` if every central difference is finite, else say so (eps too large for f)."""
    if not np.isfinite(grad).all():
        bad = int(grad.size - np.count_nonzero(np.isfinite(grad)))
        raise FloatingPointError(
            f"numerical_gradient: {bad} central difference(s) are NaN or infinite with "
            f"eps={eps!r}; f must be finite within eps of x: use a smaller eps"
        )
    return grad


@dataclass
class GradcheckReport:
    """Worst relative error of each parameter's (and the input's) analytic gradient."""

    errors: dict[str, float]
    tol: float

    @property
    def worst(self) -> float:
        return max(self.errors.values(), default=0.0)

    @property
    def ok(self) -> bool:
        return self.worst < self.tol

    def __repr__(self) -> str:
        width = max(len(name) for name in self.errors) if self.errors else 4
        lines = [f"{name:<{width}}  {err:.1e}" for name, err in self.errors.items()]
        verdict = "OK" if self.ok else "FAILED"
        return (
            f"gradcheck {verdict}: worst relative error {self.worst:.1e} (tolerance {self.tol:.0e})\n"
            + "\n".join(lines)
        )


def gradcheck(
    model: Module,
    loss_fn: Loss,
    X: NDArray[Any],
    y: NDArray[Any],
    *,
    eps: float = 1e-6,
    tol: float = 1e-7,
) -> GradcheckReport:
    """Compare ``model.backward``'s gradients with central finite differences.

    Checks every parameter and the gradient with respect to the input ``X``. The model
    must be float64 (in float32, finite differences are too coarse to mean anything).
    The parameters' ``.grad`` are left holding the analytic gradient for this batch.

    Returns
    -------
    GradcheckReport
        ``report.errors[name]`` is the worst relative error of that parameter (named as
        in ``model.named_parameters()``), ``report.ok`` is ``worst < tol``.
    """
    instance(model, Module, "model", "gradcheck", "a bplib Module")
    instance(loss_fn, Loss, "loss_fn", "gradcheck", "a bplib loss")
    eps = real(eps, "eps", "gradcheck", low=0.0, low_open=True)
    tol = real(tol, "tol", "gradcheck", low=0.0, low_open=True)
    params = dict(model.named_parameters())
    for name, p in params.items():
        if p.data.dtype != np.float64:
            raise TypeError(
                f"gradcheck needs a float64 model; parameter {name!r} is {p.data.dtype}"
            )
    if not isinstance(X, np.ndarray) or X.dtype != np.float64:
        raise TypeError(f"gradcheck needs a float64 input X, got {describe(X)}")
    plain_array(X, "X", "gradcheck")
    xy(X, y, "gradcheck")  # finite, with one target per row
    X = X.copy()  # nudged in place below

    def loss() -> float:
        return loss_fn(model.forward(X), y)

    model.zero_grad()
    loss()
    dX = model.backward(loss_fn.backward())
    errors = {  # forward passes alone below: the .grad arrays keep the analytic gradient
        name: relative_error(p.grad, numerical_gradient(loss, p.data, eps))
        for name, p in params.items()
    }
    errors["input"] = relative_error(dX, numerical_gradient(loss, X, eps))
    return GradcheckReport(errors, tol)
