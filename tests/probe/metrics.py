"""The probe's rows for bplib.metrics.

``ROWS``: the hand-written cases, by public name; ``SPECS``: the known-good calls whose
arguments the generated battery mutates (``common.battery``). ``table.py`` gathers them.
"""

from __future__ import annotations

import numpy as np

import bplib

from .common import (
    _LABELS,
    SAME_VALUES,
    ArrayArg,
    Case,
    NaN,
    ScalarArg,
    Spec,
    X,
    bad,
    is_int,
    matrix,
    ok,
    same,
)

OUT3 = np.array([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]])


# ------------------------------------------- issue 28: schedules, metrics, the predict trio
def _labels(*values: int) -> np.ndarray:
    return np.array(values)


ROWS: dict[str, list[Case]] = {
    "bplib.metrics.accuracy": [
        bad(
            "integer labels as an (n, 1) column against 3 outputs",
            lambda: bplib.metrics.accuracy(OUT3, np.array([[0], [2]])),
            ValueError,
            r"y must be integer labels of shape \(n,\).*got dtype int64, shape \(2, 1\) \(pass labels as shape \(n,\): y.ravel\(\)\)",
        ),
        bad(
            "a label >= the number of classes",
            lambda: bplib.metrics.accuracy(OUT3, np.array([0, 3])),
            ValueError,
            r"labels in 0..2 .* got values from 0 to 3",
        ),
        bad(
            "a negative label",
            lambda: bplib.metrics.accuracy(OUT3, np.array([-1, 1])),
            ValueError,
            r"got values from -1 to 1",
        ),
        bad(
            "one-hot of the wrong width",
            lambda: bplib.metrics.accuracy(OUT3, np.eye(4)[:2]),
            ValueError,
            r"one-hot rows of shape \(n, 3\); got dtype float64, shape \(2, 4\)",
        ),
        bad(
            "NaN outputs",
            lambda: bplib.metrics.accuracy(np.full((2, 3), NaN), np.array([0, 1])),
            ValueError,
            r"outputs must be finite, got NaN",
        ),
        bad(
            "an empty batch",
            lambda: bplib.metrics.accuracy(np.zeros((0, 3)), np.zeros(0, int)),
            ValueError,
            r"empty batch: outputs of shape \(0, 3\)",
        ),
        bad(
            "a list of labels",
            lambda: bplib.metrics.accuracy(OUT3, [0, 1]),
            TypeError,
            r"y must be a numpy array of labels or targets, got list",
        ),
        bad(
            "a list of outputs",
            lambda: bplib.metrics.accuracy(OUT3.tolist(), np.array([0, 1])),
            TypeError,
            r"model outputs as a floating numpy array, got list",
        ),
        ok("integer labels", lambda: bplib.metrics.accuracy(OUT3, np.array([0, 2])), same(0.5)),
        ok(
            "0/1 targets (n, 1) for one logit",
            lambda: bplib.metrics.accuracy(np.array([[1.0], [-1.0]]), np.array([[1], [1]])),
            same(0.5),
        ),
        ok("one-hot rows", lambda: bplib.metrics.accuracy(OUT3, np.eye(3)[[0, 1]]), same(1.0)),
    ],
    "bplib.metrics.confusion_matrix": [
        ok(
            "uint8 labels",
            lambda: bplib.metrics.confusion_matrix(
                np.array([0, 1, 1], np.uint8), np.array([0, 1, 0], np.uint8)
            ),
            same([[1, 0], [1, 1]]),
        ),
        bad(
            "n_classes=2.7",
            lambda: bplib.metrics.confusion_matrix(
                np.array([0, 1]), np.array([0, 1]), n_classes=2.7
            ),
            ValueError,
            r"n_classes must be a positive integer, got 2.7",
        ),
        bad(
            "float labels",
            lambda: bplib.metrics.confusion_matrix(np.array([0.0, 1.0]), np.array([0, 1])),
            TypeError,
            r"y_true must be a 1-D array of integer labels, got dtype float64",
        ),
        bad(
            "different lengths",
            lambda: bplib.metrics.confusion_matrix(np.array([0, 1]), np.array([0])),
            ValueError,
            r"y_true has 2 labels but y_pred has 1",
        ),
    ],
    "bplib.metrics.precision_score": [
        ok(
            "binary",
            lambda: bplib.metrics.precision_score(_labels(0, 1, 1), _labels(1, 1, 0)),
            same(0.5),
        ),
        bad(
            "float labels",
            lambda: bplib.metrics.precision_score(_labels(0, 1).astype(float), _labels(0, 1)),
            TypeError,
            r"y_true must hold integer class labels.*y.astype\(int\)",
        ),
        bad(
            "a matrix",
            lambda: bplib.metrics.precision_score(matrix([[0, 1]]), _labels(0, 1)),
            TypeError,
            r"y_true must be a 1-D numpy array of labels, got np.matrix",
        ),
    ],
    "bplib.metrics.recall_score": [
        ok(
            "macro",
            lambda: bplib.metrics.recall_score(
                _labels(0, 1, 2, 2), _labels(0, 2, 2, 2), average="macro"
            ),
            same(2 / 3),
        ),
        bad(
            "binary of 3 classes",
            lambda: bplib.metrics.recall_score(_labels(0, 1, 2), _labels(0, 1, 2)),
            ValueError,
            r"average='binary' needs two classes",
        ),
    ],
    "bplib.metrics.f1_score": [
        ok(
            "micro is the accuracy",
            lambda: bplib.metrics.f1_score(
                _labels(0, 1, 2, 2), _labels(0, 2, 2, 2), average="micro"
            ),
            same(0.75),
        ),
        bad(
            "average=None",
            lambda: bplib.metrics.f1_score(_labels(0, 1), _labels(0, 1), average=None),
            ValueError,
            r"average must be one of .*got None",
        ),
        bad(
            "empty",
            lambda: bplib.metrics.f1_score(_labels().astype(int), _labels().astype(int)),
            ValueError,
            r"at least one, got 0 and 0",
        ),
        bad(
            "2-D labels",
            lambda: bplib.metrics.f1_score(np.zeros((2, 1), int), np.zeros((2, 1), int)),
            ValueError,
            r"y_true must be a 1-D array of labels, got shape \(2, 1\)",
        ),
    ],
    "bplib.metrics.mean_absolute_error": [
        ok(
            "float32",
            lambda: bplib.metrics.mean_absolute_error(
                np.zeros(2, np.float32), np.ones(2, np.float32)
            ),
            same(1.0),
        ),
        bad(
            "infinity",
            lambda: bplib.metrics.mean_absolute_error(np.zeros(2), np.array([0.0, np.inf])),
            ValueError,
            r"y_pred must be finite, got 0 NaN and 1 infinite",
        ),
        bad(
            "3-D",
            lambda: bplib.metrics.mean_absolute_error(np.zeros((2, 1, 1)), np.zeros((2, 1, 1))),
            ValueError,
            r"y_true must have shape \(n,\) or \(n, outputs\)",
        ),
    ],
    "bplib.metrics.r2_score": [
        ok("perfect", lambda: bplib.metrics.r2_score(np.arange(3.0), np.arange(3.0)), same(1.0)),
        bad(
            "complex",
            lambda: bplib.metrics.r2_score(np.zeros(2, complex), np.zeros(2)),
            TypeError,
            r"y_true must be a real numpy array, got dtype complex128",
        ),
        bad(
            "one example",
            lambda: bplib.metrics.r2_score(np.zeros(1), np.zeros(1)),
            ValueError,
            r"R\^2 needs at least 2 examples, got 1",
        ),
    ],
    "bplib.metrics.UndefinedMetricWarning": [
        ok(
            "a UserWarning",
            lambda: issubclass(bplib.metrics.UndefinedMetricWarning, UserWarning),
            lambda v: v is True,
        ),
    ],
}

