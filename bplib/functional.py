"""Numerically stable elementwise functions shared by layers and losses (chapters 1-2)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def sigmoid(z: NDArray[Any]) -> NDArray[Any]:
    """:math:`\\sigma(z) = 1/(1+e^{-z})`, without overflow for any finite ``z``.

    ``exp(-z)`` overflows for ``z < -709`` in float64 (``-88`` in float32). Writing
    :math:`e = e^{-|z|} \\in (0, 1]`, the two exact forms
    :math:`\\sigma(z) = 1/(1+e)` for :math:`z \\ge 0` and :math:`e/(1+e)` for :math:`z < 0`
    only ever exponentiate a non-positive number.
    """
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def logsumexp(z: NDArray[Any], axis: int = -1) -> NDArray[Any]:
    """:math:`\\log\\sum_j e^{z_j}` along ``axis``, computed as :math:`m + \\log\\sum_j e^{z_j - m}`
    with :math:`m = \\max_j z_j`, so the largest exponent is :math:`e^0 = 1` (keeps ``axis``)."""
    m = z.max(axis=axis, keepdims=True)
    return m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def log_softmax(z: NDArray[Any], axis: int = -1) -> NDArray[Any]:
    """:math:`\\log p_j = z_j - \\log\\sum_k e^{z_k}`, finite for any finite logits."""
    return z - logsumexp(z, axis=axis)


def softmax(z: NDArray[Any], axis: int = -1) -> NDArray[Any]:
    """:math:`p_j = e^{z_j}/\\sum_k e^{z_k}`, shifted by the row maximum so nothing overflows."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softplus(z: NDArray[Any]) -> NDArray[Any]:
    """:math:`\\log(1+e^{z}) = \\max(z, 0) + \\log(1+e^{-|z|})`, stable for any finite ``z``."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
