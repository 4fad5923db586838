"""Cross-cutting: the model's dtype is kept end to end (float32 stays float32 through every
layer, loss and optimiser of the registries, with no float64 temporaries).

One file, not one per module: its tables span layers, losses and optim, and
``test_layers`` runs them on an activation added the documented way.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

import bplib
from bplib import optim

from .helpers import activation_factories


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved_end_to_end(dtype):
    rng = np.random.default_rng(0)
    net = bplib.Sequential(
        *[
            m
            for _, make in sorted(activation_factories().items())
            for m in (bplib.Linear(3, 3, rng=rng, dtype=dtype), make())
        ],
        bplib.Linear(3, 2, rng=rng, dtype=dtype),
    )
    x = rng.standard_normal((4, 3)).astype(dtype)
    for loss_fn, target in [
        (bplib.MSELoss(), rng.standard_normal((4, 2))),  # a float64 target is cast to the model's
        (bplib.CrossEntropyLoss(), np.array([0, 1, 1, 0])),
        (bplib.BCEWithLogitsLoss(), np.array([[0, 1], [1, 1], [0, 0], [1, 0]])),
    ]:
        out = net(x)
        assert out.dtype == dtype
        loss_fn(out, target)
        grad = loss_fn.backward()
        assert grad.dtype == dtype and grad.shape == out.shape
        assert net.backward(grad).dtype == dtype
        assert all(p.grad.dtype == dtype for p in net.parameters())


def test_integer_input_is_converted_to_the_model_dtype():
    layer = bplib.Linear(2, 1, rng=0, dtype=np.float32)
    assert layer(np.array([[0, 1], [1, 0]])).dtype == np.float32


class _DtypeRecorder(np.ndarray):
    """An ndarray that records the dtype of every ufunc result computed from it.

    Every numpy ufunc (arithmetic, ``@``, ``np.exp``, ``np.maximum``, reductions such as
    ``.sum()``, in-place ``-=``) applied to a recorder returns a recorder, so all the arrays
    a training step derives from the data and the parameters are traced.
    """

    seen: ClassVar[list[tuple[str, np.dtype]]] = []

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        def plain(a):
            return a.view(np.ndarray) if isinstance(a, _DtypeRecorder) else a

        if out is not None:
            kwargs["out"] = tuple(plain(o) for o in out)
        result = getattr(ufunc, method)(*map(plain, inputs), **kwargs)
        for r in result if isinstance(result, tuple) else (result,):
            _DtypeRecorder.seen.append((f"{ufunc.__name__}.{method}", np.result_type(r)))
        if out is not None:
            return out[0] if len(out) == 1 else out
        if isinstance(result, tuple):
            return tuple(r.view(_DtypeRecorder) for r in result)
        return result.view(_DtypeRecorder) if isinstance(result, np.ndarray) else result


OPTIMISERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.01),
    "sgd_nesterov_wd": lambda ps: optim.SGD(
        ps, lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4
    ),
    "adam": lambda ps: optim.Adam(ps, weight_decay=1e-4),
    "adamw_amsgrad": lambda ps: optim.AdamW(ps, amsgrad=True),
    "rmsprop_centered": lambda ps: optim.RMSprop(ps, momentum=0.9, centered=True),
    "adagrad": lambda ps: optim.Adagrad(ps),
}


def test_the_float32_table_has_every_registered_optimizer():
    tabled = {type(make([bplib.Parameter(np.zeros(1))])) for make in OPTIMISERS.values()}
    assert tabled == set(optim.OPTIMIZERS.values()), "add the new optimiser to OPTIMISERS"


@pytest.mark.parametrize("optimizer", sorted(OPTIMISERS))
@pytest.mark.parametrize("loss_name", ["cross_entropy", "mse", "bce"])
def test_a_float32_training_step_makes_no_float64_temporaries(loss_name, optimizer):
    # A float64 temporary inside a float32 step is invisible in the results (an in-place
    # update casts it back to float32) but doubles the memory traffic of that operation;
    # np.float64(lr) * grad is enough to make one. Trace every ufunc of two full steps.
    rng = np.random.default_rng(0)
    layers = [bplib.Linear(5, 6, rng=rng, dtype=np.float32)]
    for _, make in sorted(activation_factories().items()):
        layers += [make(), bplib.Linear(6, 6, rng=rng, dtype=np.float32)]
    net = bplib.Sequential(*layers)
    for p in net.parameters():
        p.data = p.data.view(_DtypeRecorder)
        p.grad = p.grad.view(_DtypeRecorder)
    opt = OPTIMISERS[optimizer](net.parameters())
    loss, target = {
        "cross_entropy": (bplib.CrossEntropyLoss(), rng.integers(0, 6, 4)),
        "mse": (bplib.MSELoss(), rng.standard_normal((4, 6)).astype(np.float32)),
        "bce": (bplib.BCEWithLogitsLoss(), (rng.random((4, 6)) < 0.5).astype(np.float32)),
    }[loss_name]
    x = rng.standard_normal((4, 5)).astype(np.float32).view(_DtypeRecorder)
    _DtypeRecorder.seen.clear()
    for _ in range(2):  # the second step runs with the optimiser's state in place
        loss(net(x), target)
        net.backward(loss.backward())
        opt.step()
        opt.zero_grad()
    traced = {name for name, _ in _DtypeRecorder.seen}
    assert {"matmul.__call__", "subtract.__call__", "add.reduce"} <= traced
    promoted = [(name, str(dtype)) for name, dtype in _DtypeRecorder.seen if dtype == np.float64]
    assert promoted == []


@pytest.mark.parametrize("training", [True, False])
def test_float32_layers_stay_float32_and_agree_with_float64(training):
    rng = np.random.default_rng(0)
    x64, g64 = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))

    def build(dtype):
        return bplib.Sequential(
            bplib.Residual(
                bplib.Sequential(
                    bplib.Linear(4, 4, rng=1, dtype=dtype), bplib.BatchNorm1d(4, dtype=dtype)
                )
            ),
            bplib.LayerNorm(4, dtype=dtype),
            bplib.Dropout(0.5, rng=2),
        ).train(training)

    nets = {dt: build(dt) for dt in (np.float32, np.float64)}
    out = {dt: net(x64.astype(dt)) for dt, net in nets.items()}
    dx = {dt: net.backward(g64.astype(dt)) for dt, net in nets.items()}
    assert out[np.float32].dtype == dx[np.float32].dtype == np.float32
    for p in nets[np.float32].parameters():
        assert p.data.dtype == p.grad.dtype == np.float32
    bn32 = nets[np.float32][0].module[1]
    assert bn32.running_mean.dtype == bn32.running_var.dtype == np.float32
    np.testing.assert_allclose(out[np.float32], out[np.float64], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dx[np.float32], dx[np.float64], rtol=1e-4, atol=1e-4)
