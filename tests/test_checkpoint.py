"""Gradient checkpointing (bplib.checkpoint): the same gradients bit for bit, dropout's
masks and batch normalisation's running statistics included, and less memory held."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import bplib
from bplib.checkpoint import Checkpoint, checkpoint_sequential


def deep_net(dtype, depth=6, width=16, extras=True):
    layers: list[bplib.Module] = []
    for i in range(depth):
        layers.append(bplib.Linear(width, width, rng=i, dtype=dtype))
        if extras:
            layers.append(bplib.BatchNorm1d(width, dtype=dtype))
        layers.append(bplib.Tanh())
        if extras:
            layers.append(bplib.Dropout(0.3, rng=100 + i))
    layers.append(bplib.Linear(width, 3, rng=99, dtype=dtype))
    return bplib.Sequential(*layers)


def train_steps(model, X, y, steps=3, to_input=True):
    """Three SGD steps; the gradients (parameters and input) of each."""
    loss_fn = bplib.CrossEntropyLoss()
    opt = bplib.optim.SGD(model.parameters(), lr=0.1)
    record = []
    for _ in range(steps):
        model.zero_grad()
        loss_fn(model(X), y)
        if to_input:
            gx = model.backward(loss_fn.backward())
        else:
            gx = None
            model.backward_to_parameters(loss_fn.backward())
        record.append(([p.grad.copy() for p in model.parameters()], gx))
        opt.step()
    return record


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("segments", [1, 2, 5, 25])
@pytest.mark.parametrize("to_input", [True, False])
def test_gradients_are_bit_identical_with_dropout_and_batchnorm(dtype, segments, to_input):
    X = np.random.default_rng(0).standard_normal((20, 16)).astype(dtype)
    y = np.arange(20) % 3
    plain, checkpointed = deep_net(dtype), Checkpoint(deep_net(dtype), segments=segments)
    expected = train_steps(plain, X, y, to_input=to_input)
    got = train_steps(checkpointed, X, y, to_input=to_input)
    for (g_plain, x_plain), (g_ck, x_ck) in zip(expected, got, strict=True):
        for a, b in zip(g_plain, g_ck, strict=True):
            np.testing.assert_array_equal(a, b)
        if to_input:
            np.testing.assert_array_equal(x_plain, x_ck)
    for (name, a), (other, b) in zip(
        plain.state_dict().items(), checkpointed.state_dict().items(), strict=True
    ):  # the same names; parameters and running statistics (updated once per step)
        assert name == other
        np.testing.assert_array_equal(a, b)
    for d_plain, d_ck in zip(plain, checkpointed.module, strict=True):  # generators in step
        if isinstance(d_plain, bplib.Dropout):
            assert d_plain.rng.bit_generator.state == d_ck.rng.bit_generator.state


def test_a_shared_generator_replays_each_segments_draws():
    rng_a, rng_b = np.random.default_rng(7), np.random.default_rng(7)
    plain = bplib.Sequential(*[bplib.Dropout(0.5, rng=rng_a) for _ in range(4)])
    ck = Checkpoint(bplib.Sequential(*[bplib.Dropout(0.5, rng=rng_b) for _ in range(4)]), 2)
    X = np.random.default_rng(0).standard_normal((6, 5))
    g = np.random.default_rng(1).standard_normal((6, 5))
    np.testing.assert_array_equal(plain(X), ck(X))
    rng_b.random(3)  # someone draws between forward and backward: not replayed
    rng_a.random(3)
    np.testing.assert_array_equal(plain.backward(g), ck.backward(g))
    assert rng_a.bit_generator.state == rng_b.bit_generator.state


def test_forward_keeps_only_the_segment_inputs():
    ck = checkpoint_sequential(deep_net(np.float64), segments=5)
    ck(np.ones((4, 16)))
    for m in bplib.module.submodules(ck.module):
        assert not [k for k, v in vars(m).items() if isinstance(v, np.ndarray | tuple)
                    and k not in m._buffers and k != "_forward_output"]  # fmt: skip
    assert len(ck.saved) == 5
    with pytest.raises(AttributeError):
        ck.module[0].x  # noqa: B018 (dropped, recomputed by backward)


def test_the_callers_input_may_change_after_forward():
    X = np.random.default_rng(0).standard_normal((5, 16))
    plain, ck = deep_net(np.float64, extras=False), Checkpoint(deep_net(np.float64, extras=False))
    g = np.ones((5, 3))
    plain(X.copy())
    ck(X)
    X[...] = 0  # the checkpoint kept a copy, as Linear keeps one
    np.testing.assert_array_equal(plain.backward(g), ck.backward(g))


def peak_bytes(model, X, y):
    """tracemalloc's peak during one forward pass and the loss, in bytes."""
    loss_fn = bplib.CrossEntropyLoss()
    model.zero_grad()
    loss_fn(model(X), y)  # warm up: the caches of a first call exist before measuring
    model.backward(loss_fn.backward())
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        loss_fn(model(X), y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def test_forward_peak_memory_drops_for_a_deep_net():
    # 32 Linear+Tanh pairs of width 128 on a batch of 128, float64: an activation is
    # 128 * 128 * 8 = 131072 bytes. The plain net keeps three per pair to the end of the
    # forward pass (Linear's input copy, Tanh's z and a): 96 of them. Checkpointed in 8
    # segments it keeps 8 inputs, plus one segment's caches while that segment runs (4
    # pairs, 12 arrays): 20, about a fifth (the measured ratio is printed by -s).
    depth, width, batch = 32, 128, 128
    X = np.random.default_rng(0).standard_normal((batch, width))
    y = np.arange(batch) % 3
    activation = batch * width * 8
    plain = deep_net(np.float64, depth=depth, width=width, extras=False)
    ck = Checkpoint(deep_net(np.float64, depth=depth, width=width, extras=False), segments=8)
    peak_plain, peak_ck = peak_bytes(plain, X, y), peak_bytes(ck, X, y)
    print(f"forward peak: plain {peak_plain} bytes, checkpointed {peak_ck} bytes")
    assert peak_plain >= 96 * activation
    assert peak_ck < 0.3 * peak_plain


def test_bad_arguments():
    with pytest.raises(TypeError, match="module must be a bplib Module"):
        Checkpoint(np.ones(3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"segments must lie in 1\.\.2"):
        Checkpoint(bplib.Sequential(bplib.Tanh(), bplib.Tanh()), segments=3)
    with pytest.raises(ValueError, match="needs a Sequential to split"):
        Checkpoint(bplib.Tanh(), segments=2)
    with pytest.raises(ValueError, match="segments must be a positive integer"):
        Checkpoint(bplib.Tanh(), segments=0)
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward"):
        Checkpoint(bplib.Tanh()).backward(np.ones((2, 2)))
