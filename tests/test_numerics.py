"""dtype preservation, numerical stability, initialisers and the module protocol."""

from __future__ import annotations

import subprocess
import sys
from typing import ClassVar

import numpy as np
import pytest

import bplib
from bplib import init, optim

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


def test_sigmoid_is_exact_and_silent_at_plus_minus_1000():
    z = np.array([[-1000.0, -40.0, 0.0, 40.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is exact
        a = bplib.Sigmoid()(z)
    # sigma(-1000) = e^-1000 is below float64's smallest number, so 0 is the correct result;
    # sigma(-40) = e^-40 / (1 + e^-40) must keep its full relative precision
    expected = [0.0, np.exp(-40) / (1 + np.exp(-40)), 0.5, 1 / (1 + np.exp(-40)), 1.0]
    np.testing.assert_allclose(a[0], expected, rtol=1e-15, atol=0)


def test_cross_entropy_is_finite_for_huge_logits():
    logits = np.array([[1e4, -1e4, 0.0], [-5e3, 5e3, 1e3]])
    loss_fn = bplib.CrossEntropyLoss()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = loss_fn(logits, np.array([1, 1]))
    # the first row is wrong by a margin of 2e4: its loss is that margin, exactly
    assert loss == pytest.approx((2e4 + 0.0) / 2)
    np.testing.assert_allclose(loss_fn.backward(), [[0.5, -0.5, 0], [0, 0, 0]], atol=1e-300)


def test_bce_with_logits_is_finite_for_huge_logits():
    loss_fn = bplib.BCEWithLogitsLoss()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = loss_fn(np.array([[1e4], [-1e4]]), np.array([[0.0], [0.0]]))
    assert loss == pytest.approx(1e4 / 2)


@pytest.mark.parametrize(
    ("name", "variance"),
    [
        ("normal", lambda fi, fo: 1e-4),
        ("uniform", lambda fi, fo: 1 / (3 * fi)),
        ("xavier_uniform", lambda fi, fo: 2 / (fi + fo)),
        ("xavier_normal", lambda fi, fo: 2 / (fi + fo)),
        ("he_uniform", lambda fi, fo: 2 / fi),
        ("he_normal", lambda fi, fo: 2 / fi),
        ("lecun_normal", lambda fi, fo: 1 / fi),
    ],
)
def test_initialisers_have_the_variance_their_formula_gives(name, variance):
    fan_in, fan_out = 300, 200
    w = init.get(name)(fan_in, fan_out, rng=0)
    assert w.shape == (fan_in, fan_out)
    # the sample variance of n = 60000 draws has relative standard error sqrt(2/n) ~ 0.006
    # (normal) or less (uniform); 5% is eight standard errors
    assert w.var() == pytest.approx(variance(fan_in, fan_out), rel=0.05)
    assert abs(w.mean()) < 5 * np.sqrt(variance(fan_in, fan_out) / w.size)


def test_initialisers_are_reproducible_from_a_seed_and_respect_dtype():
    a = bplib.Linear(4, 3, init="he_normal", rng=7, dtype=np.float32)
    b = bplib.Linear(4, 3, init="kaiming_normal", rng=np.random.default_rng(7), dtype=np.float32)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert a.weight.data.dtype == np.float32
    assert not bplib.Linear(4, 3, init="zeros").weight.data.any()


def test_uniform_init_bounds_are_one_over_sqrt_fan_in():
    w = bplib.Linear(16, 50, rng=0).weight.data
    assert np.abs(w).max() <= 0.25 and np.abs(w).max() > 0.24


def test_linear_accepts_an_init_function():
    def ones(fan_in, fan_out, *, rng=None, dtype=np.float64):
        return np.ones((fan_in, fan_out), dtype)

    layer = bplib.Linear(2, 3, init=ones)
    assert (layer.weight.data == 1).all()


def test_parameters_are_listed_in_layer_order_weight_before_bias():
    net = bplib.Sequential(bplib.Linear(2, 3), bplib.ReLU(), bplib.Linear(3, 1, bias=False))
    names = [name for name, _ in net.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight"]
    assert [p.shape for p in net.parameters()] == [(2, 3), (3,), (3, 1)]


def test_reprs_say_what_a_module_is():
    net = bplib.Sequential(bplib.Linear(2, 3), bplib.LeakyReLU(0.2))
    assert repr(net) == (
        "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): LeakyReLU(negative_slope=0.2)\n)"
    )
    assert repr(net[0].weight) == "Parameter(name='weight', shape=(2, 3), dtype=float64)"


def test_import_bplib_needs_neither_sympy_nor_matplotlib():
    code = "import sys, bplib; print(sorted(m for m in sys.modules if m.split('.')[0] in ('sympy', 'matplotlib')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_import_bplib_loads_the_core_and_the_rest_on_first_use():
    code = (
        "import sys, bplib; core = sorted(m for m in sys.modules if m.startswith('bplib.')); "
        "bplib.optim, bplib.fit, bplib.data.spirals; "
        "print(core, 'bplib.optim' in sys.modules, 'bplib.train' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    core = (
        "['bplib._checks', 'bplib.dropout', 'bplib.fast', 'bplib.functional', 'bplib.gradcheck', "
        "'bplib.init', 'bplib.layers', 'bplib.losses', 'bplib.module', 'bplib.normalization', "
        "'bplib.residual', 'bplib.serialization']"
    )
    assert out.stdout.strip() == f"{core} True True"


def test_an_unknown_attribute_of_bplib_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'optimizers'"):
        bplib.optimizers  # noqa: B018


def test_a_parameter_shared_by_two_layers_is_listed_once():
    first, second = bplib.Linear(3, 3, rng=0), bplib.Linear(3, 3, rng=1)
    second.weight = first.weight  # tied weights
    net = bplib.Sequential(first, bplib.Tanh(), second)
    assert [name for name, _ in net.named_parameters()] == ["0.weight", "0.bias", "2.bias"]
    assert len(net.parameters()) == 3


def test_a_perfect_cross_entropy_fit_is_zero_not_minus_zero():
    loss = bplib.CrossEntropyLoss()(np.array([[1000.0, 0.0]]), np.array([0]))
    assert loss == 0.0 and np.copysign(1.0, loss) == 1.0


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
