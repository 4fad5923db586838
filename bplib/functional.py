"""Numerically stable elementwise functions shared by layers and losses (chapters 1-2).

Each takes a numpy array (not an ``np.matrix``). Infinities give the exact limits
(``sigmoid(inf) = 1``, ``logsumexp`` of a row of ``-inf`` is ``-inf``, ``softmax`` puts all the
mass on the ``+inf`` entries); NaN is refused by the reductions and passes through the
elementwise functions (NaN in, NaN out).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._checks import axis_of, describe, is_bfloat16, plain_array


def sigmoid(z: NDArray[Any]) -> NDArray[Any]:
    r""":math:`\sigma(z) = 1/(1+e^{-z})`, without overflow for any finite ``z``.

    ``exp(-z)`` overflows for ``z < -709`` in float64 (``-88`` in float32). Writing
    :math:`e = e^{-|z|} \in (0, 1]`, the two exact forms
    :math:`\sigma(z) = 1/(1+e)` for :math:`z \ge 0` and :math:`e/(1+e)` for :math:`z < 0`
    only ever exponentiate a non-positive number.
    """
    _real(z, "sigmoid")
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1, e) / (1 + e)


def logsumexp(z: NDArray[Any], axis: int = -1) -> NDArray[Any]:
    r""":math:`\log\sum_j e^{z_j}` along ``axis``, computed as :math:`m + \log\sum_j e^{z_j - m}`
    with :math:`m = \max_j z_j`, so the largest exponent is :math:`e^0 = 1` (keeps ``axis``)."""
    m = _checked_max(z, axis, "logsumexp")
    if not np.isfinite(m).all():
        return _logsumexp_with_infinities(z, m, axis)
    return m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def log_softmax(z: NDArray[Any], axis: int = -1) -> NDArray[Any]:
    r""":math:`\log p_j = z_j - \log\sum_k e^{z_k}`, finite for any finite logits."""
    lse = logsumexp(z, axis=axis)
    if not np.isfinite(lse).all():
        return _log_softmax_with_infinities(z, lse, axis)
    return z - lse


def softmax(z: NDArray[Any], axis: int = -1) -> NDArray[Any]:
    r""":math:`p_j = e^{z_j}/\sum_k e^{z_k}`, shifted by the row maximum so nothing overflows."""
    m = _checked_max(z, axis, "softmax")
    if not np.isfinite(m).all():
        return _softmax_with_infinities(z, m, axis)
    e = np.exp(z - m)
    return e / e.sum(axis=axis, keepdims=True)


def _real(z: object, where: str) -> None:
    """``z`` must be a plain numpy array of real numbers (float or integer)."""
    array = z if type(z) is np.ndarray else plain_array(z, "z", where)
    if array.dtype.kind not in "fiu" and not is_bfloat16(array.dtype):
        raise TypeError(
            f"{where}: z must be an array of real numbers (float or integer), got {describe(z)}"
        )


# The reductions' checks and their limits at infinity, kept apart so that the three
# functions above read as their formulas.
def _checked_max(z: NDArray[Any], axis: int, where: str) -> NDArray[Any]:
    """``z.max(axis, keepdims=True)`` after checking ``z`` and ``axis`` (NaN: see below)."""
    _real(z, where)
    if type(axis) is not int or not -z.ndim <= axis < z.ndim:
        axis_of(axis, z.ndim, where)
    if z.size == 0:
        raise ValueError(f"{where}: z must not be empty, got shape {z.shape}")
    return z.max(axis=axis, keepdims=True)


def _no_nan(m: NDArray[Any], where: str) -> None:
    """The row maxima are NaN exactly where a row holds NaN: refused."""
    if np.isnan(m).any():
        raise ValueError(f"{where}: z must not contain NaN")


def _logsumexp_with_infinities(z: NDArray[Any], m: NDArray[Any], axis: int) -> NDArray[Any]:
    """A slice of ``-inf`` sums to 0 (log: ``-inf``); a slice holding ``+inf`` gives ``+inf``."""
    _no_nan(m, "logsumexp")
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore", over="ignore"):
        return m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def _softmax_with_infinities(z: NDArray[Any], m: NDArray[Any], axis: int) -> NDArray[Any]:
    """The limit: the ``+inf`` entries of a slice share its mass equally, the others get 0."""
    _no_nan(m, "softmax")
    if (m == -np.inf).any():
        raise ValueError("softmax: a slice whose entries are all -inf has no softmax (0/0)")
    with np.errstate(over="ignore", invalid="ignore"):
        top = np.where(m == np.inf, (z == np.inf).astype(z.dtype), np.exp(z - m))
    return top / top.sum(axis=axis, keepdims=True)


def _log_softmax_with_infinities(z: NDArray[Any], lse: NDArray[Any], axis: int) -> NDArray[Any]:
    if (lse == -np.inf).any():
        raise ValueError("log_softmax: a slice whose entries are all -inf has no softmax")
    with np.errstate(divide="ignore"):  # the limit with +inf entries (log 0 = -inf)
        return np.log(softmax(z, axis=axis))


def softplus(z: NDArray[Any]) -> NDArray[Any]:
    r""":math:`\log(1+e^{z}) = \max(z, 0) + \log(1+e^{-|z|})`, stable for any finite ``z``."""
    _real(z, "softplus")
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