SPECS: list[Spec] = [
    Spec(
        "bplib.metrics.accuracy",
        "accuracy",
        lambda _, outputs, y: bplib.metrics.accuracy(outputs, y),
        [
            ArrayArg(
                "outputs",
                lambda: X(6, 3, seed=5),
                r"outputs",
                valid=SAME_VALUES | {"float32 dtype"},
                fixed_axes=(0,),
            ),
            ArrayArg(
                "y",
                lambda: np.array([0, 1, 2, 2, 1, 0]),
                r"\by\b|label",
                valid=_LABELS | {"bool dtype"},
                fixed_axes=(0,),
            ),
        ],
    ),
    Spec(
        "bplib.metrics.confusion_matrix",
        "confusion_matrix",
        lambda _, y_true, y_pred, n_classes: bplib.metrics.confusion_matrix(
            y_true, y_pred, n_classes
        ),
        [
            ArrayArg(
                "y_true",
                lambda: np.array([0, 1, 2, 2, 1]),
                r"y_true",
                valid=_LABELS,
                fixed_axes=(0,),
            ),
            ArrayArg(
                "y_pred",
                lambda: np.array([0, 2, 2, 1, 1]),
                r"y_pred",
                valid=_LABELS,
                fixed_axes=(0,),
            ),
            ScalarArg("n_classes", 4, is_int(3, none=True)),
        ],
    ),
]
