"""Every layer and loss: analytic gradients against central finite differences (float64)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import bplib
from bplib.gradcheck import numerical_gradient

from .helpers import (
    ACTIVATIONS,
    FLOOR,
    activation_factories,
    away_from_kinks,
    checked_error,
    min_abs_preactivation,
    module_gradient_errors,
)

TOL = 1e-7
sizes = st.integers(min_value=1, max_value=6)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
property_test = settings(max_examples=25, deadline=None)


@property_test
@given(batch=sizes, n_in=sizes, n_out=sizes, bias=st.booleans(), seed=seeds)
def test_linear_gradients_match_finite_differences(batch, n_in, n_out, bias, seed):
    rng = np.random.default_rng(seed)
    layer = bplib.Linear(n_in, n_out, bias=bias, rng=rng)
    if bias:
        layer.bias.data[:] = rng.standard_normal(n_out)  # zero bias would hide a bias bug
    errors = module_gradient_errors(layer, rng.standard_normal((batch, n_in)), seed)
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@property_test
@given(batch=sizes, width=sizes, seed=seeds)
def test_activation_gradients_match_finite_differences(name, batch, width, seed):
    x = away_from_kinks(3 * np.random.default_rng(seed).standard_normal((batch, width)))
    errors = module_gradient_errors(activation_factories()[name](), x, seed)
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@property_test
@given(depth=st.integers(1, 3), width=sizes, seed=seeds)
def test_sequential_gradients_match_finite_differences(name, depth, width, seed):
    rng = np.random.default_rng(seed)
    layers: list[bplib.Module] = []
    n_in = 3
    make = activation_factories()[name]
    for _ in range(depth):
        layers += [bplib.Linear(n_in, width, rng=rng), make()]
        n_in = width
    net = bplib.Sequential(*layers, bplib.Linear(n_in, 2, rng=rng))
    x = rng.standard_normal((4, 3))
    if type(make()).sign_gated:  # (leaky) ReLU's kink: a nudge of 1e-6 must not cross it
        assume(min_abs_preactivation(net, x) > 1e-4)
    errors = module_gradient_errors(net, x, seed)
    assert max(errors.values()) < TOL, errors


def _loss_gradient_error(loss_fn, pred, target) -> float:
    pred = pred.copy()
    loss_fn(pred, target)
    analytic = loss_fn.backward().copy()
    numeric = numerical_gradient(lambda: loss_fn(pred, target), pred)
    # the loss is computed from numbers as large as the predictions: see tests/helpers.py
    return checked_error(analytic, numeric, floor=FLOOR * max(1.0, float(np.abs(pred).max())))


@property_test
@given(batch=sizes, width=sizes, reduction=st.sampled_from(["mean", "sum"]), seed=seeds)
def test_mse_gradient_matches_finite_differences(batch, width, reduction, seed):
    rng = np.random.default_rng(seed)
    pred, target = rng.standard_normal((2, batch, width))
    assert _loss_gradient_error(bplib.MSELoss(reduction), pred, target) < TOL


@property_test
@given(batch=sizes, classes=st.integers(2, 6), scale=st.sampled_from([0.1, 1.0, 10.0]), seed=seeds)
def test_cross_entropy_gradient_matches_finite_differences(batch, classes, scale, seed):
    rng = np.random.default_rng(seed)
    logits = scale * rng.standard_normal((batch, classes))
    labels = rng.integers(0, classes, batch)
    assert _loss_gradient_error(bplib.CrossEntropyLoss(), logits, labels) < TOL


@property_test
@given(batch=sizes, width=sizes, seed=seeds)
def test_bce_with_logits_gradient_matches_finite_differences(batch, width, seed):
    rng = np.random.default_rng(seed)
    logits = 3 * rng.standard_normal((batch, width))
    target = rng.uniform(0, 1, (batch, width))
    assert _loss_gradient_error(bplib.BCEWithLogitsLoss(), logits, target) < TOL


def test_gradcheck_passes_a_correct_network():
    rng = np.random.default_rng(0)
    net = bplib.Sequential(bplib.Linear(3, 5, rng=rng), bplib.Tanh(), bplib.Linear(5, 4, rng=rng))
    report = bplib.gradcheck(
        net, bplib.CrossEntropyLoss(), rng.standard_normal((6, 3)), rng.integers(0, 4, 6)
    )
    assert report.ok
    assert set(report.errors) == {"0.weight", "0.bias", "2.weight", "2.bias", "input"}


def test_gradcheck_catches_a_wrong_backward():
    class WrongTanh(bplib.Tanh):
        def derivative(self, z, a):  # forgets the square: 1 - a instead of 1 - a**2
            return 1 - a

    rng = np.random.default_rng(1)
    net = bplib.Sequential(bplib.Linear(3, 4, rng=rng), WrongTanh(), bplib.Linear(4, 1, rng=rng))
    report = bplib.gradcheck(
        net, bplib.MSELoss(), rng.standard_normal((5, 3)), rng.standard_normal((5, 1))
    )
    assert not report.ok
    assert report.errors["0.weight"] > 1e-2
    assert report.errors["2.weight"] < TOL  # the layer above the bug is still right
    assert "FAILED" in repr(report)


def test_backward_accumulates_into_grad_like_pytorch():
    rng = np.random.default_rng(2)
    layer = bplib.Linear(3, 2, rng=rng)
    x, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    layer(x)
    layer.backward(g)
    once = layer.weight.grad.copy()
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, 2 * once)
    layer.zero_grad()
    assert not layer.weight.grad.any() and not layer.bias.grad.any()


def _linear_and_batch(seed: int = 4):
    rng = np.random.default_rng(seed)
    layer = bplib.Linear(3, 2, rng=rng)
    x, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    return layer, x, g


def test_the_fast_twin_writes_in_place_only_while_the_gradient_is_known_zero():
    layer, x, g = _linear_and_batch()
    expected = x.T @ g
    array = layer.weight.grad
    layer.zero_grad()
    layer(x)
    layer.backward(g)  # zeroed: the product is written straight into .grad (bplib.fast)
    assert layer.weight.grad is array  # no new array: updated in place
    np.testing.assert_array_equal(layer.weight.grad, expected)
    layer.backward(g)  # no zero_grad in between: added, as PyTorch accumulates
    np.testing.assert_allclose(layer.weight.grad, 2 * expected, rtol=1e-15)
    layer.zero_grad()
    layer.backward(g)
    np.testing.assert_array_equal(layer.weight.grad, expected)


def test_zero_grad_writes_zeros_into_the_array_an_earlier_reader_holds():
    layer, x, g = _linear_and_batch()
    layer(x)
    layer.backward(g)
    held, bias_row = layer.weight.grad, layer.bias.grad[:1]  # an array and a view of one
    layer.zero_grad()
    assert not held.any() and not bias_row.any()
    assert not layer.weight.grad.any() and not layer.bias.grad.any()
    layer.zero_grad()
    layer.backward_to_parameters(g)  # written straight into the arrays: exactly the products
    np.testing.assert_array_equal(layer.weight.grad, x.T @ g)
    np.testing.assert_array_equal(layer.bias.grad, g.sum(axis=0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_fast_twin_gives_the_plain_methods_numbers_bit_for_bit(dtype):
    """bplib.fast's Linear.backward_to_parameters against the method as the book prints it
    (``__wrapped__``: the same method without the boundary), fresh and accumulating."""
    rng = np.random.default_rng(11)
    fast_layer = bplib.Linear(37, 23, rng=1, dtype=dtype)
    plain_layer = bplib.Linear(37, 23, rng=1, dtype=dtype)
    plain = bplib.Linear.backward_to_parameters.__wrapped__
    for zero in (True, False, True):
        x = rng.standard_normal((16, 37)).astype(dtype)
        g = rng.standard_normal((16, 23)).astype(dtype)
        if zero:
            fast_layer.zero_grad()
            plain_layer.zero_grad()
        fast_layer(x)
        plain_layer(x)
        fast_layer.backward_to_parameters(g)
        plain(plain_layer, g)
        for p, q in zip(fast_layer.parameters(), plain_layer.parameters(), strict=True):
            np.testing.assert_array_equal(p.grad, q.grad)


def test_an_optimiser_step_after_zero_grad_without_backward_moves_nothing():
    layer, x, g = _linear_and_batch()
    layer(x)
    layer.backward(g)
    layer.zero_grad()
    before = [p.data.copy() for p in layer.parameters()]
    bplib.optim.SGD(layer.parameters(), lr=0.1).step()
    for p, old in zip(layer.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, old)


@pytest.mark.parametrize(
    "write",
    [
        lambda p: p.grad.__iadd__(1.0),  # p.grad += 1, through the array it hands out
        lambda p: p.grad.__setitem__(..., 1.0),  # p.grad[...] = 1
        lambda p: setattr(p, "grad", np.ones_like(p.data)),  # p.grad = ...
    ],
    ids=["iadd", "setitem", "assign"],
)
def test_a_gradient_written_after_zero_grad_is_added_to_not_overwritten(write):
    layer, x, g = _linear_and_batch()
    layer(x)
    layer.zero_grad()
    write(layer.weight)  # e.g. a penalty's gradient, added before backward
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, x.T @ g + 1.0, rtol=1e-15)


def test_tied_weights_sum_both_uses_after_zero_grad():
    rng = np.random.default_rng(5)
    first, second = bplib.Linear(3, 3, rng=rng), bplib.Linear(3, 3, rng=rng)
    second.weight = first.weight
    net = bplib.Sequential(first, bplib.Tanh(), second)
    x, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    net.zero_grad()
    h = np.tanh(net[0](x))
    net(x)
    net.backward(g)
    delta = (g @ first.weight.data.T) * (1 - h * h)
    np.testing.assert_allclose(first.weight.grad, x.T @ delta + h.T @ g, rtol=1e-12)


def test_backward_to_parameters_gives_the_same_gradients_as_backward():
    rng = np.random.default_rng(3)
    net = bplib.Sequential(bplib.Linear(3, 4, rng=rng), bplib.ReLU(), bplib.Linear(4, 2, rng=rng))
    x, g = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    net(x)
    net.backward(g)
    full = [p.grad.copy() for p in net.parameters()]
    net.zero_grad()
    net(x)
    assert net.backward_to_parameters(g) is None
    for p, expected in zip(net.parameters(), full, strict=True):
        np.testing.assert_array_equal(p.grad, expected)


def test_a_chain_run_module_by_module_backpropagates_as_a_whole():
    """Chapter 3 runs each layer of a Sequential by hand, then model.backward(...): the
    chain's own forward never ran, so each module checks the gradient it is handed."""
    rng = np.random.default_rng(5)
    net = bplib.Sequential(bplib.Linear(3, 4, rng=0), bplib.Tanh(), bplib.Linear(4, 2, rng=1))
    x, g = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    whole = net(x)
    dx_whole = net.backward(g)
    grads = [p.grad.copy() for p in net.parameters()]
    net.zero_grad()
    out = x
    for m in net:
        out = m(out)
    np.testing.assert_array_equal(out, whole)
    np.testing.assert_array_equal(net.backward(g), dx_whole)
    for p, expected in zip(net.parameters(), grads, strict=True):
        np.testing.assert_array_equal(p.grad, expected)
    with pytest.raises(ValueError, match=r"expected a gradient of shape \(5, 2\)"):
        net.backward(g[:, :1])  # the last module refuses what the chain was handed
