"""bplib.dropout: Dropout (chapter 10)."""

from __future__ import annotations

import numpy as np
import pytest

import bplib

from .helpers import as_matrix, assert_close, fd_errors, torch


def test_dropout_refuses_a_matrix_in_its_own_words():
    with pytest.raises(TypeError, match=r"Dropout\(p=0.5\): the input must be a plain numpy array"):
        bplib.Dropout(0.5, rng=0)(as_matrix(np.ones((2, 2))))


FD_TOL = 1e-7


SEEDS = range(3)


try:
    import torch
except ImportError:  # the torch tests below skip, saying why
    torch = None


needs_torch = pytest.mark.skipif(
    torch is None, reason="PyTorch not installed: pip install torch==2.13.0"
)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("seed", SEEDS)
def test_dropout_gradients_match_finite_differences(seed, training):
    drop = bplib.Dropout(0.3).train(training)

    def same_mask():
        drop.rng = np.random.default_rng(seed)

    x = np.random.default_rng(seed).standard_normal((4, 5))
    assert fd_errors(drop, x, seed, same_mask)["input"] < FD_TOL


@needs_torch
def test_dropout_scales_like_torch():
    x = np.random.default_rng(0).uniform(1, 2, (50, 40))
    ours = bplib.Dropout(0.25, rng=0)(x)
    theirs = torch.nn.Dropout(0.25)(torch.tensor(x)).numpy()
    for y in (ours, theirs):  # each entry is dropped, or kept and scaled by 1/(1 - p)
        kept = y != 0
        np.testing.assert_allclose(y[kept], x[kept] / 0.75, rtol=1e-15)
    assert_close(bplib.Dropout(0.25).eval()(x), torch.nn.Dropout(0.25).eval()(torch.tensor(x)))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_keeps_a_fraction_one_minus_p_and_preserves_the_mean(p):
    n = 200_000
    x = np.ones((n // 100, 100))
    y = bplib.Dropout(p, rng=3)(x)
    kept = float(np.mean(y != 0))
    sigma = np.sqrt(p * (1 - p) / n)  # binomial standard error of the kept fraction
    assert abs(kept - (1 - p)) < 5 * sigma
    assert abs(y.mean() - 1) < 5 * sigma / (1 - p)
    np.testing.assert_allclose(np.unique(y), [0, 1 / (1 - p)], rtol=1e-15)


def test_dropout_backward_uses_the_forward_mask():
    drop = bplib.Dropout(0.5, rng=1)
    rng = np.random.default_rng(2)
    x, g = rng.standard_normal((6, 7)), rng.standard_normal((6, 7))
    y = drop(x)
    dx = drop.backward(g)
    np.testing.assert_array_equal(dx == 0, y == 0)
    np.testing.assert_allclose(dx[y != 0], 2 * g[y != 0], rtol=1e-15)


def test_dropout_draws_a_fresh_mask_every_pass_and_is_seeded():
    x = np.ones((10, 10))
    a = bplib.Dropout(0.5, rng=4)
    first, second = a(x), a(x)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, bplib.Dropout(0.5, rng=4)(x))


def test_dropout_is_the_identity_in_eval_mode():
    drop = bplib.Dropout(0.9, rng=0).eval()
    x, g = np.arange(12.0).reshape(3, 4), np.ones((3, 4))
    np.testing.assert_array_equal(drop(x), x)
    np.testing.assert_array_equal(drop.backward(g), g)


def test_dropout_with_p_zero_is_the_identity():
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_array_equal(bplib.Dropout(0.0)(x), x)


@pytest.mark.parametrize("p", [-0.1, 1, 1.0, 1.5, float("nan")])
def test_dropout_refuses_p_outside_zero_one(p):
    with pytest.raises(
        ValueError, match=r"Dropout: p \(the probability of dropping\) must lie in \[0, 1\), got"
    ):
        bplib.Dropout(p)


@pytest.mark.parametrize("p", [True, "0.5", None])
def test_dropout_refuses_p_that_is_not_a_number(p):
    with pytest.raises(
        TypeError, match=r"Dropout: p \(the probability of dropping\) must be a real number"
    ):
        bplib.Dropout(p)
