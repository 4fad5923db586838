"""Flatten, count_parameters, summary, predict_proba and manual_seed."""

from __future__ import annotations

import numpy as np
import pytest

import bplib
from bplib import init


@pytest.fixture(autouse=True)
def unseeded():
    """Each test starts and ends with rng=None meaning fresh entropy."""
    bplib.manual_seed(None)
    yield
    bplib.manual_seed(None)


def digits_net() -> bplib.Sequential:
    return bplib.Sequential(
        bplib.Flatten(), bplib.Linear(64, 16, rng=0), bplib.ReLU(), bplib.Linear(16, 10, rng=1)
    )


# ---------------------------------------------------------------------------- Flatten
def test_flatten_feeds_images_to_linear_and_reshapes_the_gradient_back():
    X = np.random.default_rng(0).normal(size=(5, 8, 8))
    flat = bplib.Flatten()
    out = flat(X)
    assert out.shape == (5, 64)
    np.testing.assert_array_equal(out, X.reshape(5, 64))
    grad = np.arange(5 * 64, dtype=float).reshape(5, 64)
    np.testing.assert_array_equal(flat.backward(grad), grad.reshape(5, 8, 8))


def test_a_network_with_flatten_passes_gradcheck():
    X = np.random.default_rng(1).normal(size=(4, 2, 3))
    net = bplib.Sequential(bplib.Flatten(), bplib.Linear(6, 3, rng=0), bplib.Tanh())
    report = bplib.gradcheck(net, bplib.MSELoss(), X, np.zeros((4, 3)))
    assert report.ok, report


@pytest.mark.parametrize("bad", [np.zeros(3), [[1.0, 2.0]]])
def test_flatten_rejects_what_has_no_batch_axis(bad):
    with pytest.raises(ValueError, match=r"Flatten expected an array of shape \(batch, \.\.\.\)"):
        bplib.Flatten()(bad)


def test_flatten_backward_before_forward_and_a_wrong_gradient_shape_are_errors():
    flat = bplib.Flatten()
    with pytest.raises(RuntimeError):
        flat.backward(np.zeros((2, 4)))
    flat(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"expected a gradient of shape \(2, 4\)"):
        flat.backward(np.zeros((2, 5)))


# ---------------------------------------------------------------------------- counting
def test_count_parameters_is_in_times_out_plus_out_per_linear_layer():
    assert bplib.count_parameters(digits_net()) == (64 * 16 + 16) + (16 * 10 + 10)
    assert bplib.count_parameters(bplib.Linear(3, 2, bias=False, rng=0)) == 6
    assert bplib.count_parameters(bplib.Tanh()) == 0


def test_summary_lists_each_layer_its_output_shape_and_its_parameters():
    text = bplib.summary(digits_net(), (32, 8, 8))
    lines = text.splitlines()
    assert lines[0].split() == ["#", "layer", "output", "shape", "parameters"]
    assert [line.split("  ")[0] for line in lines[2:6]] == ["0", "1", "2", "3"]
    assert "(32, 64)" in lines[2] and lines[2].endswith(" 0")
    assert "(32, 16)" in lines[3] and lines[3].endswith("1,040")
    assert "(32, 10)" in lines[5] and lines[5].endswith("170")
    assert lines[-1] == "total: 1,210 parameters"


def test_summary_without_an_input_shape_leaves_the_shapes_out_and_touches_nothing():
    net = digits_net()
    before = [p.data.copy() for p in net.parameters()]
    assert "output shape" not in bplib.summary(net)
    bplib.summary(net, (2, 8, 8))
    with pytest.raises(RuntimeError):  # summary ran a copy: net itself has no forward cache
        net.backward(np.zeros((2, 10)))
    for p, b in zip(net.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, b)


