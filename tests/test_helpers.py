"""bplib.helpers: count_parameters, summary and predict_proba, and the top-level predict trio."""

from __future__ import annotations

import numpy as np
import pytest

import bplib


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
