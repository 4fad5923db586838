"""bplib.fast: the speed twins agree with the methods the book prints (Parameter gradient bookkeeping included)."""

from __future__ import annotations

import numpy as np
import pytest

import bplib

from .helpers import (
    linear_and_batch,
)


def test_the_fast_twin_writes_in_place_only_while_the_gradient_is_known_zero():
    layer, x, g = linear_and_batch()
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


def test_zero_grad_leaves_its_zeros_pending_until_grad_is_next_taken():
    """zero_grad() only raises the flag: an array taken before keeps its values (as a tensor
    taken before PyTorch's zero_grad() does) until .grad is next taken, which writes the zeros
    into that same array; a backward in between writes its products in their place."""
    layer, x, g = linear_and_batch()
    layer(x)
    layer.backward(g)
    held, bias_row = layer.weight.grad, layer.bias.grad[:1]  # an array and a view of one
    before = held.copy()
    layer.zero_grad()
    np.testing.assert_array_equal(held, before)  # nothing written yet
    assert not layer.weight.grad.any() and not layer.bias.grad.any()  # taken: zeros
    assert not held.any() and not bias_row.any()  # in the same arrays
    layer.zero_grad()
    layer.backward_to_parameters(g)  # written straight into the arrays: exactly the products
    assert layer.weight.grad is held
    np.testing.assert_array_equal(layer.weight.grad, x.T @ g)
    np.testing.assert_array_equal(layer.bias.grad, g.sum(axis=0))


def test_a_step_without_backward_after_zero_grad_sees_zero_gradients():
    layer, x, g = linear_and_batch()
    layer(x)
    layer.backward(g)
    opt = bplib.optim.SGD(layer.parameters(), lr=0.1)
    opt.zero_grad()
    before = [p.data.copy() for p in layer.parameters()]
    opt.step()  # the pending zeros are the gradient: nothing moves
    for p, b in zip(layer.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, b)


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
    layer, x, g = linear_and_batch()
    layer(x)
    layer.zero_grad()
    write(layer.weight)  # e.g. a penalty's gradient, added before backward
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, x.T @ g + 1.0, rtol=1e-15)