@pytest.mark.parametrize("shape", [(0, 64), (2.0, 64), [2, 64], ()])
def test_summary_rejects_an_input_shape_that_is_not_positive_ints(shape):
    with pytest.raises(ValueError, match="input_shape must be a tuple of positive ints"):
        bplib.summary(digits_net(), shape)


# ---------------------------------------------------------------------------- predict_proba
def test_predict_proba_is_the_softmax_of_the_logits_and_agrees_with_predict_classes():
    net = digits_net()
    X = np.random.default_rng(2).normal(size=(7, 8, 8))
    proba = bplib.predict_proba(net, X)
    logits = net(X)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(proba, expected, rtol=1e-12)
    np.testing.assert_array_equal(proba.argmax(1), bplib.train.predict_classes(net, X))


def test_predict_proba_of_a_one_output_model_has_two_columns():
    net = bplib.Linear(2, 1, rng=0)
    X = np.random.default_rng(3).normal(size=(6, 2))
    proba = bplib.predict_proba(net, X)
    p = 1 / (1 + np.exp(-net(X)[:, 0]))
    np.testing.assert_allclose(proba, np.stack([1 - p, p], axis=1), rtol=1e-12)
    np.testing.assert_array_equal(proba.argmax(1), bplib.train.predict_classes(net, X))


# ---------------------------------------------------------------------------- seeding
def test_manual_seed_makes_unseeded_layers_repeatable():
    bplib.manual_seed(0)
    first = bplib.Linear(4, 3).weight.data.copy()
    bplib.manual_seed(0)
    np.testing.assert_array_equal(bplib.Linear(4, 3).weight.data, first)


def test_without_manual_seed_unseeded_layers_differ():
    assert not np.array_equal(bplib.Linear(4, 3).weight.data, bplib.Linear(4, 3).weight.data)


def test_an_explicit_rng_ignores_and_leaves_alone_the_global_seed():
    bplib.manual_seed(0)
    a = bplib.Linear(4, 3, rng=5).weight.data
    np.testing.assert_array_equal(a, bplib.Linear(4, 3, rng=5).weight.data)
    after_explicit = bplib.Linear(4, 3).weight.data
    bplib.manual_seed(0)
    np.testing.assert_array_equal(bplib.Linear(4, 3).weight.data, after_explicit)


@pytest.mark.parametrize("seed", [1.5, "0", True])
def test_manual_seed_rejects_what_is_not_an_int(seed):
    with pytest.raises(TypeError, match="manual_seed expected an int seed or None"):
        bplib.manual_seed(seed)
    assert init._global_rng is None


# ---------------------------------------------------------------------- the top-level trio
def test_predict_predict_classes_and_predict_proba_are_one_family_at_the_top_level():
    from bplib import train

    assert bplib.predict is train.predict and bplib.predict_classes is train.predict_classes
    assert {"predict", "predict_classes", "predict_proba"} <= set(bplib.__all__)
    net = digits_net()
    X = np.random.default_rng(3).normal(size=(6, 8, 8))
    logits = bplib.predict(net, X)
    np.testing.assert_array_equal(bplib.predict_classes(net, X), logits.argmax(axis=1))
    np.testing.assert_array_equal(bplib.predict_proba(net, X).argmax(axis=1), logits.argmax(axis=1))


def test_summary_is_a_string_that_displays_as_the_table():
    text = bplib.summary(digits_net(), (32, 8, 8))
    assert isinstance(text, str)
    assert repr(text) == str(text)  # a notebook shows the table, not '#  layer...\n...'
    assert text.splitlines()[-1] == "total: 1,210 parameters"


def test_float_labels_that_are_whole_numbers_get_the_astype_hint():
    with pytest.raises(
        TypeError,
        match=r"got dtype float64, shape \(2,\); its values are whole numbers: convert them with y\.astype\(int\)",
    ):
        bplib.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0.0, 2.0]))
    with pytest.raises(TypeError, match=r"got dtype float64, shape \(2,\)$"):
        bplib.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0.5, 2.0]))
