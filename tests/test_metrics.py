"""bplib.metrics: accuracy, the confusion matrix, precision, recall, F1, MAE and R^2.

scikit-learn is not a dependency: its semantics are checked against values derived here
from the counts and the definitions.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from bplib.metrics import (
    MAXIMISED,
    METRICS,
    UndefinedMetricWarning,
    accuracy,
    confusion_matrix,
    f1_score,
    mean_absolute_error,
    precision_score,
    r2_score,
    recall_score,
)


def test_accuracy_reads_labels_one_hot_rows_and_binary_targets():
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 3.0]])
    labels = np.array([0, 1, 1, 1])
    assert accuracy(logits, labels) == 0.75
    assert accuracy(logits, np.eye(2)[labels]) == 0.75
    binary = np.array([[1.0], [-1.0], [2.0], [-3.0]])
    assert accuracy(binary, np.array([[1.0], [0.0], [0.0], [0.0]])) == 0.75


def test_confusion_matrix_counts_true_rows_against_predicted_columns():
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 0, 2])
    C = confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(C, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert C.sum() == 6 and np.trace(C) == 4
    assert confusion_matrix(y_true, y_pred, n_classes=5).shape == (5, 5)


def test_confusion_matrix_errors():
    with pytest.raises(TypeError, match="y_pred must be a 1-D array of integer labels"):
        confusion_matrix(np.array([0, 1]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="y_true has 2 labels but y_pred has 3"):
        confusion_matrix(np.array([0, 1]), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="n_classes=2 but a label 2 occurs"):
        confusion_matrix(np.array([0, 2]), np.array([0, 1]), n_classes=2)


# ----------------------------------------------------------------- precision, recall and F1
# Expected values come from the counts: for each class c, TP_c (true c predicted c), the
# number predicted as c and the number truly c, counted here by a loop over the examples.

Y_TRUE = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 0, 1, 2])
Y_PRED = np.array([0, 1, 0, 1, 2, 2, 2, 0, 2, 0, 1, 1])


def counts(y_true, y_pred, classes):
    tp = {c: 0 for c in classes}
    predicted = {c: 0 for c in classes}
    support = {c: 0 for c in classes}
    for t, p in zip(y_true.tolist(), y_pred.tolist(), strict=True):
        predicted[p] = predicted.get(p, 0) + 1
        support[t] = support.get(t, 0) + 1
        if t == p:
            tp[t] += 1
    return tp, predicted, support


def per_class(y_true, y_pred):
    classes = sorted(set(y_true.tolist()) | set(y_pred.tolist()))
    tp, pred, sup = counts(y_true, y_pred, classes)
    P = {c: tp[c] / pred[c] for c in classes}
    R = {c: tp[c] / sup[c] for c in classes}
    F = {c: 2 * P[c] * R[c] / (P[c] + R[c]) for c in classes}
    return classes, P, R, F, sup


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_macro_micro_and_weighted_averages_follow_from_the_counts(dtype):
    t, p = Y_TRUE.astype(dtype), Y_PRED.astype(dtype)
    classes, P, R, F, sup = per_class(Y_TRUE, Y_PRED)
    n = len(Y_TRUE)
    for fn, score in ((precision_score, P), (recall_score, R), (f1_score, F)):
        macro = sum(score.values()) / len(classes)
        weighted = sum(score[c] * sup[c] for c in classes) / n
        assert fn(t, p, average="macro") == pytest.approx(macro, rel=1e-15)
        assert fn(t, p, average="weighted") == pytest.approx(weighted, rel=1e-15)
        # micro pools the counts: every example is predicted once and is of one class, so
        # precision = recall = F1 = the fraction correct
        assert fn(t, p, average="micro") == pytest.approx(np.mean(Y_TRUE == Y_PRED), rel=1e-15)
    assert recall_score(t, p, average="weighted") == pytest.approx(np.mean(Y_TRUE == Y_PRED))


def test_binary_scores_are_those_of_pos_label():
    y_true = np.array([1, 1, 1, 0, 0, 0, 0, 1])
    y_pred = np.array([1, 0, 1, 1, 0, 0, 1, 1])
    tp = int(np.sum((y_true == 1) & (y_pred == 1)))
    fp = int(np.sum((y_true == 0) & (y_pred == 1)))
    fn = int(np.sum((y_true == 1) & (y_pred == 0)))
    assert precision_score(y_true, y_pred) == tp / (tp + fp)
    assert recall_score(y_true, y_pred) == tp / (tp + fn)
    assert f1_score(y_true, y_pred) == pytest.approx(2 * tp / (2 * tp + fp + fn), rel=1e-15)
    # pos_label=0: the roles of the classes swap
    tn = int(np.sum((y_true == 0) & (y_pred == 0)))
    assert precision_score(y_true, y_pred, pos_label=0) == tn / (tn + fn)
    assert recall_score(y_true, y_pred, pos_label=0) == tn / (tn + fp)


def test_zero_division_warns_and_gives_zero_by_default_or_the_value_asked_for():
    y_true = np.array([0, 0, 1, 1])
    never_one = np.array([0, 0, 0, 0])  # nothing predicted as class 1: precision is 0/0
    with pytest.warns(UndefinedMetricWarning, match=r"precision .no example predicted."):
        assert precision_score(y_true, never_one) == 0.0
    assert precision_score(y_true, never_one, zero_division=1) == 1.0
    assert math.isnan(precision_score(y_true, never_one, zero_division=np.nan))
    # macro with np.nan leaves the undefined class out of the mean: only class 0 remains
    assert precision_score(y_true, never_one, average="macro", zero_division=np.nan) == 2 / 4
    assert precision_score(y_true, never_one, average="macro", zero_division=0) == (2 / 4) / 2
    # F1 is 0/0 only when a class is neither present nor predicted
    zeros = np.zeros(3, dtype=int)
    with pytest.warns(UndefinedMetricWarning, match="F1"):
        assert f1_score(zeros, zeros) == 0.0
    assert f1_score(y_true, never_one) == 0.0  # 2 TP / (2 TP + FN) = 0 / 2: defined


def test_scores_refuse_bad_arguments_by_name():
    t, p = Y_TRUE, Y_PRED
    with pytest.raises(
        ValueError, match=r"average='binary' needs two classes, but the labels hold 3"
    ):
        f1_score(t, p)
    with pytest.raises(ValueError, match=r"average must be one of .*got str 'samples'"):
        f1_score(t, p, average="samples")
    with pytest.raises(ValueError, match=r"zero_division must be 'warn', 0, 1 or np.nan, got 0.5"):
        precision_score(t, p, average="macro", zero_division=0.5)
    with pytest.raises(ValueError, match=r"pos_label=2 is not one of the labels \[0, 1\]"):
        recall_score(np.array([0, 1]), np.array([1, 1]), pos_label=2)
    with pytest.raises(
        TypeError,
        match=r"y_true must hold integer class labels, got dtype float64.*y.astype\(int\)",
    ):
        f1_score(t.astype(float), p, average="macro")
    with pytest.raises(TypeError, match=r"float64, shape \(2,\)$"):  # not whole numbers: no hint
        f1_score(np.array([0.5, 1.0]), np.array([0, 1]))
    with pytest.raises(ValueError, match="one label per example, at least one, got 12 and 11"):
        f1_score(t, p[:-1], average="macro")


# ----------------------------------------------------------------------------------- regression
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mean_absolute_error_and_r2_follow_their_definitions(dtype):
    rng = np.random.default_rng(0)
    y = rng.normal(size=(20, 3))
    pred = y + rng.normal(scale=0.3, size=y.shape)
    y, pred = y.astype(dtype), pred.astype(dtype)
    y64, p64 = y.astype(np.float64), pred.astype(np.float64)
    abs_errors = [abs(a - b) for a, b in zip(y64.ravel(), p64.ravel(), strict=True)]
    assert mean_absolute_error(y, pred) == pytest.approx(sum(abs_errors) / len(abs_errors))
    per_output = []
    for j in range(3):
        mean = sum(y64[:, j]) / 20
        ss_res = sum((y64[:, j] - p64[:, j]) ** 2)
        ss_tot = sum((y64[:, j] - mean) ** 2)
        per_output.append(1 - ss_res / ss_tot)
    assert r2_score(y, pred) == pytest.approx(sum(per_output) / 3, rel=1e-12)
    assert r2_score(y[:, 0], pred[:, 0]) == pytest.approx(per_output[0], rel=1e-12)


def test_r2_is_one_for_a_perfect_fit_zero_for_the_mean_and_handles_constant_targets():
    y = np.array([1.0, 2.0, 4.0, 7.0])
    assert r2_score(y, y) == 1.0
    assert r2_score(y, np.full(4, y.mean())) == 0.0
    constant = np.full(4, 3.0)
    assert r2_score(constant, constant) == 1.0
    assert r2_score(constant, y) == 0.0  # scikit-learn's force_finite=True


def test_regression_metrics_refuse_bad_arguments_by_name():
    with pytest.raises(ValueError, match=r"same shape, got \(3,\) and \(3, 1\)"):
        mean_absolute_error(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="R\\^2 needs at least 2 examples, got 1"):
        r2_score(np.zeros(1), np.zeros(1))
    with pytest.raises(ValueError, match="y_pred must be finite, got 1 NaN"):
        mean_absolute_error(np.zeros(2), np.array([0.0, np.nan]))
    with pytest.raises(TypeError, match="y_true must be a real numpy array, got list"):
        r2_score([1.0, 2.0], np.zeros(2))


# ------------------------------------------------------------------------- names fit knows
def test_fit_names_resolve_to_functions_of_outputs_and_targets():
    logits = np.eye(3)[Y_PRED] * 2.0 - 1.0  # arg-max = Y_PRED
    for which, fn in (("precision", precision_score), ("recall", recall_score), ("f1", f1_score)):
        for average in ("macro", "micro", "weighted"):
            expected = fn(Y_TRUE, Y_PRED, average=average)
            assert METRICS[f"{which}_{average}"](logits, Y_TRUE) == expected
            assert METRICS[f"{which}_{average}"](logits, np.eye(3)[Y_TRUE]) == expected
    one_logit = np.array([[1.0], [-1.0], [2.0], [0.5]])  # classes 1, 0, 1, 1
    y01 = np.array([[1.0], [1.0], [0.0], [1.0]])
    assert METRICS["precision"](one_logit, y01) == 2 / 3
    assert METRICS["recall"](one_logit, y01) == 2 / 3
    out = np.array([[1.0], [2.0], [3.0]])
    assert METRICS["mae"](out, np.array([1.5, 2.0, 2.0])) == pytest.approx(1.5 / 3)
    assert METRICS["r2"](out, out[:, 0]) == 1.0
    assert "mae" not in MAXIMISED and {"f1_macro", "r2", "accuracy"} <= MAXIMISED


def test_fit_records_the_new_metrics_by_name():
    import bplib
    from bplib.train import evaluate

    net = bplib.Sequential(bplib.Linear(2, 3, rng=0))
    X = np.random.default_rng(1).normal(size=(12, 2))
    result = evaluate(
        net, bplib.CrossEntropyLoss(), X, Y_TRUE, metrics=["f1_macro", "recall_micro"]
    )
    predicted = net(X).argmax(axis=1)
    assert result["f1_macro"] == f1_score(Y_TRUE, predicted, average="macro")
    assert result["recall_micro"] == pytest.approx(np.mean(predicted == Y_TRUE))
    reg = bplib.Sequential(bplib.Linear(2, 1, rng=0))
    y = X @ np.array([1.0, -2.0])
    result = evaluate(reg, bplib.MSELoss(), X, y.reshape(-1, 1), metrics=["mae", "r2"])
    assert result["mae"] == mean_absolute_error(y, reg(X)[:, 0])
    assert result["r2"] == r2_score(y, reg(X)[:, 0])
