"""bplib.module: Module (its boundary of checks, parameters, modes, state), Sequential and ModuleList."""

from __future__ import annotations

import numpy as np
import pytest

import bplib

rng = np.random.default_rng(0)


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


@pytest.mark.parametrize(
    "layer", [bplib.Dropout(0.5, rng=0), bplib.BatchNorm1d(3), bplib.LayerNorm(3)], ids=repr
)
def test_a_refused_forward_leaves_no_cache_and_backward_checks_the_dtype(layer):
    x = rng.standard_normal((4, 3))
    layer(x)
    with pytest.raises(TypeError, match=r"dtype float64.*got dtype (float32|complex128)"):
        layer.backward(np.ones((4, 3), np.float32))
    with pytest.raises(TypeError, match=r"dtype float64.*got dtype complex128"):
        layer.backward(np.ones((4, 3), complex))
    with pytest.raises(TypeError):
        layer(x.astype(complex))
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        layer.backward(np.ones((4, 3)))  # before: the previous call's cache was used


def test_parameters_are_listed_in_layer_order_weight_before_bias():
    net = bplib.Sequential(bplib.Linear(2, 3), bplib.ReLU(), bplib.Linear(3, 1, bias=False))
    names = [name for name, _ in net.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight"]
    assert [p.shape for p in net.parameters()] == [(2, 3), (3,), (3, 1)]


def test_reprs_say_what_a_module_is():
    net = bplib.Sequential(bplib.Linear(2, 3), bplib.LeakyReLU(0.2))
    assert repr(net) == (
        "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): LeakyReLU(negative_slope=0.2)\n)"
    )
    assert repr(net[0].weight) == "Parameter(name='weight', shape=(2, 3), dtype=float64)"


def test_a_parameter_shared_by_two_layers_is_listed_once():
    first, second = bplib.Linear(3, 3, rng=0), bplib.Linear(3, 3, rng=1)
    second.weight = first.weight  # tied weights
    net = bplib.Sequential(first, bplib.Tanh(), second)
    assert [name for name, _ in net.named_parameters()] == ["0.weight", "0.bias", "2.bias"]
    assert len(net.parameters()) == 3
