"""Every layer and loss against PyTorch autograd, float64, relative error < 1e-10.

Skipped, with the reason shown, where torch is not installed (install torch==2.13.0).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pytest

import bplib
from bplib.gradcheck import relative_error

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")

TOL = 1e-10
SEEDS = range(5)


def torch_activations() -> dict[str, tuple[Callable[[], Any], Callable[[], Any] | None]]:
    """Every registered activation, by class name: (ours, torch's twin named by its card's
    ``torch_name`` and built with its ``torch_kwargs``, or None if it names none); leaky
    ReLU with slope 0.2, not the default."""
    table: dict[str, tuple[Callable[[], Any], Callable[[], Any] | None]] = {}
    for cls in bplib.layers.ACTIVATIONS.values():
        theirs = getattr(torch.nn, cls.torch_name) if cls.torch_name else None
        if theirs is not None and cls.torch_kwargs:  # e.g. GELU(approximate="tanh")
            theirs = partial(theirs, **cls.torch_kwargs)
        if cls is bplib.LeakyReLU and theirs is not None:
            table[cls.__name__] = (partial(bplib.LeakyReLU, 0.2), partial(theirs, 0.2))
        else:
            table[cls.__name__] = (cls, theirs)
    return table


TORCH_ACTIVATIONS = torch_activations()  # the registry when collected: the parametrisation


def t(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def assert_close(ours, theirs):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert relative_error(np.asarray(ours), theirs) < TOL


@pytest.mark.parametrize("seed", SEEDS)
def test_linear_matches_torch(seed):
    rng = np.random.default_rng(seed)
    n, n_in, n_out = rng.integers(1, 8, 3)
    ours = bplib.Linear(n_in, n_out, rng=rng)
    ours.bias.data[:] = rng.standard_normal(n_out)
    x, g = rng.standard_normal((n, n_in)), rng.standard_normal((n, n_out))
    theirs = torch.nn.Linear(n_in, n_out).double()
    with torch.no_grad():  # torch stores W as (out, in): ours is its transpose
        theirs.weight.copy_(torch.tensor(ours.weight.data.T))
        theirs.bias.copy_(torch.tensor(ours.bias.data))
    xt = t(x)
    out = theirs(xt)
    out.backward(torch.tensor(g))
    assert_close(ours(x), out)
    assert_close(ours.backward(g), xt.grad)
    assert_close(ours.weight.grad, theirs.weight.grad.T)
    assert_close(ours.bias.grad, theirs.bias.grad)


@pytest.mark.parametrize("name", sorted(TORCH_ACTIVATIONS))
@pytest.mark.parametrize("seed", SEEDS)
def test_activation_matches_torch(name, seed):
    make_ours, make_theirs = torch_activations()[name]
    assert make_theirs is not None, f"{name} names no torch twin: set its torch_name"
    rng = np.random.default_rng(seed)
    x, g = 3 * rng.standard_normal((2, 5, 4))
    ours, xt = make_ours(), t(x)
    out = make_theirs()(xt)
    out.backward(torch.tensor(g))
    assert_close(ours(x), out)
    assert_close(ours.backward(g), xt.grad)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("seed", SEEDS)
def test_mse_matches_torch(reduction, seed):
    rng = np.random.default_rng(seed)
    pred, target = rng.standard_normal((2, 6, 3))
    ours, pt = bplib.MSELoss(reduction), t(pred)
    loss = torch.nn.MSELoss(reduction=reduction)(pt, torch.tensor(target))
    loss.backward()
    assert_close(ours(pred, target), loss)
    assert_close(ours.backward(), pt.grad)


@pytest.mark.parametrize("scale", [1.0, 100.0])
@pytest.mark.parametrize("seed", SEEDS)
def test_cross_entropy_matches_torch(scale, seed):
    rng = np.random.default_rng(seed)
    logits, labels = scale * rng.standard_normal((7, 4)), rng.integers(0, 4, 7)
    ours, pt = bplib.CrossEntropyLoss(), t(logits)
    loss = torch.nn.CrossEntropyLoss()(pt, torch.tensor(labels))
    loss.backward()
    assert_close(ours(logits, labels), loss)
    assert_close(ours.backward(), pt.grad)


@pytest.mark.parametrize("scale", [1.0, 100.0])
@pytest.mark.parametrize("seed", SEEDS)
def test_bce_with_logits_matches_torch(scale, seed):
    rng = np.random.default_rng(seed)
    logits, target = scale * rng.standard_normal((5, 3)), rng.uniform(0, 1, (5, 3))
    ours, pt = bplib.BCEWithLogitsLoss(), t(logits)
    loss = torch.nn.BCEWithLogitsLoss()(pt, torch.tensor(target))
    loss.backward()
    assert_close(ours(logits, target), loss)
    assert_close(ours.backward(), pt.grad)


@pytest.mark.parametrize("seed", SEEDS)
def test_whole_network_matches_torch(seed):
    rng = np.random.default_rng(seed)
    sizes = [4, 6, 5, 3]
    ours = bplib.Sequential(
        bplib.Linear(4, 6, rng=rng),
        bplib.Tanh(),
        bplib.Linear(6, 5, rng=rng),
        bplib.ReLU(),
        bplib.Linear(5, 3, rng=rng),
    )
    theirs = torch.nn.Sequential(
        torch.nn.Linear(4, 6),
        torch.nn.Tanh(),
        torch.nn.Linear(6, 5),
        torch.nn.ReLU(),
        torch.nn.Linear(5, 3),
    ).double()
    with torch.no_grad():
        for mine, their in zip(ours.parameters(), theirs.parameters(), strict=True):
            mine.data[...] = rng.standard_normal(mine.shape)
            their.copy_(torch.tensor(mine.data.T if mine.data.ndim == 2 else mine.data))
    x, y = rng.standard_normal((8, sizes[0])), rng.integers(0, 3, 8)
    loss_fn = bplib.CrossEntropyLoss()
    loss = loss_fn(ours(x), y)
    ours.backward(loss_fn.backward())
    loss_t = torch.nn.CrossEntropyLoss()(theirs(torch.tensor(x)), torch.tensor(y))
    loss_t.backward()
    assert_close(loss, loss_t)
    for mine, their in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert_close(mine.grad, their.grad.T if mine.data.ndim == 2 else their.grad)
