"""Bad input raises an exception that names what was expected and what was given."""

from __future__ import annotations

import numpy as np
import pytest

import bplib

rng = np.random.default_rng(0)


def test_linear_rejects_wrong_feature_count():
    layer = bplib.Linear(3, 2, rng=0)
    with pytest.raises(ValueError, match=r"expected input of shape \(batch, 3\), got \(4, 5\)"):
        layer(np.ones((4, 5)))


def test_linear_rejects_a_1d_input_with_a_hint():
    with pytest.raises(ValueError, match=r"2-D array.*got 1-D array of shape \(3,\).*reshape"):
        bplib.Linear(3, 2, rng=0)(np.ones(3))


def test_linear_rejects_an_empty_batch():
    with pytest.raises(ValueError, match=r"empty batch: shape \(0, 3\)"):
        bplib.Linear(3, 2, rng=0)(np.ones((0, 3)))


def test_linear_rejects_the_other_float_precision():
    layer = bplib.Linear(3, 2, rng=0, dtype=np.float32)
    with pytest.raises(TypeError, match="dtype float32 but the input has dtype float64"):
        layer(np.ones((2, 3)))


def test_linear_rejects_a_non_array():
    with pytest.raises(TypeError, match="expected a numpy array, got list"):
        bplib.Linear(3, 2, rng=0)([[1.0, 2.0, 3.0]])


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_linear_rejects_sizes_below_one_or_not_integers(bad):
    with pytest.raises(ValueError, match=rf"in_features must be a positive integer, got {bad!r}"):
        bplib.Linear(bad, 2)
    with pytest.raises(ValueError, match=rf"out_features must be a positive integer, got {bad!r}"):
        bplib.Linear(2, bad)


def test_linear_rejects_an_unknown_init_and_dtype():
    with pytest.raises(ValueError, match=r"unknown init 'glorot'; expected one of"):
        bplib.Linear(2, 2, init="glorot")
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got int64"):
        bplib.Linear(2, 2, dtype=np.int64)
    with pytest.raises(TypeError, match=r"rng must be an int seed, a numpy.random.Generator"):
        bplib.Linear(2, 2, rng="seed")


def test_backward_before_forward_is_refused():
    for module in [bplib.Linear(2, 2, rng=0), bplib.Sigmoid(), bplib.ReLU()]:
        with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
            module.backward(np.ones((1, 2)))


def test_backward_with_a_gradient_of_the_wrong_shape_is_refused():
    layer = bplib.Linear(3, 2, rng=0)
    layer(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"expected a gradient of shape \(4, 2\).*got \(2, 4\)"):
        layer.backward(np.ones((2, 4)))
    act = bplib.Tanh()
    act(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"expected a gradient of shape \(4, 3\).*got \(4,\)"):
        act.backward(np.ones(4))


def test_sequential_refuses_a_non_module():
    with pytest.raises(TypeError, match="argument 1 is ufunc: <ufunc 'tanh'>"):
        bplib.Sequential(bplib.Linear(2, 2), np.tanh)
    with pytest.raises(TypeError, match="argument 0 is a class, not an instance"):
        bplib.Sequential(bplib.ReLU)


def test_activation_refuses_integer_input():
    with pytest.raises(TypeError, match="expected a floating numpy array, got dtype int64"):
        bplib.Sigmoid()(np.array([[1, 2]]))


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


def test_gradcheck_refuses_a_float32_model():
    net = bplib.Linear(2, 1, dtype=np.float32, rng=0)
    with pytest.raises(TypeError, match=r"needs a float64 model.*float32"):
        bplib.gradcheck(net, bplib.MSELoss(), np.ones((1, 2), np.float32), np.ones((1, 1)))
