r"""Splitting, scaling and encoding (chapters 6 and 7).

:func:`train_test_split` (stratified), :class:`Standardizer` and :func:`standardize`,
:func:`one_hot`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import (
    describe,
    finite_array,
    plain_array,
    positive_int,
    whole_number_hint,
    xy,
)
from ..init import RngLike, as_rng

__all__ = ["Standardizer", "one_hot", "standardize", "train_test_split"]

Array = NDArray[Any]


def _integer_labels(y: object, where: str) -> NDArray[np.int64]:
    """Return ``y`` as a 1-D int64 array of class labels >= 0, else raise."""
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{where}: y must be a numpy array, got {type(y).__name__}")
    if y.dtype.kind not in "iu":
        hint = whole_number_hint(y)
        if "split" in where:  # train_test_split: labels to convert, or regression targets
            hint = (
                f"{hint} (or pass stratify=False if they are regression targets)"
                if hint
                else "; pass stratify=False for regression targets"
            )
        raise TypeError(f"{where} needs integer class labels, got y of dtype {y.dtype}{hint}")
    if y.ndim != 1:
        raise ValueError(f"{where} needs a 1-D array of labels, got shape {y.shape}")
    if y.size and y.min() < 0:
        raise ValueError(f"{where} needs class labels >= 0, got {int(y.min())}")
    return y.astype(np.int64, copy=False)


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
    X, y = xy(X, y, "train_test_split", finite=False)
    plain_array(X, "X", "train_test_split")
    plain_array(y, "y", "train_test_split")
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


def _features(X: object, where: str, name: str = "X") -> NDArray[np.float64]:
    if not isinstance(X, np.ndarray):
        raise TypeError(f"{where}: {name} must be a numpy array, got {describe(X)}")
    if isinstance(X, np.matrix):
        plain_array(X, name, where)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(
            f"{where}: {name} must be a non-empty 2-D array of shape (n, features), "
            f"got shape {X.shape}"
        )
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{where}: {name} must be a real numeric array, got dtype {X.dtype}")
    finite_array(X, name, where)
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
        with np.errstate(over="ignore", invalid="ignore"):
            std = X.std(axis=0)
            mean = X.mean(axis=0)
        if not (np.isfinite(mean).all() and np.isfinite(std).all()):
            # finite values whose sums overflow (around 1e308): the same statistics of
            # X / m, scaled back by m = max |X| per feature
            m = np.abs(X).max(axis=0)
            m = np.where(m > 0, m, 1.0)
            mean, std = (X / m).mean(axis=0) * m, (X / m).std(axis=0) * m
        self.mean = mean
        self.scale = np.where(std > 0, std, 1.0)
        return self

    def _fitted(
        self, X: Array, where: str, name: str = "X"
    ) -> tuple[Array, NDArray[np.float64], NDArray[np.float64]]:
        if self.mean is None or self.scale is None:
            raise RuntimeError(f"Standardizer.{where} called before fit(); call fit(X_train) first")
        X = _features(X, f"Standardizer.{where}", name)
        if X.shape[1] != self.mean.shape[0]:
            raise ValueError(
                f"Standardizer.{where}: {name} must have {self.mean.shape[0]} features "
                f"(as in fit), got shape {X.shape}"
            )
        return X, self.mean, self.scale

    def transform(self, X: Array) -> NDArray[np.float64]:
        r""":math:`(X - \mu)/s`, a new float64 array."""
        X, mean, scale = self._fitted(X, "transform")
        with np.errstate(over="ignore", invalid="ignore"):
            Z = (X - mean) / scale
        if not np.isfinite(Z).all():  # X - mean overflowed: divide first
            Z = X / scale - mean / scale
        return Z

    def inverse_transform(self, Z: Array) -> NDArray[np.float64]:
        r""":math:`Z s + \mu`, undoing ``transform``."""
        Z, mean, scale = self._fitted(Z, "inverse_transform", "Z")
        return Z * scale + mean

    def fit_transform(self, X: Array) -> NDArray[np.float64]:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def state_dict(self) -> dict[str, NDArray[np.float64]]:
        """``{"mean": ..., "scale": ...}`` (copies).

        Save it beside the model it feeds::

            bplib.save({"model": net.state_dict(), "scaler": scaler.state_dict()}, path)
        """
        if self.mean is None or self.scale is None:
            raise RuntimeError(
                "Standardizer.state_dict called before fit(): there is nothing to save yet"
            )
        return {"mean": self.mean.copy(), "scale": self.scale.copy()}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (e.g. ``bplib.load(path)["scaler"]``): the scaler then
        transforms as the one that was saved.

        Checked before anything changes: exactly the keys ``"mean"`` and ``"scale"``, each
        a 1-D float array of the same length (at least 1), finite, every scale > 0.
        """
        where = "Standardizer.load_state_dict"
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"mean", "scale"}:
            given = sorted(map(str, state_dict)) if isinstance(state_dict, Mapping) else None
            raise ValueError(
                f"{where} expected the keys ['mean', 'scale'], got "
                f"{given if given is not None else describe(state_dict)}"
            )
        arrays = {}
        for name in ("mean", "scale"):
            a = state_dict[name]
            if not isinstance(a, np.ndarray) or a.dtype.kind != "f" or a.ndim != 1 or a.size == 0:
                raise ValueError(
                    f"{where}: {name} must be a non-empty 1-D float array (one value per "
                    f"feature), got {describe(a)}"
                )
            arrays[name] = finite_array(a, name, where).astype(np.float64)  # a copy
        if arrays["mean"].shape != arrays["scale"].shape:
            raise ValueError(
                f"{where}: mean and scale must have one value per feature each, got "
                f"{arrays['mean'].size} and {arrays['scale'].size}"
            )
        if (arrays["scale"] <= 0).any():
            raise ValueError(
                f"{where}: every scale must be > 0 (fit gives 1 for a constant feature), got "
                f"a minimum of {arrays['scale'].min()}"
            )
        self.mean, self.scale = arrays["mean"], arrays["scale"]

    def __repr__(self) -> str:
        if self.mean is None:
            return "Standardizer(unfitted)"
        return f"Standardizer(features={self.mean.shape[0]})"


def standardize(X_train: Array, *others: Array) -> tuple[NDArray[np.float64], ...]:
    r"""Standardise ``X_train`` and every array in ``others`` with the statistics of ``X_train``.

    A shortcut for ``s = Standardizer().fit(X_train)`` followed by
    ``s.transform`` of each array; see :class:`Standardizer`.

    Examples
    --------
    >>> X_train_s, X_test_s = standardize(X_train, X_test)  # doctest: +SKIP
    """
    s = Standardizer().fit(X_train)
    return (s.transform(X_train), *(s.transform(X) for X in others))


def one_hot(y: Array, n_classes: int | None = None) -> NDArray[np.float64]:
    r"""One-hot encode integer labels: row :math:`i` is :math:`e_{y_i}`.

    ``Y[i, c] = 1`` if ``y[i] == c`` else 0.

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
