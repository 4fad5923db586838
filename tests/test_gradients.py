"""Cross-cutting: every layer and loss, analytic gradients against central finite
differences (float64).

One file, not one per module: its tables span layers, module (Sequential) and losses, and
``test_layers`` runs them on an activation added the documented way.
"""

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
