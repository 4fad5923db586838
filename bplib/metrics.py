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

from ._checks import describe, positive_int

__all__ = ["METRICS", "Metric", "accuracy", "confusion_matrix"]

Metric = Callable[[NDArray[Any], NDArray[Any]], float]
"""The signature of every metric, ``metric(outputs, targets) -> float``."""


def _labels_from_outputs(out: NDArray[Any]) -> NDArray[np.int64]:
    """Class labels from logits: arg-max of several columns, ``logit > 0`` for one column."""
    if not isinstance(out, np.ndarray) or isinstance(out, np.matrix) or out.dtype.kind != "f":
        raise TypeError(f"expected model outputs as a floating numpy array, got {describe(out)}")
    if out.ndim != 2:
        raise ValueError(f"expected model outputs of shape (batch, outputs), got {out.shape}")
    if out.shape[1] == 1:
        return (out[:, 0] > 0).astype(np.int64)
    return out.argmax(axis=1).astype(np.int64)


def _labels_from_targets(y: object, n_outputs: int) -> NDArray[np.int64]:
    """Class labels from targets that fit ``n_outputs`` logits: integer labels (n,) in
    0 .. classes - 1, 0/1 targets (n, 1) for one logit, or one-hot rows (n, classes)."""
    where = "accuracy"
    if not isinstance(y, np.ndarray) or isinstance(y, np.matrix) or y.dtype.kind not in "biuf":
        raise TypeError(f"{where}: y must be a numpy array of labels or targets, got {describe(y)}")
    classes = max(n_outputs, 2)  # one logit: two classes
    if y.ndim == 1 and y.dtype.kind in "biu":
        labels = y.astype(np.int64, copy=False)
    elif y.ndim == 2 and y.shape[1] == n_outputs:
        if not np.isfinite(y).all() or y.min() < 0 or y.max() > 1:
            raise ValueError(
                f"{where}: y as targets of shape {y.shape} must hold values in [0, 1] "
                f"(0/1 or one-hot), got values from {y.min()} to {y.max()}"
            )
        picked = (y[:, 0] >= 0.5) if n_outputs == 1 else y.argmax(axis=1)
        return np.asarray(picked, dtype=np.int64)
    else:
        hint = " (pass labels as shape (n,): y.ravel())" if y.ndim == 2 and y.shape[1] == 1 else ""
        raise ValueError(
            f"{where}: for model outputs with {n_outputs} column(s), y must be integer labels "
            f"of shape (n,)"
            + (
                ", or 0/1 targets of shape (n, 1)"
                if n_outputs == 1
                else f", or one-hot rows of shape (n, {n_outputs})"
            )
            + f"; got {describe(y)}{hint}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            f"{where}: y must hold labels in 0..{classes - 1} for {n_outputs} output "
            f"column(s), got values from {labels.min()} to {labels.max()}"
        )
    return labels


def accuracy(outputs: NDArray[Any], y: NDArray[Any]) -> float:
    r"""Fraction of examples whose predicted class is the true class (chapter 6).

    .. math:: \text{accuracy} = \frac1N \sum_n [\hat c_n = c_n]

    ``outputs`` are the model's logits (see the module docstring for how a class is
    read off them); ``y`` holds integer labels (n,), 0/1 targets of shape (n, 1) for a
    one-logit model or one-hot rows. Labels outside the classes the outputs can express,
    NaN outputs and an empty batch are refused.
    """
    predicted = _labels_from_outputs(outputs)
    if len(outputs) == 0:
        raise ValueError(f"accuracy: got an empty batch: outputs of shape {outputs.shape}")
    if not np.isfinite(outputs).all():
        raise ValueError("accuracy: outputs must be finite, got NaN or infinity in the logits")
    true = _labels_from_targets(y, outputs.shape[1])
    if predicted.shape != true.shape:
        raise ValueError(
            f"accuracy: outputs and y must have one row per example, got outputs with "
            f"{predicted.shape[0]} rows (shape {outputs.shape}) and y with {true.shape[0]} "
            f"labels (shape {np.shape(y)})"
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
    y_true, y_pred = y_true.astype(np.int64), y_pred.astype(np.int64)  # uint8 labels too
    seen = int(max(y_true.max(initial=-1), y_pred.max(initial=-1))) + 1
    k = seen if n_classes is None else positive_int(n_classes, "n_classes", "confusion_matrix")
    if k < seen:
        raise ValueError(f"confusion_matrix: n_classes={n_classes} but a label {seen - 1} occurs")
    C = np.zeros((k, k), dtype=np.int64)
    np.add.at(C, (y_true, y_pred), 1)
    return C
