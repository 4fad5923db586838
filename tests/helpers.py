"""Helpers shared by the tests: random data and finite-difference gradients of a module."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

import bplib
from bplib.gradcheck import numerical_gradient
from bplib.train import EarlyStopping, History

# Central differences in float64 carry an absolute error of about 1e-16 |L| / eps ~ 1e-10
# (eps = 1e-6, |L| ~ 1), so a gradient far smaller than 1 cannot be checked to a relative
# 1e-7. The error is therefore taken relative to max(gradient scale, FLOOR): for gradients
# of size >= FLOOR it is the plain relative error; below, an absolute error of FLOOR * 1e-7.
# A real bug is an error of the gradient's own size, far above either bound.
# The rounding error scales with the size of the numbers L is computed from, not with L
# itself: cross-entropy of logits near 17 is a small L computed as a difference of numbers
# near 17, so its rounding error is 17 times larger; pass floor=FLOOR * that size then.
FLOOR = 1e-2


def checked_error(analytic: NDArray[Any], numeric: NDArray[Any], floor: float = FLOOR) -> float:
    """max|a - n| / max(max|a|, max|n|, floor): see FLOOR above."""
    scale = max(float(np.abs(analytic).max()), float(np.abs(numeric).max()), floor)
    return float(np.abs(analytic - numeric).max()) / scale


def activation_factories() -> dict[str, Callable[[], bplib.layers.Activation]]:
    """Every activation of bplib's registry as it is now, by class name; leaky ReLU with a
    slope that finite differences can tell from 0.

    The table-driven tests read this when they run (their parametrisation reads it when
    collected), so an activation registered later, as in tests/test_layers.py, is in it."""
    return {
        cls.__name__: (lambda: bplib.LeakyReLU(0.1)) if cls is bplib.LeakyReLU else cls
        for cls in bplib.layers.ACTIVATIONS.values()
    }


# the registry when the tests are collected: the parametrisation of the table-driven tests
ACTIVATIONS = activation_factories()


def min_abs_preactivation(net: bplib.Sequential, x: NDArray[Any]) -> float:
    """The smallest |z| entering any activation of ``net`` on input ``x``."""
    smallest = np.inf
    for m in net:
        if not isinstance(m, bplib.Linear):
            smallest = min(smallest, float(np.abs(x).min()))
        x = m(x)
    return smallest


def away_from_kinks(x: NDArray[Any], margin: float = 1e-3) -> NDArray[Any]:
    """Move entries off zero, where ReLU-like derivatives jump (and finite differences lie)."""
    return np.where(np.abs(x) < margin, np.copysign(margin, x) + x, x)


def module_gradient_errors(module: bplib.Module, x: NDArray[Any], seed: int) -> dict[str, float]:
    """Relative error of ``module.backward`` against central differences, for the input and
    every parameter, using the probe loss L = sum(module(x) * R) with a random R."""
    x = x.copy()
    out = module(x)
    R = np.random.default_rng(seed).standard_normal(out.shape)

    def loss() -> float:
        return float(np.sum(module(x) * R))

    module.zero_grad()
    module(x)
    dx = module.backward(R)
    errors = {"input": checked_error(dx, numerical_gradient(loss, x))}
    for name, p in module.named_parameters():
        errors[name] = checked_error(p.grad, numerical_gradient(loss, p.data))
    return errors


def as_matrix(a: object) -> np.matrix:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return np.asmatrix(a)


def mlp(seed=0, n_in=2, n_hidden=8, n_out=2, dtype=np.float64):
    return bplib.Sequential(
        bplib.Linear(n_in, n_hidden, rng=seed, dtype=dtype),
        bplib.Tanh(),
        bplib.Linear(n_hidden, n_out, rng=seed + 1, dtype=dtype),
    )


def blobs(n=40, seed=0, noise=0.5):
    """Two Gaussian blobs, labels 0 and 1."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.standard_normal((n, 2)) * noise + np.where(y[:, None] == 1, 1.0, -1.0)
    return X, y.astype(np.int64)


def scripted(values, key="val_loss", **kwargs):
    """Feed ``values`` to an EarlyStopping one epoch at a time; return the epoch it stops at."""
    stop = EarlyStopping(monitor=key, **kwargs)
    h = History(validation=True)
    model = mlp()
    stop.on_train_begin(model, h)
    for epoch, v in enumerate(values, start=1):
        h.loss.append(v)
        h.val_loss.append(v)
        h.lr.append(0.1)
        if stop.on_epoch_end(epoch, h, model):
            return epoch, stop, h
    return None, stop, h


def tiny_mlp(seed=0, dtype=np.float64):
    return bplib.Sequential(
        bplib.Linear(2, 4, rng=seed, dtype=dtype), bplib.Tanh(), bplib.Linear(4, 2, rng=seed + 1)
    )


def snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_unchanged(model, before):
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


TORCH_TOL = 1e-10


try:
    import torch
except ImportError:  # the torch tests below skip, saying why
    torch = None


def fd_errors(module, x, seed, before_forward=lambda: None):
    """Errors of ``module.backward`` against central differences of L = sum(module(x) * R),
    for the input and every parameter. ``before_forward`` runs before every forward pass
    (Dropout resets its generator there, so every pass draws the same mask)."""
    x = x.copy()

    def out():
        before_forward()
        return module(x)

    # a stream of its own: R drawn like x would make the probe loss degenerate
    R = np.random.default_rng([seed, 1]).standard_normal(out().shape)

    def loss():
        return float(np.sum(out() * R))

    module.zero_grad()
    out()
    dx = module.backward(R)
    errors = {"input": checked_error(dx, numerical_gradient(loss, x))}
    for name, p in module.named_parameters():
        errors[name] = checked_error(p.grad, numerical_gradient(loss, p.data))
    return errors


def random_affine(module, rng):
    for p in module.parameters():
        p.data[:] = rng.standard_normal(p.shape)
    return module


def t(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def assert_close(ours, theirs, floor=0.0):
    """Relative error < 1e-10, relative to max(scale, floor): a gradient that is zero in exact
    arithmetic (a bias just before batch normalisation) is rounding noise on both sides."""
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours = np.asarray(ours)
    scale = max(float(np.abs(ours).max()), float(np.abs(theirs).max()), floor)
    assert float(np.abs(ours - theirs).max()) < TORCH_TOL * scale


def every_flag(model):
    flags = [model.training]
    for child in model.children():
        flags += every_flag(child)
    return flags


def linear_and_batch(seed: int = 4):
    rng = np.random.default_rng(seed)
    layer = bplib.Linear(3, 2, rng=rng)
    x, g = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    return layer, x, g
