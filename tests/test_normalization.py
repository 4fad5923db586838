"""bplib.normalization: BatchNorm1d and LayerNorm (chapter 10)."""

from __future__ import annotations

import numpy as np
import pytest

import bplib

from .helpers import assert_close, fd_errors, random_affine, t, torch


def test_batchnorm_refuses_an_overflowing_variance_before_updating_its_buffers():
    bn = bplib.BatchNorm1d(2)
    x = np.array([[1e155, 0.0], [-1e155, 1.0], [0.0, 2.0]])
    with pytest.raises(FloatingPointError, match="variance"):
        bn(x)
    np.testing.assert_array_equal(bn.running_mean, [0.0, 0.0])
    np.testing.assert_array_equal(bn.running_var, [1.0, 1.0])


def test_batchnorm_passes_a_nan_on_but_keeps_it_out_of_its_buffers():
    bn = bplib.BatchNorm1d(2)
    x = np.array([[np.nan, 0.0], [1.0, 1.0], [0.0, 2.0]])
    assert np.isnan(bn(x)).any()
    np.testing.assert_array_equal(bn.running_mean, [0.0, 0.0])
    np.testing.assert_array_equal(bn.running_var, [1.0, 1.0])


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
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("seed", SEEDS)
def test_batchnorm_gradients_match_finite_differences(seed, affine, training):
    rng = np.random.default_rng(seed)
    bn = random_affine(bplib.BatchNorm1d(3, affine=affine), rng)
    bn.running_mean[:] = rng.standard_normal(3)
    bn.running_var[:] = rng.uniform(0.5, 2, 3)
    bn.train(training)
    x = rng.standard_normal((5, 3)) * 2 + 1
    errors = fd_errors(bn, x, seed)
    assert set(errors) == ({"input", "weight", "bias"} if affine else {"input"})
    assert max(errors.values()) < FD_TOL, errors


@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, False)])
@pytest.mark.parametrize("seed", SEEDS)
def test_layernorm_gradients_match_finite_differences(seed, affine):
    rng = np.random.default_rng(seed)
    ln = bplib.LayerNorm(4, elementwise_affine=affine[0], bias=affine[1])
    random_affine(ln, rng)
    for training in (True, False):
        ln.train(training)
        errors = fd_errors(ln, rng.standard_normal((3, 4)) * 3, seed)
        assert len(errors) == 1 + sum(affine)
        assert max(errors.values()) < FD_TOL, errors


@needs_torch
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("seed", SEEDS)
def test_batchnorm_matches_torch(seed, affine, training):
    rng = np.random.default_rng(seed)
    n, k = rng.integers(2, 8), rng.integers(1, 5)
    ours = random_affine(bplib.BatchNorm1d(k, eps=1e-3, momentum=0.2, affine=affine), rng)
    theirs = torch.nn.BatchNorm1d(k, eps=1e-3, momentum=0.2, affine=affine).double()
    mean, var = rng.standard_normal(k), rng.uniform(0.5, 2, k)
    ours.running_mean[:], ours.running_var[:] = mean, var
    with torch.no_grad():
        theirs.running_mean.copy_(torch.tensor(mean))
        theirs.running_var.copy_(torch.tensor(var))
        if affine:
            theirs.weight.copy_(torch.tensor(ours.weight.data))
            theirs.bias.copy_(torch.tensor(ours.bias.data))
    ours.train(training)
    theirs.train(training)
    x, g = rng.standard_normal((n, k)) * 3 - 1, rng.standard_normal((n, k))
    xt = t(x)
    out = theirs(xt)
    out.backward(torch.tensor(g))
    assert_close(ours(x), out)
    assert_close(ours.backward(g), xt.grad)
    assert_close(ours.running_mean, theirs.running_mean)
    assert_close(ours.running_var, theirs.running_var)
    if affine:
        assert_close(ours.weight.grad, theirs.weight.grad)
        assert_close(ours.bias.grad, theirs.bias.grad)


@needs_torch
@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0])
def test_batchnorm_running_statistics_follow_torch_over_many_steps(momentum):
    rng = np.random.default_rng(7)
    ours = bplib.BatchNorm1d(4, momentum=momentum)
    theirs = torch.nn.BatchNorm1d(4, momentum=momentum).double()
    for step in range(12):
        x = rng.standard_normal((2 + step % 5, 4)) * rng.uniform(0.5, 3, 4) + rng.standard_normal(4)
        ours(x)
        theirs(torch.tensor(x))
        assert_close(ours.running_mean, theirs.running_mean)
        assert_close(ours.running_var, theirs.running_var)
    x = rng.standard_normal((3, 4))
    assert_close(ours.eval()(x), theirs.eval()(torch.tensor(x)))


