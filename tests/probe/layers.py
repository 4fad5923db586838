"""The probe's rows for the layers: bplib.layers, normalization, dropout, residual, module.

``ROWS``: the hand-written cases, by public name; ``SPECS``: the known-good calls whose
arguments the generated battery mutates (``common.battery``). ``table.py`` gathers them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import bplib

from .common import (
    INF,
    SAME_VALUES,
    ArrayArg,
    Case,
    NaN,
    P,
    ScalarArg,
    Spec,
    X,
    _activation_rows,
    _backward_spec,
    _backward_with,
    _forward_spec,
    _model_state,
    activation_specs,
    bad,
    is_int,
    is_real,
    matrix,
    net,
    ok,
    readonly,
    same,
    strided,
)


def grad_through_held_reference() -> object:
    """g = p.grad held across zero_grad(); g += 1; backward: bplib.fast's one assumption (nothing
    writes into a gradient between zero_grad() and backward but through p.grad) is broken, so
    the fast twin overwrites the 1 (documented in bplib.fast; writes through p.grad add)."""
    layer = bplib.Linear(2, 2, rng=0)
    g = layer.weight.grad
    layer.zero_grad()
    g += 1.0
    x = np.ones((3, 2))
    layer(x)
    layer.backward(np.ones((3, 2)))
    return layer.weight.grad


class _Cube(bplib.layers.Activation):
    def function(self, z):
        return z**3

    def derivative(self, z, a):
        return 3 * z**2


def _cube_grad() -> np.ndarray:
    cube = _Cube()
    cube(np.array([[2.0]]))
    return cube.backward(np.array([[1.0]]))


def _fast_sums(add, *arrays):
    """``add`` into a zeroed parameter, then again: written the first time, added the second."""
    shape = (arrays[0] @ arrays[1]).shape if len(arrays) == 2 else arrays[0].shape[1:]
    p = bplib.Parameter(np.zeros(shape))
    p.zero_grad()
    add(p, *arrays)
    first = p.grad.tolist()
    add(p, *arrays)
    return first, p.grad.tolist()


def _fast_linear() -> bool:
    layer = bplib.Linear(3, 2, rng=0)
    x, g = X(4, 3, seed=2), X(4, 2, seed=3)
    layer.zero_grad()
    layer(x)
    bplib.fast.linear_backward_to_parameters(layer, g)
    return bool(np.array_equal(layer.weight.grad, x.T @ g))


class _Owned(bplib.Module):
    def __init__(self) -> None:
        self.inner = bplib.Linear(2, 2, rng=0)
        self.inner.owner = self  # type: ignore[attr-defined]


def _held_ref_check(g: np.ndarray) -> bool:
    # X^T delta = 3 (three rows of ones), written over the 1 added through the held array
    np.testing.assert_array_equal(g, np.full((2, 2), 3.0))
    return True


def _seq_reuse_tanh() -> object:
    t = bplib.Tanh()
    return bplib.Sequential(bplib.Linear(2, 2), t, bplib.Linear(2, 2), t)


def _seq_reuse_linear() -> object:
    lin = bplib.Linear(2, 2)
    return bplib.Sequential(lin, bplib.Tanh(), lin)


def _seq_reuse_nested() -> object:
    lin = bplib.Linear(2, 2)
    return bplib.Sequential(lin, bplib.Sequential(bplib.Tanh(), lin))


# ---------------------------------------------------------------- layers (phase 2 rows)
def _linear_matrix_input() -> object:
    return bplib.Linear(3, 2, rng=0)(matrix(X()))


def _linear_x_changed_in_place() -> bool:
    layer, x = bplib.Linear(3, 2, rng=0), X()
    expected = x.T @ np.ones((4, 2))
    layer(x)
    x[...] = 0.0  # the caller reuses its buffer before backward
    layer.backward(np.ones((4, 2)))
    np.testing.assert_allclose(layer.weight.grad, expected)
    return True


def _linear_cache_cleared() -> object:
    layer = bplib.Linear(3, 2, rng=0)
    layer(X())
    try:
        layer(np.ones((4, 5)))
    except ValueError:
        return layer.backward(np.ones((4, 2)))
    raise AssertionError("accepted")


def _torch_layout() -> object:
    layer = bplib.Linear(3, 2, rng=0)
    layer.weight.data = np.ones((2, 3))
    return layer(X())


def _passes_nan_on(layer: bplib.Module) -> bool:
    return bool(np.isnan(layer(np.full((4, 3), NaN))).all())  # layers pass NaN on (api.md)


def _seq() -> Any:
    return bplib.Sequential(bplib.Linear(3, 4, rng=0), bplib.Tanh(), bplib.Linear(4, 2, rng=1))


def _np_dropout(v: Any) -> Any:  # Dropout(0.5, rng=0): the same draws as the layer
    keep = np.random.default_rng(0).random(np.shape(v)) >= 0.5
    with np.errstate(invalid="ignore"):
        return np.asarray(v) * (keep * 2.0)


_ELEMENTWISE: list[tuple[str, str, Callable[[], Any], None, Callable[[Any], Any]]] = [
    ("bplib.Dropout", "Dropout", lambda: bplib.Dropout(0.5, rng=0), None, _np_dropout),
]


_LAYERS: list[tuple[str, str, Callable[[], Any], int | None]] = [
    ("bplib.Linear", "Linear", lambda: bplib.Linear(3, 2, rng=0), 3),
    *((k, n, m, w) for k, n, m, w, _ in _ELEMENTWISE),
    ("bplib.BatchNorm1d", "BatchNorm1d", lambda: bplib.BatchNorm1d(3), 3),
    ("bplib.LayerNorm", "LayerNorm", lambda: bplib.LayerNorm(3), 3),
    ("bplib.Residual", "Residual", lambda: bplib.Residual(bplib.Linear(3, 3, rng=0)), 3),
    ("bplib.Sequential", "Sequential", _seq, 3),
]


def _layer_output(make: Callable[..., Any]) -> Callable[..., Any]:
    def call(_: Any, **kw: Any) -> Any:
        m = make(**kw)
        return m(X(4, 3, seed=7))

    return call


def _state_dict_setup() -> Any:
    return bplib.Linear(2, 3, rng=0)


def _load_weight(m: Any, weight: Any) -> Any:
    m.load_state_dict({"weight": weight, "bias": np.array([0.5, -0.5, 0.25])})
    return [p.data for p in m.parameters()]


ROWS: dict[str, list[Case]] = {
    # ------------------------------------------------------------------------------ module
    "bplib.Parameter": [
        bad(
            "NaN data",
            lambda: P(np.array([1.0, NaN])),
            ValueError,
            r"data must be finite, got NaN or infinity in dtype float64, shape \(2,\)",
        ),
        bad("inf data", lambda: P(np.array([INF])), ValueError, r"data must be finite"),
        bad(
            "integer data",
            lambda: P(np.ones(2, int)),
            TypeError,
            r"Parameter expected a floating numpy array, got dtype int64, shape",
        ),
        bad(
            "a list",
            lambda: P([1.0]),
            TypeError,
            r"Parameter expected a floating numpy array, got list",
        ),
        bad(
            "np.matrix data",
            lambda: P(matrix(np.ones((2, 2)))),
            TypeError,
            r"data must be a plain numpy array, got an np.matrix",
        ),
        bad(
            "p.grad = 0.0",
            lambda: setattr(P(np.ones(2), "w"), "grad", 0.0),
            TypeError,
            r"Parameter 'w': grad must be a numpy array of the parameter's shape \(2,\) and dtype float64, got 0.0",
        ),
        bad(
            "p.grad of another shape",
            lambda: setattr(P(np.ones(2), "w"), "grad", np.ones(3)),
            TypeError,
            r"got dtype float64, shape \(3,\)",
        ),
        bad(
            "p.grad float32 for a float64 parameter",
            lambda: setattr(P(np.ones(2), "w"), "grad", np.ones(2, np.float32)),
            TypeError,
            r"got dtype float32, shape",
        ),
        ok(
            "a .grad array held across zero_grad() and written is overwritten (bplib.fast)",
            grad_through_held_reference,
            _held_ref_check,
        ),
        ok(
            "read-only data is kept (an optimiser step refuses it)",
            lambda: P(readonly(np.ones(2))).shape,
            lambda s: s == (2,),
        ),
    ],
    "bplib.layers.Activation": [
        ok(
            "a subclass gives function and derivative; the base caches and applies the chain rule",
            _cube_grad,
            lambda g: g.tolist() == [[12.0]],
        ),
        bad(
            "forward of the base class",
            lambda: bplib.layers.Activation()(np.ones((1, 1))),
            NotImplementedError,
            r"^$",
        ),
        bad(
            "an integer input is refused, not converted",
            lambda: _Cube()(np.ones((1, 1), dtype=int)),
            TypeError,
            r"expected a floating numpy array",
        ),
    ],
    "bplib.fast.add_matmul": [
        ok(
            "right after zero_grad the product is written, otherwise added",
            lambda: _fast_sums(bplib.fast.add_matmul, np.ones((2, 3)), np.ones((3, 2))),
            lambda r: r == ([[3.0, 3.0], [3.0, 3.0]], [[6.0, 6.0], [6.0, 6.0]]),
        ),
    ],
    "bplib.fast.add_row_sum": [
        ok(
            "right after zero_grad the row sum is written, otherwise added",
            lambda: _fast_sums(bplib.fast.add_row_sum, np.ones((3, 2))),
            lambda r: r == ([3.0, 3.0], [6.0, 6.0]),
        ),
    ],
    "bplib.fast.linear_backward_to_parameters": [
        ok(
            "the twin of Linear.backward_to_parameters: the same sums",
            _fast_linear,
            lambda same: same,
        ),
    ],
    "bplib.Module": [
        ok(
            "a module that refers to its owner lists its parameters once",
            lambda: len(_Owned().parameters()),
            lambda n: n == 2,
        ),
        bad(
            "forward of the base class",
            lambda: bplib.Module()(np.ones((1, 1))),
            NotImplementedError,
            r"Module does not implement forward\(\)",
        ),
        bad(
            "backward of the base class",
            lambda: bplib.Module().backward(np.ones((1, 1))),
            NotImplementedError,
            r"Module does not implement backward\(\)",
        ),
    ],
    "bplib.ModuleList": [
        bad(
            "a class, not an instance",
            lambda: bplib.ModuleList([bplib.Tanh]),
            TypeError,
            r"ModuleList.extend expects a Module instance, got a class",
        ),
        bad("a number", lambda: bplib.ModuleList([3]), TypeError, r"got 3"),
        bad(
            "not iterable",
            lambda: bplib.ModuleList(3),
            TypeError,
            r"expects an iterable of Modules, got 3",
        ),
        ok(
            "names its layers by position",
            lambda: list(bplib.ModuleList([bplib.Linear(1, 1, rng=0)]).state_dict()),
            lambda v: v == ["0.weight", "0.bias"],
        ),
    ],
    "bplib.Sequential": [
        bad(
            "one Tanh used twice",
            lambda: _seq_reuse_tanh(),
            ValueError,
            r"argument 3 uses the same Tanh instance as argument 1",
        ),
        bad(
            "one Linear used twice",
            lambda: _seq_reuse_linear(),
            ValueError,
            r"argument 2 uses the same Linear instance as argument 0",
        ),
        bad(
            "a Linear inside a nested Sequential",
            lambda: _seq_reuse_nested(),
            ValueError,
            r"argument 1 uses the same Linear instance as argument 0",
        ),
        bad(
            "np.tanh",
            lambda: bplib.Sequential(bplib.Linear(2, 2), np.tanh),
            TypeError,
            r"argument 1 is ufunc: <ufunc 'tanh'>",
        ),
        bad(
            "a class",
            lambda: bplib.Sequential(bplib.ReLU),
            TypeError,
            r"argument 0 is a class, not an instance",
        ),
        ok("empty", lambda: bplib.Sequential()(np.ones((2, 2))), same(np.ones((2, 2)))),
    ],
    "bplib.Linear": [
        bad(
            "np.matrix input",
            _linear_matrix_input,
            TypeError,
            r"the input must be a plain numpy array, got an np.matrix",
        ),
        ok("X changed in place between forward and backward", _linear_x_changed_in_place, bool),
        bad(
            "backward after a refused forward",
            _linear_cache_cleared,
            RuntimeError,
            r"backward\(\) called before forward\(\)",
        ),
        bad(
            "weights in PyTorch's (out, in) layout",
            _torch_layout,
            ValueError,
            r"weight must have shape \(3, 2\), got dtype float64, shape \(2, 3\); that is PyTorch's \(out_features, in_features\) layout",
        ),
        bad(
            "a float64 gradient into a float32 layer",
            lambda: _backward_with(
                bplib.Linear(3, 2, rng=0, dtype=np.float32),
                X().astype(np.float32),
                np.ones((4, 2)),
            ),
            TypeError,
            r"gradient of dtype float32 \(the layer's\), got dtype float64",
        ),
        ok(
            "an int gradient",
            lambda: (
                _backward_with(
                    bplib.Linear(3, 2, rng=0, dtype=np.float32),
                    X().astype(np.float32),
                    np.ones((4, 2), int),
                ).dtype
            ),
            lambda d: d == np.float32,
        ),
        bad(
            "a complex gradient",
            lambda: _backward_with(bplib.Linear(3, 2, rng=0), X(), np.ones((4, 2), complex)),
            TypeError,
            r"got dtype complex128",
        ),
        bad(
            "wrong feature count",
            lambda: bplib.Linear(3, 2, rng=0)(np.ones((4, 5))),
            ValueError,
            r"expected input of shape \(batch, 3\), got \(4, 5\)",
        ),
        bad(
            "float32 input to a float64 layer",
            lambda: bplib.Linear(3, 2, rng=0)(X().astype(np.float32)),
            TypeError,
            r"has dtype float64 but the input has dtype float32",
        ),
        bad(
            "complex input",
            lambda: bplib.Linear(3, 2, rng=0)(X().astype(complex)),
            TypeError,
            r"expected a real numeric array, got dtype complex128",
        ),
        bad(
            "1-D input",
            lambda: bplib.Linear(3, 2, rng=0)(np.ones(3)),
            ValueError,
            r"got 1-D array of shape \(3,\).*reshape",
        ),
        bad(
            "in_features=0",
            lambda: bplib.Linear(0, 2),
            ValueError,
            r"in_features must be a positive integer, got 0",
        ),
        bad(
            "dtype=int64",
            lambda: bplib.Linear(2, 2, dtype=np.int64),
            TypeError,
            r"dtype must be float32 or float64, got int64",
        ),
        ok(
            "read-only input",
            lambda: bplib.Linear(3, 2, rng=0)(readonly(X())),
            same(bplib.Linear(3, 2, rng=0)(X())),
        ),
        ok(
            "non-contiguous input",
            lambda: bplib.Linear(3, 2, rng=0)(strided(X())),
            same(bplib.Linear(3, 2, rng=0)(X())),
        ),
        ok(
            "integer input is converted",
            lambda: bplib.Linear(3, 2, rng=0)(np.ones((2, 3), int)).dtype,
            lambda d: d == np.float64,
        ),
    ],
    **{  # every registered activation; leaky ReLU's, with its hyperparameter's, below
        f"bplib.{cls.__name__}": _activation_rows(cls)
        for cls in bplib.layers.ACTIVATIONS.values()
        if cls is not bplib.LeakyReLU
    },
    "bplib.LeakyReLU": [
        *_activation_rows(bplib.LeakyReLU),
        bad(
            "negative_slope=NaN",
            lambda: bplib.LeakyReLU(NaN),
            ValueError,
            r"LeakyReLU: negative_slope must be a finite number >= 0, got nan",
        ),
        bad(
            "negative_slope=-1",
            lambda: bplib.LeakyReLU(-1.0),
            ValueError,
            r"LeakyReLU: negative_slope must be a finite number >= 0, got -1.0",
        ),
    ],
    "bplib.BatchNorm1d": [
        bad(
            "num_features=0",
            lambda: bplib.BatchNorm1d(0),
            ValueError,
            r"num_features must be a positive integer, got 0",
        ),
        bad("num_features=2.5", lambda: bplib.BatchNorm1d(2.5), ValueError, r"got 2.5"),
        bad("eps < 0", lambda: bplib.BatchNorm1d(3, eps=-1), ValueError, r"eps .*got -1"),
        bad(
            "momentum 2",
            lambda: bplib.BatchNorm1d(3, momentum=2.0),
            ValueError,
            r"BatchNorm1d: momentum must lie in \[0, 1\], got 2.0",
        ),
        bad(
            "wrong width",
            lambda: bplib.BatchNorm1d(2)(X()),
            ValueError,
            r"expected input of shape \(batch, 2\), got \(4, 3\)",
        ),
        bad(
            "a batch of 1 while training",
            lambda: bplib.BatchNorm1d(3)(X(1)),
            ValueError,
            r"more than 1 example per batch.*\(1, 3\)",
        ),
        ok("NaN passes on", lambda: _passes_nan_on(bplib.BatchNorm1d(3)), lambda v: v),
    ],
    "bplib.LayerNorm": [
        bad(
            "normalized_shape=0",
            lambda: bplib.LayerNorm(0),
            ValueError,
            r"normalized_shape must be a positive integer, got 0",
        ),
        bad(
            "wrong width",
            lambda: bplib.LayerNorm(2)(X()),
            ValueError,
            r"expected input of shape \(batch, 2\), got \(4, 3\)",
        ),
    ],
    "bplib.Dropout": [
        bad(
            "p = 1",
            lambda: bplib.Dropout(1.0),
            ValueError,
            r"Dropout: p .* must lie in \[0, 1\), got 1.0",
        ),
        bad("p < 0", lambda: bplib.Dropout(-0.1), ValueError, r"got -0.1"),
        bad(
            "p a string",
            lambda: bplib.Dropout("a"),
            TypeError,
            r"must be a real number, got str 'a'",
        ),
        bad("a list", lambda: bplib.Dropout(0.5, rng=0)([1.0]), TypeError, r"got list"),
        ok("eval mode is the identity", lambda: bplib.Dropout(0.5, rng=0).eval()(X()), same(X())),
    ],
    "bplib.Residual": [
        bad("not a module", lambda: bplib.Residual(3), TypeError, r"Module instance, got int"),
        bad(
            "a branch that changes the shape",
            lambda: bplib.Residual(bplib.Linear(3, 2, rng=0))(X()),
            ValueError,
            r"input \(4, 3\), Linear output \(4, 2\)",
        ),
    ],
    "bplib.Flatten": [
        bad(
            "1-D",
            lambda: bplib.Flatten()(np.ones(3)),
            ValueError,
            r"got dtype float64, shape \(3,\)",
        ),
        bad("a list", lambda: bplib.Flatten()([1, 2]), ValueError, r"got list"),
        ok(
            "(2, 2, 3) -> (2, 6)",
            lambda: bplib.Flatten()(np.ones((2, 2, 3))).shape,
            lambda v: v == (2, 6),
        ),
    ],
    "bplib.module.IncompatibleKeys": [
        ok(
            "what load_state_dict(strict=False) returns",
            lambda: net().load_state_dict({}, strict=False),
            lambda v: isinstance(v, bplib.module.IncompatibleKeys) and len(v.missing_keys) == 4,
        ),
    ],
}

SPECS: list[Spec] = [
    *(_forward_spec(*row) for row in _LAYERS if row[3] is not None),
    *(_forward_spec(*row) for row in _ELEMENTWISE),
    *(_backward_spec(k, n, m) for k, n, m, _ in _LAYERS),
    *(s for cls in bplib.layers.ACTIVATIONS.values() for s in activation_specs(cls)),
    Spec(
        "bplib.Linear",
        "Linear(...)",
        _layer_output(lambda **kw: bplib.Linear(rng=0, **kw)),
        [ScalarArg("in_features", 3, is_int(3, 3)), ScalarArg("out_features", 2, is_int(1))],
    ),
    Spec(
        "bplib.LeakyReLU",
        "LeakyReLU(...)",
        _layer_output(bplib.LeakyReLU),
        [ScalarArg("negative_slope", 0.1, is_real(0.0))],
    ),
    Spec(
        "bplib.BatchNorm1d",
        "BatchNorm1d(...)",
        _layer_output(lambda **kw: bplib.BatchNorm1d(3, **kw)),
        [
            ScalarArg("eps", 1e-5, is_real(0.0, low_open=True)),
            ScalarArg("momentum", 0.1, is_real(0.0, 1.0)),
        ],
    ),
    Spec(
        "bplib.LayerNorm",
        "LayerNorm(...)",
        _layer_output(bplib.LayerNorm),
        [
            ScalarArg("normalized_shape", 3, is_int(3, 3)),
            ScalarArg("eps", 1e-5, is_real(0.0, low_open=True)),
        ],
    ),
    Spec(
        "bplib.Dropout",
        "Dropout(...)",
        _layer_output(lambda **kw: bplib.Dropout(rng=0, **kw)),
        [ScalarArg("p", 0.5, is_real(0.0, 1.0, high_open=True))],
    ),
    Spec(
        "bplib.Parameter",
        "Parameter",
        lambda _, data: P(data).data,
        [
            ArrayArg(
                "data",
                lambda: X(2, 3, seed=1),
                r"Parameter|data",
                valid=SAME_VALUES | {"float32 dtype"},
                expect=lambda v: v,
                any_shape=True,
            )
        ],
    ),
    Spec(
        "bplib.Module",
        "Linear.load_state_dict",
        _load_weight,
        [
            ArrayArg(
                "weight",
                lambda: X(2, 3, seed=1),
                r"weight",
                valid=SAME_VALUES | {"np.matrix"},
                fixed_axes=(0, 1),
            )
        ],
        setup=_state_dict_setup,
        state=_model_state,
    ),
]
