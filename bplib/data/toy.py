r"""Toy problems generated from a seed (chapters 6, 8 and 9).

:func:`xor`, :func:`spirals`, :func:`moons`, :func:`circles` (2-D classification, integer
labels) and :func:`regression_1d` (a noisy sine). The same seed gives the same data.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .._checks import non_negative, positive_int
from ..init import RngLike, as_rng

__all__ = ["circles", "moons", "regression_1d", "spirals", "xor"]


def xor(
    n_per_corner: int = 1, noise: float = 0.0, rng: RngLike = None
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    r"""The XOR problem: :math:`y = x_1 \oplus x_2` on the corners of the unit square.

    Chapter 9. With the defaults it returns exactly the four classic points
    :math:`(0,0)\to 0`, :math:`(0,1)\to 1`, :math:`(1,0)\to 1`, :math:`(1,1)\to 0`,
    the smallest problem that no linear model solves (Minsky & Papert, 1969).

    Parameters
    ----------
    n_per_corner : int
        Copies of each corner (grouped by corner, in the order above).
    noise : float
        Standard deviation of Gaussian noise added to every coordinate.
    rng : int, numpy.random.Generator or None
        Source of the noise (unused when ``noise == 0``).

    Returns
    -------
    X : ndarray of float64, shape (4 * n_per_corner, 2)
    y : ndarray of int64, shape (4 * n_per_corner,)
    """
    n = positive_int(n_per_corner, "n_per_corner")
    sigma = non_negative(noise, "noise")
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    X = np.repeat(corners, n, axis=0)
    y = np.repeat(np.array([0, 1, 1, 0], dtype=np.int64), n)
    if sigma > 0:
        X = X + sigma * as_rng(rng).standard_normal(X.shape)
    return X, y


def spirals(
    n_per_class: int = 100, n_classes: int = 2, noise: float = 0.2, rng: RngLike = None
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    r"""Interleaved spiral arms, one per class: a problem that needs a curved boundary.

    Chapter 6. Arm :math:`k` of :math:`K` has radii :math:`r_i` evenly spaced in
    :math:`[0, 1]` and angles :math:`\theta_i = 2\pi k / K + 4 r_i + \sigma\varepsilon_i`
    with :math:`\varepsilon_i \sim \mathcal N(0, 1)`; the point is
    :math:`r_i(\cos\theta_i, \sin\theta_i)` (after the CS231n spiral data set).

    Parameters
    ----------
    n_per_class : int
        Points per arm (the arms are grouped by class, class 0 first).
    n_classes : int
        Number of arms :math:`K \ge 2`.
    noise : float
        :math:`\sigma`, the standard deviation of the angular noise in radians.
    rng : int, numpy.random.Generator or None

    Returns
    -------
    X : ndarray of float64, shape (n_classes * n_per_class, 2), inside the unit disc
    y : ndarray of int64, shape (n_classes * n_per_class,), labels 0 .. n_classes - 1
    """
    n = positive_int(n_per_class, "n_per_class")
    K = positive_int(n_classes, "n_classes")
    if K < 2:
        raise ValueError(f"n_classes must be at least 2, got {K}")
    sigma = non_negative(noise, "noise")
    gen = as_rng(rng)
    r = np.tile(np.linspace(0.0, 1.0, n), K)
    k = np.repeat(np.arange(K, dtype=np.int64), n)
    theta = 2 * np.pi * k / K + 4 * r + sigma * gen.standard_normal(n * K)
    X = np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    return X, k


def _two_class_size(n: object) -> int:
    """``n`` as the number of points of a two-class problem: an integer >= 2."""
    size = positive_int(n, "n")
    if size < 2:
        raise ValueError(f"n must be at least 2 (one point per class), got {size}")
    return size


def moons(
    n: int = 200, noise: float = 0.1, rng: RngLike = None
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    r"""Two interleaving half circles.

    Chapter 8. Class 0 (the first :math:`\lceil n/2 \rceil` points) lies on
    :math:`(\cos t, \sin t)`, class 1 on :math:`(1 - \cos t, \tfrac12 - \sin t)`, with
    :math:`t` evenly spaced in :math:`[0, \pi]` and Gaussian noise of standard deviation
    ``noise`` added to every coordinate (the layout of scikit-learn's ``make_moons``).

    Returns
    -------
    X : ndarray of float64, shape (n, 2)
    y : ndarray of int64, shape (n,)
    """
    n = _two_class_size(n)
    sigma = non_negative(noise, "noise")
    n0 = n - n // 2
    t0, t1 = np.linspace(0.0, np.pi, n0), np.linspace(0.0, np.pi, n // 2)
    X = np.concatenate(
        [
            np.column_stack([np.cos(t0), np.sin(t0)]),
            np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)]),
        ]
    )
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n0, n // 2])
    return X + sigma * as_rng(rng).standard_normal(X.shape), y


def circles(
    n: int = 200, noise: float = 0.05, factor: float = 0.5, rng: RngLike = None
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    r"""Two concentric circles: class 0 of radius 1, class 1 of radius ``factor``.

    The first :math:`\lceil n/2 \rceil` points (class 0) sit at evenly spaced
    angles on the unit circle, the rest on the circle of radius ``factor``; Gaussian noise
    of standard deviation ``noise`` is added to every coordinate.

    Returns
    -------
    X : ndarray of float64, shape (n, 2)
    y : ndarray of int64, shape (n,)
    """
    n = _two_class_size(n)
    sigma = non_negative(noise, "noise")
    f = non_negative(factor, "factor")
    if not 0 < f < 1:
        raise ValueError(f"factor (inner radius / outer radius) must lie in (0, 1), got {factor!r}")
    n0 = n - n // 2
    t0 = np.linspace(0.0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2 * np.pi, n // 2, endpoint=False)
    X = np.concatenate(
        [np.column_stack([np.cos(t0), np.sin(t0)]), f * np.column_stack([np.cos(t1), np.sin(t1)])]
    )
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n0, n // 2])
    return X + sigma * as_rng(rng).standard_normal(X.shape), y


def regression_1d(
    n: int = 100, noise: float = 0.1, rng: RngLike = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""A noisy sine: :math:`y = \sin x + \sigma\varepsilon`, :math:`x \sim U(-\pi, \pi)`.

    Chapter 9. The inputs are sorted, so ``plt.plot(X, y)`` draws a curve.

    Returns
    -------
    X : ndarray of float64, shape (n, 1)
    y : ndarray of float64, shape (n, 1)
    """
    n = positive_int(n, "n")
    sigma = non_negative(noise, "noise")
    gen = as_rng(rng)
    x = np.sort(gen.uniform(-np.pi, np.pi, n))
    y = np.sin(x) + sigma * gen.standard_normal(n)
    return x.reshape(-1, 1), y.reshape(-1, 1)
