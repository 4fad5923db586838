"""bplib.residual: the Residual block (chapter 10)."""

from __future__ import annotations

import numpy as np
import pytest

import bplib

from .helpers import assert_close, fd_errors, random_affine, t, torch


def test_residual_refused_forward_leaves_no_cache():
    block = bplib.Residual(bplib.Linear(3, 3, rng=0))
    block(np.ones((2, 3)))
    with pytest.raises(ValueError):
        block(np.ones((2, 4)))
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        block.backward(np.ones((2, 3)))


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
def test_residual_gradients_match_finite_differences(seed, training):
    rng = np.random.default_rng(seed)
    branch = bplib.Sequential(bplib.Linear(4, 4, rng=rng), bplib.Tanh(), bplib.BatchNorm1d(4))
    block = bplib.Residual(random_affine(branch, rng)).train(training)
    errors = fd_errors(block, rng.standard_normal((6, 4)), seed)
    assert set(errors) == {"input", "module.0.weight", "module.0.bias", "module.2.weight",
                           "module.2.bias"}  # fmt: skip
    assert max(errors.values()) < FD_TOL, errors


def test_residual_backward_adds_the_identity_path():
    rng = np.random.default_rng(0)
    inner = bplib.Linear(3, 3, rng=rng)
    block = bplib.Residual(inner)
    x, g = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    np.testing.assert_allclose(block(x), x + inner(x), rtol=1e-15)
    dx = block.backward(g)
    np.testing.assert_allclose(dx, g + g @ inner.weight.data.T, rtol=1e-15)


def test_residual_backward_to_parameters_gives_the_same_gradients():
    rng = np.random.default_rng(1)
    block = bplib.Residual(bplib.Sequential(bplib.Linear(3, 3, rng=2), bplib.ReLU()))
    x, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    block(x)
    block.backward(g)
    full = [p.grad.copy() for p in block.parameters()]
    block.zero_grad()
    block(x)
    block.backward_to_parameters(g)
    for a, b in zip(full, [p.grad for p in block.parameters()], strict=True):
        np.testing.assert_array_equal(a, b)


@needs_torch
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("seed", SEEDS)
def test_residual_stack_matches_torch(seed, training):
    rng = np.random.default_rng(seed)
    n, k = 5, 3
    blocks = [
        bplib.Residual(
            bplib.Sequential(bplib.Linear(k, k, rng=rng), bplib.BatchNorm1d(k), bplib.ReLU())
        )
        for _ in range(3)
    ]
    ours = bplib.Sequential(*blocks, bplib.LayerNorm(k))
    random_affine(ours, rng)

    class TorchResidual(torch.nn.Module):
        def __init__(self, f):
            super().__init__()
            self.f = f

        def forward(self, x):
            return x + self.f(x)

    theirs = torch.nn.Sequential(
        *[
            TorchResidual(
                torch.nn.Sequential(torch.nn.Linear(k, k), torch.nn.BatchNorm1d(k), torch.nn.ReLU())
            )
            for _ in range(3)
        ],
        torch.nn.LayerNorm(k),
    ).double()
    with torch.no_grad():
        for p_ours, p_theirs in zip(ours.parameters(), theirs.parameters(), strict=True):
            data = p_ours.data.T if p_ours.data.ndim == 2 else p_ours.data
            p_theirs.copy_(torch.tensor(data))
    ours.train(training)
    theirs.train(training)
    x, g = rng.standard_normal((n, k)), rng.standard_normal((n, k))
    xt = t(x)
    out = theirs(xt)
    out.backward(torch.tensor(g))
    assert_close(ours(x), out)
    assert_close(ours.backward(g), xt.grad)
    for p_ours, p_theirs in zip(ours.parameters(), theirs.parameters(), strict=True):
        grad = p_theirs.grad.T if p_theirs.grad.ndim == 2 else p_theirs.grad
        assert_close(p_ours.grad, grad, floor=1e-3)  # the Linear biases before BN: 0 + noise


def test_residual_refuses_a_branch_that_changes_the_shape():
    block = bplib.Residual(bplib.Linear(3, 2, rng=0))
    with pytest.raises(ValueError, match=r"input \(4, 3\), Linear output \(4, 2\)"):
        block(np.ones((4, 3)))


def test_residual_refuses_a_class_instead_of_a_module():
    with pytest.raises(TypeError, match="a class, not an instance"):
        bplib.Residual(bplib.ReLU)
