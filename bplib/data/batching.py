"""Mini-batches (chapter 6): :func:`batches`, one epoch of ``(X_batch, y_batch)`` pairs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import plain_array, positive_int, xy
from ..init import RngLike, as_rng

__all__ = ["batches", "iterate_batches"]

Array = NDArray[Any]


def batches(
    X: Array,
    y: Array,
    batch_size: int,
    *,
    shuffle: bool = True,
    rng: RngLike = None,
) -> Iterator[tuple[Array, Array]]:
    r"""Iterate over one epoch of mini-batches ``(X_batch, y_batch)``.

    Chapter 6. Every example appears in exactly one batch; all batches have ``batch_size``
    rows except possibly the last, which holds the remaining :math:`n \bmod
    \text{batch\_size}`. With ``shuffle=True`` the order is a fresh random permutation
    drawn from ``rng`` (so passing the same ``Generator`` for every epoch gives a different,
    reproducible order each epoch) and the batches are copies; with ``shuffle=False`` they
    are views into ``X`` and ``y`` in their original order.

    The arguments are checked when ``batches`` is called, not at the first batch.
    """
    X, y = xy(X, y, "batches", finite=False)
    plain_array(X, "X", "batches")
    plain_array(y, "y", "batches")
    size = positive_int(batch_size, "batch_size")
    order = as_rng(rng).permutation(len(X)) if shuffle else None
    return iterate_batches(X, y, size, order)


def iterate_batches(
    X: Array, y: Array, size: int, order: NDArray[np.intp] | None
) -> Iterator[tuple[Array, Array]]:
    """The batches of :func:`batches`, without its checks (for callers that made them once).

    ``order`` is a permutation of the rows, or ``None`` for their original order (views).
    """
    for start in range(0, len(X), size):
        if order is None:
            yield X[start : start + size], y[start : start + size]
        else:
            idx = order[start : start + size]
            yield X[idx], y[idx]
