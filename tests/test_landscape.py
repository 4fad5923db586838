"""bplib.landscape: slices through a loss surface (chapter 9)."""

from __future__ import annotations

import numpy as np
import pytest

import bplib
from bplib import landscape
from bplib.utils import parameters_to_vector, vector_to_parameters


def _xor_problem():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    net = bplib.Sequential(bplib.Linear(2, 3, rng=0), bplib.Tanh(), bplib.Linear(3, 1, rng=1))
    return net, bplib.BCEWithLogitsLoss(), X, y


def test_loss_along_a_line_hits_both_end_points_and_restores_the_model():
    net, loss, X, y = _xor_problem()
    a = parameters_to_vector(net.parameters())
    b = a + 1.0
    losses = landscape.loss_along_line(net, loss, X, y, a, b, [0.0, 0.5, 1.0])
    assert losses[0] == loss(net(X), y)
    vector_to_parameters(b, net.parameters())
    assert losses[2] == pytest.approx(loss(net(X), y), rel=1e-14)
    vector_to_parameters(a, net.parameters())
    losses_again = landscape.loss_along_line(net, loss, X, y, a, b, [0.0])
    assert losses_again[0] == losses[0]  # the model was restored after the first call


def test_loss_on_a_plane_is_laid_out_for_contour_and_centred():
    net, loss, X, y = _xor_problem()
    c = parameters_to_vector(net.parameters())
    rng = np.random.default_rng(0)
    d1, d2 = rng.standard_normal(c.size), rng.standard_normal(c.size)
    grid = landscape.loss_on_plane(net, loss, X, y, c, d1, d2, [-1.0, 0.0, 1.0], [0.0, 2.0])
    assert grid.shape == (2, 3)  # (len(betas), len(alphas))
    assert grid[0, 1] == loss(net(X), y)
    vector_to_parameters(c + 1.0 * d1 + 2.0 * d2, net.parameters())
    assert grid[1, 2] == pytest.approx(loss(net(X), y), rel=1e-14)
    with pytest.raises(ValueError, match=r"d2 must be a parameter vector of shape \(13,\)"):
        landscape.loss_on_plane(net, loss, X, y, c, d1, d2[:3], [0.0], [0.0])
    with pytest.raises(ValueError, match="alphas must be a non-empty 1-D sequence"):
        landscape.loss_on_plane(net, loss, X, y, c, d1, d2, [], [0.0])


def test_landscape_names_the_argument_that_is_wrong():
    model = bplib.Sequential(bplib.Linear(3, 2, rng=0))
    loss, X, y = bplib.CrossEntropyLoss(), np.ones((4, 3)), np.zeros(4, dtype=np.int64)
    theta = bplib.utils.parameters_to_vector(model.parameters())
    bad = theta.copy()
    bad[0] = np.nan
    with pytest.raises(ValueError, match="end must be finite, got 1 NaN"):
        bplib.landscape.loss_along_line(model, loss, X, y, theta, bad, [0.0, 1.0])
    with pytest.raises(TypeError, match="start must be a real numeric array, got dtype complex128"):
        bplib.landscape.loss_along_line(model, loss, X, y, theta + 0j, theta, [0.0])
    with pytest.raises(ValueError, match="loss_along_line: X contains 1 NaN"):
        bplib.landscape.loss_along_line(
            model, loss, np.array([[1.0, np.nan, 1.0]]), y[:1], theta, theta, [0.0]
        )
