r"""Metrics: how good a classifier's outputs are (chapters 6 and 7).

Classifier outputs follow the losses: :class:`~bplib.CrossEntropyLoss` models output one
logit per class (the predicted class is the arg-max), :class:`~bplib.BCEWithLogitsLoss`
models output one logit (the predicted class is 1 where the logit is > 0, i.e.
:math:`\sigma(z) > 1/2`). :func:`bplib.train.fit` records any of these per epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._checks import describe

__all__ = ["METRICS", "Metric", "accuracy", "confusion_matrix"]

Metric = Callable[[NDArray[Any], NDArray[Any]], float]


def _labels_from_outputs(out: NDArray[Any]) -> NDArray[np.int64]:
    """Class labels from logits: arg-max of several columns, ``logit > 0`` for one column."""
    if out.ndim != 2:
        raise ValueError(f"expected model outputs of shape (batch, outputs), got {out.shape}")
    if out.shape[1] == 1:
        return (out[:, 0] > 0).astype(np.int64)
    return out.argmax(axis=1).astype(np.int64)


def _labels_from_targets(y: NDArray[Any]) -> NDArray[np.int64]:
    """Class labels from targets: integer labels (n,), 0/1 targets (n, 1) or one-hot (n, k)."""
    if y.ndim == 1 and y.dtype.kind in "iu":
        return y.astype(np.int64, copy=False)
    if y.ndim == 2 and y.shape[1] == 1:
        return (y[:, 0] >= 0.5).astype(np.int64)
    if y.ndim == 2:
        return y.argmax(axis=1).astype(np.int64)
    raise ValueError(
        "accuracy expected integer labels of shape (n,), 0/1 targets of shape (n, 1) or "
        f"one-hot targets of shape (n, classes), got dtype {y.dtype} and shape {y.shape}"
    )


def accuracy(outputs: NDArray[Any], y: NDArray[Any]) -> float:
    r"""Fraction of examples whose predicted class is the true class (chapter 6).

    .. math:: \text{accuracy} = \frac1N \sum_n [\hat c_n = c_n]

    ``outputs`` are the model's logits (see the module docstring for how a class is
    read off them); ``y`` holds integer labels, 0/1 targets of shape (n, 1) or one-hot rows.
    """
    predicted, true = _labels_from_outputs(outputs), _labels_from_targets(y)
    if predicted.shape != true.shape:
        raise ValueError(
            f"accuracy got {predicted.shape[0]} predictions and {true.shape[0]} labels"
        )
    return float(np.mean(predicted == true))


METRICS: dict[str, Metric] = {"accuracy": accuracy}
"""The metrics :func:`bplib.train.fit` and :func:`bplib.train.evaluate` know by name."""


def confusion_matrix(
    y_true: NDArray[Any], y_pred: NDArray[Any], n_classes: int | None = None
) -> NDArray[np.int64]:
    r"""Counts :math:`C_{ij}` of examples of true class :math:`i` predicted as class :math:`j`.

    Chapter 7. Rows are true classes, columns predictions, so the diagonal holds the correct
    predictions and ``C.sum(axis=1)`` the class sizes. ``n_classes`` defaults to one more
    than the largest label seen.
    """
    for name, a in (("y_true", y_true), ("y_pred", y_pred)):
        if not isinstance(a, np.ndarray) or a.dtype.kind not in "iu" or a.ndim != 1:
            raise TypeError(
                f"confusion_matrix: {name} must be a 1-D array of integer labels, got {describe(a)}"
            )
        if a.size and a.min() < 0:
            raise ValueError(f"confusion_matrix: {name} has a negative label {a.min()}")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"confusion_matrix: y_true has {y_true.size} labels but y_pred has {y_pred.size}"
        )
    seen = int(max(y_true.max(initial=-1), y_pred.max(initial=-1))) + 1
    k = seen if n_classes is None else int(n_classes)
    if k < seen:
        raise ValueError(f"confusion_matrix: n_classes={n_classes} but a label {seen - 1} occurs")
    C = np.zeros((k, k), dtype=np.int64)
    np.add.at(C, (y_true, y_pred), 1)
    return C
