r"""Metrics: how good a model's outputs are (chapters 6 and 7).

Classifier outputs follow the losses: :class:`~bplib.CrossEntropyLoss` models output one
logit per class (the predicted class is the arg-max), :class:`~bplib.BCEWithLogitsLoss`
models output one logit (the predicted class is 1 where the logit is > 0, i.e.
:math:`\sigma(z) > 1/2`).

Two kinds of function live here. :func:`accuracy` takes ``(outputs, y)``, a model's outputs
and the targets, as :func:`bplib.train.fit` calls a metric. :func:`precision_score`,
:func:`recall_score`, :func:`f1_score`, :func:`mean_absolute_error`, :func:`r2_score` and
:func:`confusion_matrix` take ``(y_true, y_pred)``, labels or values, with scikit-learn's
names, argument order and semantics. :data:`METRICS` maps the names ``fit(metrics=[...])``
accepts to functions of ``(outputs, y)``: ``"accuracy"``; scikit-learn's scoring names
``"precision"``, ``"recall"``, ``"f1"`` (two classes, class 1 positive) and
``"precision_macro"``, ``"f1_micro"``, ``"recall_weighted"``, ... (every class); and for
regression ``"mae"`` (also ``"mean_absolute_error"``) and ``"r2"``. In those, an undefined
ratio (no example predicted or present) counts as 0, scikit-learn's value, without a
warning. ``fit`` averages a metric over the mini-batches of an epoch, weighted by their
sizes: for precision, recall, F1 and :math:`R^2`, which are not means over examples, the
training value is then close to, not equal to, the value on the whole training set; the
validation value is computed on the whole validation set at once.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._checks import describe, finite_array, is_floating, positive_int, whole_number_hint

__all__ = [
    "MAXIMISED",
    "METRICS",
    "Metric",
    "UndefinedMetricWarning",
    "accuracy",
    "confusion_matrix",
    "f1_score",
    "mean_absolute_error",
    "precision_score",
    "r2_score",
    "recall_score",
]

Metric = Callable[[NDArray[Any], NDArray[Any]], float]
"""The signature of every metric, ``metric(outputs, targets) -> float``."""


def labels_from_outputs(out: NDArray[Any]) -> NDArray[np.int64]:
    """Class labels from logits: arg-max of several columns, ``logit > 0`` for one column."""
    if not isinstance(out, np.ndarray) or isinstance(out, np.matrix) or not is_floating(out.dtype):
        raise TypeError(f"expected model outputs as a floating numpy array, got {describe(out)}")
    if out.ndim != 2:
        raise ValueError(f"expected model outputs of shape (batch, outputs), got {out.shape}")
    if out.shape[1] == 0:
        raise ValueError(
            "expected model outputs with at least one column (one logit per class, or one "
            f"for two classes), got shape {out.shape}"
        )
    if out.shape[1] == 1:
        return (out[:, 0] > 0).astype(np.int64)
    return out.argmax(axis=1).astype(np.int64)


def _labels_from_targets(y: object, n_outputs: int, where: str = "accuracy") -> NDArray[np.int64]:
    """Class labels from targets that fit ``n_outputs`` logits: integer labels (n,) in
    0 .. classes - 1, 0/1 targets (n, 1) for one logit, or one-hot rows (n, classes)."""
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
        if n_outputs == 1:
            return np.asarray(y[:, 0] >= 0.5, dtype=np.int64)
        tied = np.count_nonzero(y == y.max(axis=1, keepdims=True), axis=1) > 1
        if tied.any():  # an all-zero or multi-label row names no single class
            i = int(np.argmax(tied))
            raise ValueError(
                f"{where}: y as one-hot rows of shape {y.shape} must have one largest entry per "
                f"row (the true class), got {int(tied.sum())} row(s) without one, e.g. row {i}: "
                f"{np.array2string(y[i], threshold=8)} (an all-zero or multi-label row has no "
                "single class)"
            )
        return np.asarray(y.argmax(axis=1), dtype=np.int64)
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
    predicted = labels_from_outputs(outputs)
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


# ---------------------------------------------------------------------------------------
# Precision, recall and F1 from labels, as scikit-learn's functions
# ---------------------------------------------------------------------------------------


class UndefinedMetricWarning(UserWarning):
    """A ratio was 0/0 (no example predicted as, or belonging to, a class) and was set to
    ``zero_division`` (scikit-learn's warning of the same name)."""


_AVERAGES = ("binary", "macro", "micro", "weighted")


def _label_array(y: object, name: str, where: str) -> NDArray[np.int64]:
    """``y`` as a 1-D int64 array of class labels, or a clear error (bools count as 0/1)."""
    if not isinstance(y, np.ndarray) or isinstance(y, np.matrix):
        raise TypeError(f"{where}: {name} must be a 1-D numpy array of labels, got {describe(y)}")
    if y.dtype.kind not in "biu":
        raise TypeError(
            f"{where}: {name} must hold integer class labels, got {describe(y)}"
            + whole_number_hint(y)
        )
    if y.ndim != 1:
        raise ValueError(f"{where}: {name} must be a 1-D array of labels, got shape {y.shape}")
    return y.astype(np.int64, copy=False)


def _label_pair(
    y_true: object, y_pred: object, where: str
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    t = _label_array(y_true, "y_true", where)
    p = _label_array(y_pred, "y_pred", where)
    if t.shape != p.shape or t.size == 0:
        raise ValueError(
            f"{where}: y_true and y_pred must hold one label per example, at least one, got "
            f"{t.size} and {p.size}"
        )
    return t, p


def _zero_division(value: object, where: str) -> float | None:
    """``None`` for ``"warn"`` (0 with a warning), else 0.0, 1.0 or NaN."""
    if isinstance(value, str) and value == "warn":
        return None
    if (
        not isinstance(value, bool)
        and isinstance(value, int | float | np.integer | np.floating)
        and (value in (0, 1) or math.isnan(value))
    ):
        return float(value)
    raise ValueError(
        f"{where}: zero_division must be 'warn', 0, 1 or np.nan, got {describe(value)}"
    )


def _ratio(
    num: NDArray[np.int64],
    den: NDArray[np.int64],
    zero_division: float | None,
    what: str,
    where: str,
) -> NDArray[np.float64]:
    """``num / den`` per class; where ``den`` is 0, ``zero_division`` (0 and a warning for 'warn')."""
    undefined = den == 0
    out = np.divide(num, den, out=np.zeros(num.shape), where=~undefined)
    if undefined.any():
        if zero_division is None:
            warnings.warn(
                f"{where}: {what} is 0/0 for {int(undefined.sum())} class(es) and is set to 0.0; "
                "pass zero_division=0, 1 or np.nan to choose the value (and silence this)",
                UndefinedMetricWarning,
                stacklevel=4,
            )
        out[undefined] = 0.0 if zero_division is None else zero_division
    return out


def _precision_recall_f1(
    y_true: object,
    y_pred: object,
    average: object,
    pos_label: object,
    zero_division: object,
    which: str,
) -> float:
    """The shared work of :func:`precision_score`, :func:`recall_score` and :func:`f1_score`."""
    where = {"precision": "precision_score", "recall": "recall_score", "f1": "f1_score"}[which]
    if average not in _AVERAGES:
        raise ValueError(
            f"{where}: average must be one of {list(_AVERAGES)}, got {describe(average)}"
        )
    zd = _zero_division(zero_division, where)
    t, p = _label_pair(y_true, y_pred, where)
    present = np.union1d(t, p)
    if average == "binary":
        if isinstance(pos_label, bool) or not isinstance(pos_label, int | np.integer):
            raise TypeError(
                f"{where}: pos_label must be an integer label, got {describe(pos_label)}"
            )
        if present.size > 2:
            raise ValueError(
                f"{where}: average='binary' needs two classes, but the labels hold "
                f"{present.size} ({present.tolist()[:10]}); choose average='macro', 'micro' "
                "or 'weighted'"
            )
        if present.size == 2 and pos_label not in present:
            raise ValueError(
                f"{where}: pos_label={pos_label} is not one of the labels {present.tolist()}"
            )
        classes = np.array([int(pos_label)])
    else:
        classes = present
    # per class c: true positives, predicted as c, truly c
    tp = np.array([np.sum((t == c) & (p == c)) for c in classes], dtype=np.int64)
    predicted = np.array([np.sum(p == c) for c in classes], dtype=np.int64)
    support = np.array([np.sum(t == c) for c in classes], dtype=np.int64)
    if average == "micro":  # pool the counts of every class first
        tp, predicted, support = (
            tp.sum(keepdims=True),
            predicted.sum(keepdims=True),
            support.sum(keepdims=True),
        )
    if which == "precision":
        scores = _ratio(tp, predicted, zd, "precision (no example predicted)", where)
    elif which == "recall":
        scores = _ratio(tp, support, zd, "recall (no example of the class)", where)
    else:  # F1 = 2 tp / (2 tp + fp + fn) = 2 tp / (predicted + support)
        scores = _ratio(
            2 * tp, predicted + support, zd, "F1 (no example predicted or present)", where
        )
    if average == "weighted":
        return float(np.average(scores, weights=support))
    kept = scores[~np.isnan(scores)]  # zero_division=np.nan leaves those classes out
    return float(kept.mean()) if kept.size else math.nan


def precision_score(
    y_true: NDArray[Any],
    y_pred: NDArray[Any],
    *,
    average: str = "binary",
    pos_label: int = 1,
    zero_division: str | float = "warn",
) -> float:
    r"""Precision: of the examples predicted as a class, the fraction that belong to it.

    .. math:: P_c = \frac{TP_c}{TP_c + FP_c}

    scikit-learn's ``precision_score`` for 1-D integer labels.

    Parameters
    ----------
    y_true, y_pred : ndarray of int, shape (n,)
        True and predicted labels (e.g. from :func:`bplib.train.predict_classes`).
    average : {"binary", "macro", "micro", "weighted"}
        ``"binary"``: :math:`P` of the class ``pos_label`` (the labels may hold at most two
        classes). ``"macro"``: the plain mean of :math:`P_c` over every class that occurs in
        ``y_true`` or ``y_pred``. ``"micro"``: one ratio of the counts summed over classes
        (for single-label data, the accuracy). ``"weighted"``: the mean of :math:`P_c`
        weighted by each class's number of true examples.
    pos_label : int
        The positive class for ``average="binary"``.
    zero_division : "warn", 0, 1 or np.nan
        The value of :math:`P_c` when no example is predicted as :math:`c` (0/0).
        ``"warn"`` (scikit-learn's default) uses 0 and warns with
        :class:`UndefinedMetricWarning`; ``np.nan`` leaves the class out of the average.

    Float labels are refused (``y.astype(int)`` converts whole-number floats, as
    ``np.loadtxt`` gives them).
    """
    return _precision_recall_f1(y_true, y_pred, average, pos_label, zero_division, "precision")


def recall_score(
    y_true: NDArray[Any],
    y_pred: NDArray[Any],
    *,
    average: str = "binary",
    pos_label: int = 1,
    zero_division: str | float = "warn",
) -> float:
    r"""Recall: of the examples of a class, the fraction predicted as it.

    .. math:: R_c = \frac{TP_c}{TP_c + FN_c}

    scikit-learn's ``recall_score``; the arguments as in :func:`precision_score` (here
    0/0 means no true example of the class: with the classes taken from both arrays,
    only a class that is predicted but never present). ``average="weighted"`` recall is
    the accuracy.
    """
    return _precision_recall_f1(y_true, y_pred, average, pos_label, zero_division, "recall")


def f1_score(
    y_true: NDArray[Any],
    y_pred: NDArray[Any],
    *,
    average: str = "binary",
    pos_label: int = 1,
    zero_division: str | float = "warn",
) -> float:
    r"""F1: the harmonic mean of precision and recall.

    .. math:: F_c = \frac{2 P_c R_c}{P_c + R_c} = \frac{2\,TP_c}{2\,TP_c + FP_c + FN_c}

    scikit-learn's ``f1_score`` (version 1.3 on: the right-hand form, so 0/0 happens only
    for a class with no true and no predicted example, and then gives
    ``zero_division``); the arguments as in :func:`precision_score`. ``"macro"`` averages
    the per-class :math:`F_c`; ``"micro"`` pools the counts first.
    """
    return _precision_recall_f1(y_true, y_pred, average, pos_label, zero_division, "f1")


# ---------------------------------------------------------------------------------------
# Regression
# ---------------------------------------------------------------------------------------


def _value_pair(
    y_true: object, y_pred: object, where: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two real arrays of the same shape (n,) or (n, outputs), finite, as float64 (n, outputs)."""
    arrays = []
    for name, a in (("y_true", y_true), ("y_pred", y_pred)):
        if not isinstance(a, np.ndarray) or isinstance(a, np.matrix) or a.dtype.kind not in "biuf":
            raise TypeError(f"{where}: {name} must be a real numpy array, got {describe(a)}")
        if a.ndim not in (1, 2) or a.shape[0] == 0:
            raise ValueError(
                f"{where}: {name} must have shape (n,) or (n, outputs) with n >= 1, got {a.shape}"
            )
        arrays.append(a)
    t, p = arrays
    if t.shape != p.shape:
        raise ValueError(
            f"{where}: y_true and y_pred must have the same shape, got {t.shape} and {p.shape}"
        )
    for name, a in (("y_true", t), ("y_pred", p)):
        finite_array(a, name, where)
    t64, p64 = t.astype(np.float64), p.astype(np.float64)
    return (t64.reshape(-1, 1), p64.reshape(-1, 1)) if t.ndim == 1 else (t64, p64)


def mean_absolute_error(y_true: NDArray[Any], y_pred: NDArray[Any]) -> float:
    r"""The mean absolute error, :math:`\frac1N \sum_n |y_n - \hat y_n|`.

    scikit-learn's ``mean_absolute_error``: for targets of shape (n, outputs), the mean over
    the outputs of each output's MAE (the mean of every :math:`|y - \hat y|`). Any real
    dtype; computed in float64.
    """
    t, p = _value_pair(y_true, y_pred, "mean_absolute_error")
    return float(np.mean(np.abs(t - p)))


def r2_score(y_true: NDArray[Any], y_pred: NDArray[Any]) -> float:
    r"""The coefficient of determination, :math:`R^2 = 1 - \frac{\sum_n (y_n - \hat
    y_n)^2}{\sum_n (y_n - \bar y)^2}`.

    scikit-learn's ``r2_score``: 1 for a perfect prediction, 0 for predicting the mean
    :math:`\bar y`, negative for anything worse; for targets of shape (n, outputs), the
    plain mean of each output's :math:`R^2`. An output whose true values are all equal
    (denominator 0) scores 1 if predicted exactly and 0 otherwise (scikit-learn's
    ``force_finite=True``). Needs at least two examples.
    """
    where = "r2_score"
    t, p = _value_pair(y_true, y_pred, where)
    if len(t) < 2:
        raise ValueError(f"{where}: R^2 needs at least 2 examples, got {len(t)}")
    residual = np.sum((t - p) ** 2, axis=0)
    total = np.sum((t - t.mean(axis=0)) ** 2, axis=0)
    scores = np.where(residual == 0, 1.0, 0.0)  # the constant-target cases
    varied = total > 0
    scores[varied] = 1 - residual[varied] / total[varied]
    return float(scores.mean())


# ---------------------------------------------------------------------------------------
# The names fit(metrics=[...]) knows
# ---------------------------------------------------------------------------------------


def _classification_metric(which: str, average: str) -> Metric:
    """A metric of ``(outputs, y)`` for fit: classes read from the logits and the targets."""
    name = which if average == "binary" else f"{which}_{average}"

    def metric(outputs: NDArray[Any], y: NDArray[Any]) -> float:
        predicted = labels_from_outputs(outputs)
        true = _labels_from_targets(y, outputs.shape[1], name)
        return _precision_recall_f1(true, predicted, average, 1, 0.0, which)

    metric.__name__ = metric.__qualname__ = name
    metric.__doc__ = f"``{name}`` for fit: {which} (average={average!r}) of the predicted classes."
    return metric


def _regression_metric(
    function: Callable[[NDArray[Any], NDArray[Any]], float], name: str
) -> Metric:
    """A metric of ``(outputs, y)`` for fit; ``y`` of shape (n,) fits a one-output model."""

    def metric(outputs: NDArray[Any], y: NDArray[Any]) -> float:
        if isinstance(y, np.ndarray) and isinstance(outputs, np.ndarray):
            if y.ndim == 1 and outputs.ndim == 2 and outputs.shape[1] == 1:
                y = y.reshape(-1, 1)
        return function(y, outputs)

    metric.__name__ = metric.__qualname__ = name
    metric.__doc__ = f"``{name}`` for fit: :func:`{function.__name__}` of (y, outputs)."
    return metric


METRICS: dict[str, Metric] = {
    "accuracy": accuracy,
    **{
        (which if average == "binary" else f"{which}_{average}"): _classification_metric(
            which, average
        )
        for which in ("precision", "recall", "f1")
        for average in _AVERAGES
    },
    "mae": _regression_metric(mean_absolute_error, "mae"),
    "mean_absolute_error": _regression_metric(mean_absolute_error, "mean_absolute_error"),
    "r2": _regression_metric(r2_score, "r2"),
}
"""The metrics :func:`bplib.train.fit` and :func:`bplib.train.evaluate` know by name."""

MAXIMISED = frozenset(name for name in METRICS if name not in ("mae", "mean_absolute_error"))
"""The names in :data:`METRICS` whose values improve upwards (all but the errors)."""
