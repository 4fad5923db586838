r"""Data for the book: seeded toy problems, the shipped digits, splitting and batching.

Toy problems (chapters 6 and 9), each generated from a seed so a chapter is reproducible:
:func:`xor`, :func:`spirals`, :func:`moons`, :func:`circles` (2-D classification, integer
labels) and :func:`regression_1d` (a noisy sine). A real data set ships inside the package
and loads without a network (chapter 7): :func:`load_digits`. Then the plumbing every
training loop needs: :func:`train_test_split` (stratified), :class:`Standardizer` and
:func:`standardize`, :func:`one_hot` and :func:`batches` (mini-batches, chapter 6).

Conventions: ``X`` is a float64 array of shape ``(n, features)``; classification labels
``y`` are int64 of shape ``(n,)``; every ``rng`` argument takes an int seed, a
``numpy.random.Generator`` or ``None`` (fresh entropy), as in :func:`bplib.init.as_rng`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import positive_int
from ..init import RngLike, as_rng

__all__ = [
    "Standardizer",
    "batches",
    "circles",
    "load_digits",
    "moons",
    "one_hot",
    "regression_1d",
    "spirals",
    "standardize",
    "train_test_split",
    "xor",
]

Array = NDArray[Any]


# ---------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------


def _noise(value: object, name: str = "noise") -> float:
    """Return ``value`` as a float >= 0, else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a real number >= 0, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _xy(X: object, y: object, where: str) -> tuple[Array, Array]:
    """Check that X and y are arrays with the same number of rows (at least one)."""
    for name, a in (("X", X), ("y", y)):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{where}: {name} must be a numpy array, got {type(a).__name__}")
        if a.ndim == 0:
            raise ValueError(f"{where}: {name} must have one row per example, got a 0-d array")
    assert isinstance(X, np.ndarray) and isinstance(y, np.ndarray)
    if len(X) != len(y):
        raise ValueError(
            f"{where}: X and y must have the same number of examples (rows), "
            f"got X with {len(X)} (shape {X.shape}) and y with {len(y)} (shape {y.shape})"
        )
    if len(X) == 0:
        raise ValueError(f"{where}: got no examples (X has shape {X.shape})")
    return X, y


def _integer_labels(y: object, where: str) -> NDArray[np.int64]:
    """Return ``y`` as a 1-D int64 array of class labels >= 0, else raise."""
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{where}: y must be a numpy array, got {type(y).__name__}")
    if y.dtype.kind not in "iu":
        raise TypeError(
            f"{where} needs integer class labels, got y of dtype {y.dtype}"
            + ("; pass stratify=False for regression targets" if "split" in where else "")
        )
    if y.ndim != 1:
        raise ValueError(f"{where} needs a 1-D array of labels, got shape {y.shape}")
    if y.size and y.min() < 0:
        raise ValueError(f"{where} needs class labels >= 0, got {int(y.min())}")
    return y.astype(np.int64, copy=False)


# ---------------------------------------------------------------------------------------
# toy problems
# ---------------------------------------------------------------------------------------