@needs_torch
@pytest.mark.parametrize("affine", [(True, True), (True, False), (False, False)])
@pytest.mark.parametrize("seed", SEEDS)
def test_layernorm_matches_torch(seed, affine):
    rng = np.random.default_rng(seed)
    n, k = rng.integers(1, 6), rng.integers(2, 7)
    ours = random_affine(bplib.LayerNorm(k, 1e-4, *affine), rng)
    theirs = torch.nn.LayerNorm(k, 1e-4, *affine).double()
    with torch.no_grad():
        for p_ours, p_theirs in zip(ours.parameters(), theirs.parameters(), strict=True):
            p_theirs.copy_(torch.tensor(p_ours.data))
    x, g = rng.standard_normal((n, k)) * 2, rng.standard_normal((n, k))
    xt = t(x)
    out = theirs(xt)
    out.backward(torch.tensor(g))
    assert_close(ours(x), out)
    assert_close(ours.backward(g), xt.grad)
    for p_ours, p_theirs in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert_close(p_ours.grad, p_theirs.grad)


def test_batchnorm_standardises_each_feature_over_the_batch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)) * [1, 10, 100] + [5, -5, 50]
    y = bplib.BatchNorm1d(3, eps=1e-12)(x)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), 1, rtol=1e-9)


def test_batchnorm_running_statistics_derived_by_hand():
    bn = bplib.BatchNorm1d(1, momentum=0.1)
    bn(np.array([[1.0], [2.0], [6.0]]))  # mean 3, unbiased variance (4 + 1 + 9) / 2 = 7
    np.testing.assert_allclose(bn.running_mean, [0.9 * 0 + 0.1 * 3], rtol=1e-15)
    np.testing.assert_allclose(bn.running_var, [0.9 * 1 + 0.1 * 7], rtol=1e-15)


def test_batchnorm_eval_mode_uses_running_statistics_and_leaves_them_alone():
    bn = bplib.BatchNorm1d(2, eps=0.0 + 1e-5).eval()
    bn.running_mean[:] = [1.0, -2.0]
    bn.running_var[:] = [4.0, 0.25]
    x = np.array([[3.0, -1.0]])  # a batch of one is fine in eval mode
    np.testing.assert_allclose(
        bn(x), [[2 / np.sqrt(4 + 1e-5), 1 / np.sqrt(0.25 + 1e-5)]], rtol=1e-15
    )
    np.testing.assert_array_equal(bn.running_mean, [1.0, -2.0])
    np.testing.assert_array_equal(bn.running_var, [4.0, 0.25])


def test_batchnorm_declares_its_buffers():
    assert bplib.Module._buffers == ()
    assert bplib.BatchNorm1d._buffers == ("running_mean", "running_var")
    bn = bplib.BatchNorm1d(3)
    for name in bn._buffers:
        assert isinstance(getattr(bn, name), np.ndarray)
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias"]


def test_layernorm_does_not_depend_on_the_rest_of_the_batch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4))
    ln = bplib.LayerNorm(4)
    np.testing.assert_allclose(ln(x)[:1], ln(x[:1]), rtol=1e-15)


@pytest.mark.parametrize("cls", [bplib.BatchNorm1d, bplib.LayerNorm])
@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_normalisation_refuses_a_bad_number_of_features(cls, n):
    name = "num_features" if cls is bplib.BatchNorm1d else "normalized_shape"
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        cls(n)


def test_layernorm_refuses_more_than_one_normalised_axis():
    with pytest.raises(ValueError, match="tuple of one int, got \\(3, 4\\)"):
        bplib.LayerNorm((3, 4))
    assert bplib.LayerNorm((3,)).normalized_shape == (3,)


@pytest.mark.parametrize("kwargs", [{"eps": 0}, {"eps": -1e-5}, {"momentum": 1.5},
                                    {"momentum": -0.1}])  # fmt: skip
def test_batchnorm_refuses_bad_eps_and_momentum(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        bplib.BatchNorm1d(3, **kwargs)


def test_batchnorm_refuses_a_batch_of_one_in_training_mode_and_changes_nothing():
    bn = bplib.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"more than 1 example per batch.*\(1, 3\)"):
        bn(np.ones((1, 3)))
    np.testing.assert_array_equal(bn.running_mean, 0)
    np.testing.assert_array_equal(bn.running_var, 1)
    assert bn.eval()(np.ones((1, 3))).shape == (1, 3)


@pytest.mark.parametrize("layer", [bplib.BatchNorm1d(3), bplib.LayerNorm(3)])
def test_normalisation_refuses_the_wrong_number_of_features(layer):
    with pytest.raises(ValueError, match=r"expected input of shape \(batch, 3\), got \(4, 2\)"):
        layer(np.ones((4, 2)))
