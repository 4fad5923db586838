"""bplib.utils: gradient clipping and parameter vectors, as torch.nn.utils."""

from __future__ import annotations

import math

import numpy as np
import pytest

import bplib
from bplib import utils

from .helpers import tiny_mlp

# ----------------------------------------------------------------------------------------
# clip_grad_norm
# ----------------------------------------------------------------------------------------


def _params_with_grads(*grads):
    params = [bplib.Parameter(np.zeros_like(g, dtype=float)) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad[...] = g
    return params


def test_clipping_rescales_to_max_norm_and_returns_the_norm_before():
    # the gradient (3, 4) has norm 5; clipping to 1 gives (3, 4) / (5 + 1e-6)
    params = _params_with_grads(np.array([3.0]), np.array([[4.0]]))
    total = utils.clip_grad_norm(params, max_norm=1.0)
    assert total == 5.0
    np.testing.assert_allclose(params[0].grad, [3 / (5 + 1e-6)], rtol=1e-15)
    np.testing.assert_allclose(params[1].grad, [[4 / (5 + 1e-6)]], rtol=1e-15)


def test_clipping_leaves_a_small_gradient_alone():
    params = _params_with_grads(np.array([0.3, 0.4]))
    assert utils.clip_grad_norm(params, max_norm=1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(params[0].grad, [0.3, 0.4])


def test_clipping_by_the_infinity_norm_uses_the_largest_magnitude():
    params = _params_with_grads(np.array([-6.0, 1.0]), np.array([2.0]))
    assert utils.clip_grad_norm(params, 3.0, norm_type=float("inf")) == 6.0
    np.testing.assert_allclose(params[0].grad, np.array([-6.0, 1.0]) * 3 / (6 + 1e-6))


def test_clipping_refuses_a_non_finite_gradient_unless_told_as_torch():
    params = _params_with_grads(np.array([np.nan, 1.0]))
    with pytest.raises(FloatingPointError, match="NaN or infinite"):
        utils.clip_grad_norm(params, 1.0)
    assert math.isnan(utils.clip_grad_norm(params, 1.0, error_if_nonfinite=False))


def test_clipping_notices_a_nan_in_any_parameter():
    params = _params_with_grads(np.array([1.0]), np.array([np.nan]), np.array([2.0]))
    with pytest.raises(FloatingPointError, match="NaN or infinite"):
        utils.clip_grad_norm(params, 1.0)


def test_clipping_a_huge_finite_gradient_does_not_overflow():
    # (3e200, 4e200) has norm 5e200; squaring its entries would overflow to inf
    params = _params_with_grads(np.array([3e200, 4e200]))
    assert utils.clip_grad_norm(params, 1.0) == pytest.approx(5e200, rel=1e-15)
    np.testing.assert_allclose(params[0].grad, [0.6, 0.8], rtol=1e-12)


def test_clipping_an_infinite_gradient_as_torch_does_when_asked():
    # torch: coefficient max_norm / (inf + 1e-6) = 0, so finite entries become 0, inf ones NaN
    params = _params_with_grads(np.array([np.inf, 1.0]))
    assert utils.clip_grad_norm(params, 1.0, error_if_nonfinite=False) == np.inf
    assert np.isnan(params[0].grad[0]) and params[0].grad[1] == 0.0


def test_clipping_refuses_bad_arguments():
    with pytest.raises(ValueError, match="empty parameter list"):
        utils.clip_grad_norm([], 1.0)
    with pytest.raises(TypeError, match="item 0 is ndarray"):
        utils.clip_grad_norm([np.ones(2)], 1.0)
    with pytest.raises(
        ValueError, match="clip_grad_norm: max_norm must be a finite number > 0, got -1"
    ):
        utils.clip_grad_norm(_params_with_grads(np.ones(2)), -1.0)
    with pytest.raises(ValueError, match="norm_type must be positive"):
        utils.clip_grad_norm(_params_with_grads(np.ones(2)), 1.0, norm_type=0.0)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clipping_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch", reason="the PyTorch cross-check needs torch")
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    params = _params_with_grads(*grads)
    tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(tensors, grads, strict=True):
        t.grad = torch.tensor(g)
    expected = torch.nn.utils.clip_grad_norm_(tensors, max_norm, norm_type=norm_type)
    total = utils.clip_grad_norm(params, max_norm, norm_type=norm_type)
    assert total == pytest.approx(float(expected), rel=1e-12)
    for p, t in zip(params, tensors, strict=True):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)


# ----------------------------------------------------------------------------------------
# parameter vectors
# ----------------------------------------------------------------------------------------


def _xor_problem():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    net = bplib.Sequential(bplib.Linear(2, 3, rng=0), bplib.Tanh(), bplib.Linear(3, 1, rng=1))
    return net, bplib.BCEWithLogitsLoss(), X, y


def test_parameter_vectors_round_trip():
    net, *_ = _xor_problem()
    theta = utils.parameters_to_vector(net.parameters())
    assert theta.shape == (2 * 3 + 3 + 3 * 1 + 1,)
    utils.vector_to_parameters(theta * 2, net.parameters())
    np.testing.assert_array_equal(utils.parameters_to_vector(net.parameters()), theta * 2)
    with pytest.raises(
        ValueError, match=r"vector of shape \(13,\).*got dtype float64, shape \(12,\)"
    ):
        utils.vector_to_parameters(theta[:-1], net.parameters())


def test_utils_refuse_what_numpy_would_have_refused_in_its_own_words():
    p = bplib.Parameter(np.ones(3), "w")
    with pytest.raises(TypeError, match=r"norm_type must be a number .*got str '2'"):
        bplib.utils.clip_grad_norm([p], 1.0, norm_type="2")
    with pytest.raises(TypeError, match="clip_grad_norm: max_norm must be a real number, got True"):
        bplib.utils.clip_grad_norm([p], True)
    with pytest.raises(TypeError, match="vector must be a real numeric array, got dtype complex"):
        bplib.utils.vector_to_parameters(np.ones(3, complex), [p])
    np.testing.assert_array_equal(p.data, 1.0)


def test_vector_to_parameters_is_all_or_nothing():
    net = tiny_mlp()
    params = net.parameters()
    before = utils.parameters_to_vector(params)
    params[-1].data.flags.writeable = False
    with pytest.raises(ValueError, match=r"parameter 3 \(bias\) is a read-only array"):
        utils.vector_to_parameters(np.zeros_like(before), params)
    np.testing.assert_array_equal(utils.parameters_to_vector(params), before)
    params[-1].data.flags.writeable = True
    hidden = np.ma.masked_array(np.zeros_like(before), mask=False)
    with pytest.raises(TypeError, match="masked array"):
        utils.vector_to_parameters(hidden, params)


def test_update_to_data_ratios_measure_the_last_step() -> None:
    model = bplib.Sequential(bplib.Linear(4, 3, rng=0), bplib.LayerNorm(3))
    before = [p.data.copy() for p in model.parameters()]
    model[0].weight.data += 0.01 * np.arange(12).reshape(4, 3)
    model[1].weight.data += 0.5  # std 0: divided by the mean magnitude instead
    ratios = bplib.utils.update_to_data_ratios(model, before)
    names = [n for n, _ in model.named_parameters()]
    assert list(ratios) == names
    w = model[0].weight.data
    assert ratios[names[0]] == pytest.approx(np.std(0.01 * np.arange(12)) / np.std(w))
    assert ratios[names[1]] == 0.0  # untouched
    assert ratios[names[2]] == 0.0  # moved by a constant: the update's std is 0
