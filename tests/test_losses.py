"""bplib.losses: MSELoss, CrossEntropyLoss, BCEWithLogitsLoss."""

from __future__ import annotations

import numpy as np
import pytest

import bplib


def test_mse_refuses_a_target_that_would_broadcast():
    pred = np.zeros((5, 1))
    with pytest.raises(
        ValueError,
        match=r"same shape as the predictions \(5, 1\), got \(5,\).*"
        r"would broadcast.*reshape\(5, 1\)",
    ):
        bplib.MSELoss()(pred, np.zeros(5))


def test_mse_refuses_a_batch_size_mismatch():
    with pytest.raises(ValueError, match=r"predictions \(5, 2\), got \(4, 2\)"):
        bplib.MSELoss()(np.zeros((5, 2)), np.zeros((4, 2)))


def test_mse_refuses_an_unknown_reduction():
    with pytest.raises(ValueError, match="reduction must be 'mean' or 'sum', got 'avg'"):
        bplib.MSELoss("avg")


def test_cross_entropy_refuses_labels_out_of_range():
    with pytest.raises(ValueError, match=r"labels in 0\.\.2 for 3 classes, got values from 0 to 3"):
        bplib.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="got values from -1 to 1"):
        bplib.CrossEntropyLoss()(np.zeros((2, 3)), np.array([-1, 1]))


def test_cross_entropy_refuses_float_labels():
    with pytest.raises(TypeError, match=r"expected integer class labels.*got dtype float64"):
        bplib.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0.0, 1.0]))


def test_cross_entropy_refuses_one_hot_or_mismatched_labels():
    with pytest.raises(ValueError, match=r"labels of shape \(2,\).*got \(2, 3\)"):
        bplib.CrossEntropyLoss()(np.zeros((2, 3)), np.eye(3, dtype=int)[:2])
    with pytest.raises(ValueError, match=r"labels of shape \(2,\).*got \(3,\)"):
        bplib.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0, 1, 2]))


def test_bce_refuses_targets_outside_zero_one():
    with pytest.raises(ValueError, match=r"targets in \[0, 1\], got values from 0.0 to 2.0"):
        bplib.BCEWithLogitsLoss()(np.zeros((2, 1)), np.array([[0.0], [2.0]]))


def test_losses_refuse_non_finite_predictions_and_targets():
    bad = np.array([[np.nan, 0.0]])
    with pytest.raises(FloatingPointError, match=r"NaN or infinity.*smaller learning rate"):
        bplib.MSELoss()(bad, np.zeros((1, 2)))
    with pytest.raises(ValueError, match="target containing NaN or infinity"):
        bplib.MSELoss()(np.zeros((1, 2)), bad)


def test_losses_refuse_empty_batches():
    with pytest.raises(ValueError, match="empty batch"):
        bplib.CrossEntropyLoss()(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_loss_backward_before_the_loss_is_refused():
    with pytest.raises(RuntimeError, match=r"backward\(\) called before the loss was computed"):
        bplib.MSELoss().backward()


@pytest.mark.parametrize("loss", [bplib.MSELoss(), bplib.BCEWithLogitsLoss()], ids=repr)
def test_a_target_holding_both_infinities_is_refused_without_a_warning(loss):
    # inf + -inf is NaN: the check that finds the cause must not warn on the way
    target = np.array([[np.inf], [-np.inf], [0.0]])
    with pytest.raises(ValueError, match="target containing NaN or infinity"):
        loss(np.zeros((3, 1)), target)


def test_cross_entropy_is_finite_for_huge_logits():
    logits = np.array([[1e4, -1e4, 0.0], [-5e3, 5e3, 1e3]])
    loss_fn = bplib.CrossEntropyLoss()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = loss_fn(logits, np.array([1, 1]))
    # the first row is wrong by a margin of 2e4: its loss is that margin, exactly
    assert loss == pytest.approx((2e4 + 0.0) / 2)
    np.testing.assert_allclose(loss_fn.backward(), [[0.5, -0.5, 0], [0, 0, 0]], atol=1e-300)


def test_bce_with_logits_is_finite_for_huge_logits():
    loss_fn = bplib.BCEWithLogitsLoss()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = loss_fn(np.array([[1e4], [-1e4]]), np.array([[0.0], [0.0]]))
    assert loss == pytest.approx(1e4 / 2)


def test_a_perfect_cross_entropy_fit_is_zero_not_minus_zero():
    loss = bplib.CrossEntropyLoss()(np.array([[1000.0, 0.0]]), np.array([0]))
    assert loss == 0.0 and np.copysign(1.0, loss) == 1.0


def test_float_labels_that_are_whole_numbers_get_the_astype_hint():
    with pytest.raises(
        TypeError,
        match=r"got dtype float64, shape \(2,\); its values are whole numbers: convert them with y\.astype\(int\)",
    ):
        bplib.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0.0, 2.0]))
    with pytest.raises(TypeError, match=r"got dtype float64, shape \(2,\)$"):
        bplib.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0.5, 2.0]))
