"""bplib.metrics: accuracy and the confusion matrix (chapters 6 and 7)."""

from __future__ import annotations

import numpy as np
import pytest

from bplib.metrics import accuracy, confusion_matrix


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