def xor(
    n_per_corner: int = 1, noise: float = 0.0, rng: RngLike = None
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    r"""The XOR problem: :math:`y = x_1 \oplus x_2` on the corners of the unit square.

    Chapters 3 and 9. With the defaults it returns exactly the four classic points
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
    sigma = _noise(noise)
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
    sigma = _noise(noise)
    gen = as_rng(rng)
    r = np.tile(np.linspace(0.0, 1.0, n), K)
    k = np.repeat(np.arange(K, dtype=np.int64), n)
    theta = 2 * np.pi * k / K + 4 * r + sigma * gen.standard_normal(n * K)
    X = np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    return X, k


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
    n = positive_int(n, "n")
    if n < 2:
        raise ValueError(f"n must be at least 2 (one point per class), got {n}")
    sigma = _noise(noise)
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

    Chapter 6. The first :math:`\lceil n/2 \rceil` points (class 0) sit at evenly spaced
    angles on the unit circle, the rest on the circle of radius ``factor``; Gaussian noise
    of standard deviation ``noise`` is added to every coordinate.

    Returns
    -------
    X : ndarray of float64, shape (n, 2)
    y : ndarray of int64, shape (n,)
    """
    n = positive_int(n, "n")
    if n < 2:
        raise ValueError(f"n must be at least 2 (one point per class), got {n}")
    sigma = _noise(noise)
    f = _noise(factor, "factor")
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

    Chapters 5 and 6. The inputs are sorted, so ``plt.plot(X, y)`` draws a curve.

    Returns
    -------
    X : ndarray of float64, shape (n, 1)
    y : ndarray of float64, shape (n, 1)
    """
    n = positive_int(n, "n")
    sigma = _noise(noise)
    gen = as_rng(rng)
    x = np.sort(gen.uniform(-np.pi, np.pi, n))
    y = np.sin(x) + sigma * gen.standard_normal(n)
    return x.reshape(-1, 1), y.reshape(-1, 1)


# ---------------------------------------------------------------------------------------
# the shipped data set
# ---------------------------------------------------------------------------------------


def load_digits() -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    r"""The UCI 8x8 handwritten digits: 1,797 images of the digits 0-9.

    Chapter 7. Each image is a 32x32 bitmap of a handwritten digit, divided into 4x4
    blocks; a pixel counts the "on" bits of its block, so it is an integer from 0 to 16.
    Row :math:`i` of ``X`` is image :math:`i` read row by row: ``X[i].reshape(8, 8)``
    shows it.

    The data are the test part (``optdigits.tes``) of the "Optical Recognition of
    Handwritten Digits" data set of the UCI Machine Learning Repository, by E. Alpaydin
    and C. Kaynak (1998), licensed under Creative Commons Attribution 4.0 (CC BY 4.0):
    https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits
    (doi:10.24432/C50P49). See Alpaydin & Kaynak (1998), "Cascading classifiers",
    *Kybernetika* 34(4), 369-374. bplib ships them unchanged as ``bplib/data/digits.npz``
    (uint8), extracted from the copy scikit-learn distributes by
    ``tools/make_digits_npz.py``; loading needs no network.

    Returns
    -------
    X : ndarray of float64, shape (1797, 64)
        Pixel values 0-16.
    y : ndarray of int64, shape (1797,)
        Labels 0-9.
    """
    from importlib import resources  # here, not at the top: it costs import bplib ~6 ms

    source = resources.files(__name__).joinpath("digits.npz")
    with source.open("rb") as f, np.load(f, allow_pickle=False) as npz:
        images, labels = npz["images"], npz["labels"]
    return images.reshape(len(images), -1).astype(np.float64), labels.astype(np.int64)


# ---------------------------------------------------------------------------------------
# splitting, scaling, encoding, batching
# ---------------------------------------------------------------------------------------


def _stratified_test_counts(counts: NDArray[np.int64], test_size: float) -> NDArray[np.int64]:
    """Per-class test counts summing to floor(test_size * n + 1/2), each within 1 of its quota.

    Each class first gets the floor of its quota ``test_size * n_c``; the examples still
    missing go to the classes with the largest remainders (largest-remainder rounding).
    """
    n_test = math.floor(test_size * counts.sum() + 0.5)
    quota = test_size * counts
    taken: NDArray[np.int64] = np.floor(quota).astype(np.int64)
    order = np.argsort(-(quota - taken), kind="stable")
    taken[order[: n_test - int(taken.sum())]] += 1
    return taken


def train_test_split(
    X: Array,
    y: Array,
    test_size: float = 0.2,
    *,
    stratify: bool = True,
    rng: RngLike = None,
) -> tuple[Array, Array, Array, Array]:
    r"""Split ``(X, y)`` at random into a training set and a held-out test set.

    Chapter 7. The test set has :math:`\lfloor \text{test\_size}\cdot n + \tfrac12 \rfloor`
    examples (rounded half up). With ``stratify=True`` (integer class labels) every class
    is split in the same proportion: class :math:`c` with :math:`n_c` examples puts
    :math:`\lfloor \text{test\_size}\cdot n_c \rfloor` or one more in the test set, so the
    class frequencies of both parts match those of ``y``. Both parts come out shuffled.

    Parameters
    ----------
    X : ndarray, shape (n, ...)
    y : ndarray, shape (n,) or (n, ...)
        Integer labels when ``stratify`` is true; any targets otherwise.
    test_size : float
        Fraction of the examples held out, strictly between 0 and 1.
    stratify : bool
        Keep the class proportions in both parts (needs integer labels, at least two
        examples per class).
    rng : int, numpy.random.Generator or None

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray
        New arrays (copies), in the order of scikit-learn's function of the same name.
    """
    X, y = _xy(X, y, "train_test_split")
    if (
        isinstance(test_size, bool)
        or not isinstance(test_size, float | int | np.floating | np.integer)
        or not 0 < test_size < 1
    ):
        raise ValueError(
            f"test_size must be a fraction strictly between 0 and 1, got {test_size!r}"
        )
    n = len(X)
    n_test = math.floor(test_size * n + 0.5)
    if not 0 < n_test < n:
        raise ValueError(
            f"test_size={test_size} of n={n} examples leaves an empty "
            f"{'test' if n_test == 0 else 'training'} set; use more data or another test_size"
        )
    gen = as_rng(rng)
    if stratify:
        labels = _integer_labels(y, "train_test_split(stratify=True)")
        classes, counts = np.unique(labels, return_counts=True)
        if counts.min() < 2:
            raise ValueError(
                f"stratify=True needs at least 2 examples of every class, but class "
                f"{int(classes[counts.argmin()])} has only {int(counts.min())}"
            )
        per_class = _stratified_test_counts(counts, float(test_size))
        test_parts, train_parts = [], []
        for c, k in zip(classes, per_class, strict=True):
            members = gen.permutation(np.flatnonzero(labels == c))
            test_parts.append(members[:k])
            train_parts.append(members[k:])
        test_idx = gen.permutation(np.concatenate(test_parts))
        train_idx = gen.permutation(np.concatenate(train_parts))
    else:
        perm = gen.permutation(n)
        test_idx, train_idx = perm[:n_test], perm[n_test:]
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]


def _features(X: object, where: str) -> NDArray[np.float64]:
    if not isinstance(X, np.ndarray):
        raise TypeError(f"{where} expected a numpy array, got {type(X).__name__}")
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(
            f"{where} expected a non-empty 2-D array of shape (n, features), got shape {X.shape}"
        )
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{where} expected a real numeric array, got dtype {X.dtype}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{where} got NaN or infinite values")
    return X.astype(np.float64, copy=False)


class Standardizer:
    r"""Shift and scale every feature to mean 0 and standard deviation 1 on the training set.

    Chapter 7. ``fit`` learns, per feature :math:`j` of the training set,
    :math:`\mu_j = \frac1n\sum_i x_{ij}` and :math:`\sigma_j` (the population standard
    deviation); ``transform`` maps :math:`x_{ij} \mapsto (x_{ij} - \mu_j)/s_j` with
    :math:`s_j = \sigma_j` where :math:`\sigma_j > 0` and :math:`s_j = 1` for a constant
    feature (such as a digit image's always-blank corner pixel), which is then mapped to 0
    instead of 0/0 = NaN. Fit on the training set only and apply the same :math:`\mu, s`
    to the test set, so nothing about the test set leaks into training.

    Attributes
    ----------
    mean : ndarray of shape (features,)
        :math:`\mu`, after ``fit``.
    scale : ndarray of shape (features,)
        :math:`s`, after ``fit``.
    """

    def __init__(self) -> None:
        self.mean: NDArray[np.float64] | None = None
        self.scale: NDArray[np.float64] | None = None

    def fit(self, X: Array) -> Standardizer:
        """Learn ``mean`` and ``scale`` from ``X`` of shape (n, features); return ``self``."""
        X = _features(X, "Standardizer.fit")
        std = X.std(axis=0)
        self.mean = X.mean(axis=0)
        self.scale = np.where(std > 0, std, 1.0)
        return self

    def _fitted(
        self, X: Array, where: str
    ) -> tuple[Array, NDArray[np.float64], NDArray[np.float64]]:
        if self.mean is None or self.scale is None:
            raise RuntimeError(f"Standardizer.{where} called before fit(); call fit(X_train) first")
        X = _features(X, f"Standardizer.{where}")
        if X.shape[1] != self.mean.shape[0]:
            raise ValueError(
                f"Standardizer.{where} expected {self.mean.shape[0]} features (as in fit), "
                f"got shape {X.shape}"
            )
        return X, self.mean, self.scale

    def transform(self, X: Array) -> NDArray[np.float64]:
        r""":math:`(X - \mu)/s`, a new float64 array."""
        X, mean, scale = self._fitted(X, "transform")
        return (X - mean) / scale

    def inverse_transform(self, Z: Array) -> NDArray[np.float64]:
        r""":math:`Z s + \mu`, undoing ``transform``."""
        Z, mean, scale = self._fitted(Z, "inverse_transform")
        return Z * scale + mean

    def fit_transform(self, X: Array) -> NDArray[np.float64]:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def __repr__(self) -> str:
        if self.mean is None:
            return "Standardizer(unfitted)"
        return f"Standardizer(features={self.mean.shape[0]})"


def standardize(X_train: Array, *others: Array) -> tuple[NDArray[np.float64], ...]:
    r"""Standardise ``X_train`` and every array in ``others`` with the statistics of ``X_train``.

    Chapter 7. A shortcut for ``s = Standardizer().fit(X_train)`` followed by
    ``s.transform`` of each array; see :class:`Standardizer`.

    Examples
    --------
    >>> X_train_s, X_test_s = standardize(X_train, X_test)  # doctest: +SKIP
    """
    s = Standardizer().fit(X_train)
    return (s.transform(X_train), *(s.transform(X) for X in others))


def one_hot(y: Array, n_classes: int | None = None) -> NDArray[np.float64]:
    r"""One-hot encode integer labels: row :math:`i` is :math:`e_{y_i}`.

    Chapter 2. ``Y[i, c] = 1`` if ``y[i] == c`` else 0.

    Parameters
    ----------
    y : ndarray of int, shape (n,)
        Labels in ``0 .. n_classes - 1``.
    n_classes : int, optional
        Number of columns; by default ``y.max() + 1``.

    Returns
    -------
    ndarray of float64, shape (n, n_classes)
    """
    labels = _integer_labels(y, "one_hot")
    if n_classes is None:
        if labels.size == 0:
            raise ValueError("one_hot got no labels, so n_classes must be given")
        K = int(labels.max()) + 1
    else:
        K = positive_int(n_classes, "n_classes")
        if labels.size and labels.max() >= K:
            raise ValueError(
                f"one_hot: labels must lie in 0 .. {K - 1} for n_classes={K}, "
                f"got label {int(labels.max())}"
            )
    Y = np.zeros((labels.size, K))
    Y[np.arange(labels.size), labels] = 1.0
    return Y


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
    X, y = _xy(X, y, "batches")
    size = positive_int(batch_size, "batch_size")
    n = len(X)
    order = as_rng(rng).permutation(n) if shuffle else None

    def generate() -> Iterator[tuple[Array, Array]]:
        for start in range(0, n, size):
            if order is None:
                yield X[start : start + size], y[start : start + size]
            else:
                idx = order[start : start + size]
                yield X[idx], y[idx]

    return generate()
