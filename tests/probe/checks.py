"""The probe's rows for bplib.gradcheck, bplib.helpers, bplib.utils and bplib.exercises.

``ROWS``: the hand-written cases, by public name; ``SPECS``: the known-good calls whose
arguments the generated battery mutates (``common.battery``). ``table.py`` gathers them.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

import bplib
import bplib.helpers  # its rows reach it as bplib.helpers, whatever ran before
from bplib import gradcheck as _gc_function  # the function; the module is below

from .common import (
    _LABELS,
    _X_OK,
    INF,
    LEADING,
    ArrayArg,
    Case,
    NaN,
    P,
    ScalarArg,
    Spec,
    X,
    _model_state,
    _xy,
    bad,
    is_real,
    net,
    net_classifier,
    ok,
    readonly,
    same,
)

gradcheck_module = importlib.import_module("bplib.gradcheck")


def transposed_weight_gradcheck() -> object:
    layer = bplib.Linear(3, 2, rng=0)
    layer.weight.data = np.ascontiguousarray(layer.weight.data.T).T  # a transposed view
    layer.weight._grad = np.zeros((3, 2))
    return _gc_function(layer, bplib.MSELoss(), X(), np.zeros((4, 2))).worst


def _numgrad_strided() -> bool:
    base = np.arange(12.0).reshape(3, 4)
    x = base[:, ::2]
    g = gradcheck_module.numerical_gradient(lambda: float((x**2).sum()), x)
    np.testing.assert_allclose(g, 2 * x, rtol=1e-6)
    return True


def _clip_huge() -> bool:
    ps = [P(np.ones(4)), P(np.ones(3))]
    for p in ps:
        p.grad[...] = 1e308
    total = bplib.utils.clip_grad_norm(ps, 1.0)
    assert total == INF
    np.testing.assert_allclose(np.sqrt(sum((p.grad**2).sum() for p in ps)), 1.0, rtol=1e-12)
    return True


def _clip_nan() -> object:
    p = P(np.ones(2))
    p.grad[0] = NaN
    return bplib.utils.clip_grad_norm([p], 1.0)


def _stub_is_unanswered() -> bool:
    try:
        bplib.exercises.answer(...)
    except bplib.exercises.Unanswered as err:
        return str(err) == bplib.exercises.NOT_YET
    return False


def _gradcheck_call(m: Any, X: Any, y: Any, eps: Any, tol: Any) -> Any:
    return bplib.gradcheck(m, bplib.CrossEntropyLoss(), X, y, eps=eps, tol=tol).ok


def _sum_of_squares(x: np.ndarray) -> float:
    with np.errstate(over="ignore"):  # x + 1e300: f is inf, which numerical_gradient refuses
        return float(np.sum(x**2))


def _vector() -> np.ndarray:
    return np.linspace(-1.0, 1.0, 26)


def _clip_setup() -> Any:
    m = net()
    for i, p in enumerate(m.parameters()):
        p.grad[...] = np.linspace(-3.0, 3.0, p.grad.size).reshape(p.grad.shape) * (i + 1)
    return m


ROWS: dict[str, list[Case]] = {
    # -------------------------------------------------------------------------- gradcheck
    "bplib.gradcheck": [
        ok(
            "a transposed-view weight passes",
            transposed_weight_gradcheck,
            lambda worst: worst < 1e-7,
        ),
        bad(
            "tol=0",
            lambda: _gc_function(
                bplib.Linear(3, 2, rng=0), bplib.MSELoss(), X(), np.zeros((4, 2)), tol=0
            ),
            ValueError,
            r"gradcheck: tol must be a finite number > 0, got 0",
        ),
        bad(
            "tol=NaN",
            lambda: _gc_function(
                bplib.Linear(3, 2, rng=0), bplib.MSELoss(), X(), np.zeros((4, 2)), tol=NaN
            ),
            ValueError,
            r"tol must be .*got nan",
        ),
        bad(
            "tol=None",
            lambda: _gc_function(
                bplib.Linear(3, 2, rng=0), bplib.MSELoss(), X(), np.zeros((4, 2)), tol=None
            ),
            TypeError,
            r"tol must be a real number, got None",
        ),
        bad(
            "eps=0",
            lambda: _gc_function(
                bplib.Linear(3, 2, rng=0), bplib.MSELoss(), X(), np.zeros((4, 2)), eps=0
            ),
            ValueError,
            r"gradcheck: eps must be a finite number > 0, got 0",
        ),
        bad(
            "a float32 model",
            lambda: _gc_function(
                bplib.Linear(3, 2, rng=0, dtype=np.float32),
                bplib.MSELoss(),
                X().astype(np.float32),
                np.zeros((4, 2)),
            ),
            TypeError,
            r"needs a float64 model; parameter 'weight' is float32",
        ),
        bad(
            "X a list",
            lambda: _gc_function(
                bplib.Linear(3, 2, rng=0), bplib.MSELoss(), X().tolist(), np.zeros((4, 2))
            ),
            TypeError,
            r"needs a float64 input X, got list",
        ),
        bad(
            "model is a function",
            lambda: _gc_function(np.tanh, bplib.MSELoss(), X(), np.zeros((4, 2))),
            TypeError,
            r"model must be a bplib Module, got ufunc",
        ),
        bad(
            "loss_fn is a class",
            lambda: _gc_function(bplib.Linear(3, 2, rng=0), bplib.MSELoss, X(), np.zeros((4, 2))),
            TypeError,
            r"gradcheck: loss_fn must be a bplib loss, got type",
        ),
    ],
    "bplib.gradcheck.relative_error": [
        bad(
            "(3, 1) against (3,)",
            lambda: gradcheck_module.relative_error(np.ones((3, 1)), np.ones(3)),
            ValueError,
            r"a and b must have the same shape, got \(3, 1\) and \(3,\)",
        ),
        bad(
            "a list",
            lambda: gradcheck_module.relative_error([1.0], np.ones(1)),
            TypeError,
            r"a must be a numpy array, got list",
        ),
        ok(
            "both zero",
            lambda: gradcheck_module.relative_error(np.zeros(2), np.zeros(2)),
            lambda v: v == 0.0,
        ),
    ],
    "bplib.gradcheck.numerical_gradient": [
        ok(
            "a transposed view is nudged in its own memory",
            lambda: gradcheck_module.numerical_gradient(lambda: 0.0, np.ones((2, 3)).T),
            lambda g: g.shape == (3, 2),
        ),
        ok("d/dx sum(x^2) at a non-contiguous x", lambda: _numgrad_strided(), lambda ok_: ok_),
        bad(
            "eps=0",
            lambda: gradcheck_module.numerical_gradient(lambda: 0.0, np.ones(2), eps=0.0),
            ValueError,
            r"numerical_gradient: eps must be a finite number > 0, got 0.0",
        ),
        bad(
            "read-only x",
            lambda: gradcheck_module.numerical_gradient(lambda: 0.0, readonly(np.ones(2))),
            ValueError,
            r"x must be writeable",
        ),
        bad(
            "integer x",
            lambda: gradcheck_module.numerical_gradient(lambda: 0.0, np.ones(2, int)),
            TypeError,
            r"x must be a floating numpy array, got dtype int64, shape",
        ),
    ],
    "bplib.GradcheckReport": [
        ok("an empty report", lambda: bplib.GradcheckReport({}, 1e-7).worst, lambda v: v == 0.0),
    ],
    "bplib.utils.update_to_data_ratios": [
        bad(
            "model a list",
            lambda: bplib.utils.update_to_data_ratios([], []),
            TypeError,  # type: ignore[arg-type]
            r"update_to_data_ratios: model must be a bplib Module, got list",
        ),
        bad(
            "before one short",
            lambda: bplib.utils.update_to_data_ratios(
                bplib.Linear(2, 3, rng=0), [np.zeros((2, 3))]
            ),
            ValueError,
            r"before must hold one array per parameter of the model \(2\), got 1",
        ),
        bad(
            "before of the wrong shape",
            lambda: bplib.utils.update_to_data_ratios(
                bplib.Linear(2, 3, rng=0), [np.zeros((3, 2)), np.zeros(3)]
            ),
            ValueError,
            r"before\['weight'\] must be an array of shape \(2, 3\), got dtype float64, shape \(3, 2\)",
        ),
        bad(
            "before an array",
            lambda: bplib.utils.update_to_data_ratios(bplib.Linear(2, 3, rng=0), np.zeros(2)),
            TypeError,
            r"before must be a list of arrays, one per parameter, got dtype float64",
        ),
        ok(
            "no step, no update",
            lambda: bplib.utils.update_to_data_ratios(
                (m := bplib.Linear(2, 3, rng=0)), [p.data.copy() for p in m.parameters()]
            ),
            lambda r: r == {"weight": 0.0, "bias": 0.0},
        ),
    ],
    "bplib.utils.clip_grad_norm": [
        bad(
            "None",
            lambda: bplib.utils.clip_grad_norm(None, 1.0),
            TypeError,
            r"clip_grad_norm expects bplib Parameters .*got None",
        ),
        bad(
            "a model",
            lambda: bplib.utils.clip_grad_norm(net(), 1.0),
            TypeError,
            r"got a Sequential \(a model\): pass model.parameters\(\)",
        ),
        ok("finite 1e308 gradients are clipped", _clip_huge, lambda v: v),
        bad(
            "max_norm=-1",
            lambda: bplib.utils.clip_grad_norm(net().parameters(), -1),
            ValueError,
            r"clip_grad_norm: max_norm must be a finite number > 0, got -1",
        ),
        bad("a NaN gradient", _clip_nan, FloatingPointError, r"NaN or infinite"),
    ],
    "bplib.utils.parameters_to_vector": [
        bad(
            "a model",
            lambda: bplib.utils.parameters_to_vector(net()),
            TypeError,
            r"parameters_to_vector expects bplib Parameters, got a Sequential",
        ),
        bad(
            "an empty list",
            lambda: bplib.utils.parameters_to_vector([]),
            ValueError,
            r"parameters_to_vector",
        ),
        ok(
            "a copy in order",
            lambda: bplib.utils.parameters_to_vector(net().parameters()).shape,
            lambda s: s == (3 * 4 + 4 + 4 * 2 + 2,),
        ),
    ],
    "bplib.utils.vector_to_parameters": [
        bad(
            "None",
            lambda: bplib.utils.vector_to_parameters(np.zeros(3), None),
            TypeError,
            r"vector_to_parameters expects bplib Parameters .*got None",
        ),
        bad(
            "a vector of the wrong length",
            lambda: bplib.utils.vector_to_parameters(np.zeros(5), net().parameters()),
            ValueError,
            r"got dtype float64, shape \(5,\)",
        ),
    ],
    "bplib.helpers.Summary": [
        ok(
            "displays as its text",
            lambda: repr(bplib.helpers.Summary("a\nb")),
            lambda v: v == "a\nb",
        ),
    ],
    "bplib.count_parameters": [
        bad(
            "not a model",
            lambda: bplib.count_parameters(3),
            TypeError,
            r"count_parameters: model must be a bplib Module, got 3",
        ),
        ok("3*4+4 + 4*2+2", lambda: bplib.count_parameters(net()), lambda v: v == 26),
    ],
    "bplib.summary": [
        bad(
            "not a model",
            lambda: bplib.summary(3, (3,)),
            TypeError,
            r"summary: model must be a bplib Module, got 3",
        ),
        bad(
            "the wrong input width",
            lambda: bplib.summary(net(), (5,)),
            ValueError,
            r"shape \(batch, features\)|expected",
        ),
    ],
    "bplib.predict_proba": [
        bad(
            "not a model",
            lambda: bplib.predict_proba(3, X()),
            TypeError,
            r"model must be a bplib Module, got 3",
        ),
        bad(
            "a list",
            lambda: bplib.predict_proba(net(), [[1.0, 2.0, 3.0]]),
            TypeError,
            r"X must be a numpy array, got list",
        ),
        ok("rows sum to 1", lambda: bplib.predict_proba(net(), X()).sum(axis=1), same(np.ones(4))),
    ],
    "bplib.exercises.answer": [
        ok(
            "the stub raises Unanswered, which check() turns into NOT_YET",
            _stub_is_unanswered,
            lambda v: v,
        ),
        ok("an answer", lambda: bplib.exercises.answer(2.0), lambda v: v == 2.0),
    ],
    "bplib.exercises.check": [
        bad(
            "not a function",
            lambda: bplib.exercises.check(3),
            TypeError,
            r"check function of no arguments, got int",
        ),
    ],
    "bplib.exercises.verdict": [
        ok(
            "a stub",
            lambda: bplib.exercises.verdict("1.2", ..., ...),
            lambda v: v == bplib.exercises.NOT_YET,
        ),
        ok(
            "a string where a number goes",
            lambda: bplib.exercises.verdict("1.2", "one", "two"),
            lambda v: v.startswith("Not yet"),
        ),
        bad(
            "a malformed exercise name",
            lambda: bplib.exercises.verdict("one"),
            ValueError,
            r"exercise should be a string like '3.1'",
        ),
        bad(
            "no such exercise",
            lambda: bplib.exercises.verdict("1.99", 1),
            ValueError,
            r"chapter 1 has no exercise '1.99'",
        ),
    ],
    "bplib.exercises.NotYet": [
        ok(
            "a diagnosis",
            lambda: str(bplib.exercises.NotYet("transposed?")),
            lambda v: v == "transposed?",
        ),
    ],
    "bplib.exercises.number": [
        ok(
            "a numpy scalar",
            lambda: bplib.exercises.number(np.float32(2.5), "x"),
            lambda v: v == 2.5 and type(v) is float,
        ),
        bad(
            "a string",
            lambda: bplib.exercises.number("2", "x"),
            bplib.exercises.NotYet,
            r"x should be a number, not str",
        ),
        bad(
            "an array",
            lambda: bplib.exercises.number(np.ones(3), "x"),
            bplib.exercises.NotYet,
            r"x should be a single number, not an array of shape",
        ),
        bad(
            "NaN",
            lambda: bplib.exercises.number(float("nan"), "x"),
            bplib.exercises.NotYet,
            r"x is nan, not a finite number",
        ),
    ],
    "bplib.exercises.array": [
        bad(
            "transposed",
            lambda: bplib.exercises.array(np.ones((2, 3)), "dW", (3, 2)),
            bplib.exercises.NotYet,
            r"dW has shape \(2, 3\): transposed\?",
        ),
        bad(
            "text",
            lambda: bplib.exercises.array("abc", "dW"),
            bplib.exercises.NotYet,
            r"dW should be an array of numbers, not str",
        ),
    ],
    "bplib.exercises.close": [
        ok(
            "shapes differ",
            lambda: bplib.exercises.close(np.ones(2), np.ones(3)),
            lambda v: v is False,
        ),
    ],
    "bplib.exercises.expression": [
        ok("a number", lambda: str(bplib.exercises.expression(2)), lambda v: v == "2"),
        bad(
            "a list",
            lambda: bplib.exercises.expression([1]),
            bplib.exercises.NotYet,
            r"expected a SymPy expression, got list",
        ),
    ],
    "bplib.exercises.same_function": [
        bad(
            "not an expression",
            lambda: bplib.exercises.same_function([1], 1, [{}]),
            bplib.exercises.NotYet,
            r"expected a SymPy expression",
        ),
    ],
    "bplib.exercises.Unanswered": [
        ok(
            "is an exception",
            lambda: bplib.exercises.Unanswered("x"),
            lambda v: isinstance(v, Exception),
        ),
    ],
}

SPECS: list[Spec] = [
    Spec(
        "bplib.predict_proba",
        "predict_proba",
        lambda m, X: bplib.predict_proba(m, X),
        [
            ArrayArg(
                "X", lambda: _xy()[0], r"\bX\b|Linear", valid=_X_OK, fixed_axes=(1,), skip=LEADING
            )
        ],
        setup=net_classifier,
        state=_model_state,
    ),
    Spec(
        "bplib.gradcheck",
        "gradcheck",
        _gradcheck_call,
        [
            ArrayArg("X", lambda: _xy()[0], r"\bX\b|Linear", fixed_axes=(0, 1)),
            ArrayArg("y", lambda: _xy()[1], r"\by\b|target|label", valid=_LABELS, fixed_axes=(0,)),
            ScalarArg("eps", 1e-6, is_real(0.0, low_open=True)),
            ScalarArg("tol", 1e-6, is_real(0.0, low_open=True)),
        ],
        setup=net_classifier,
        state=_model_state,
    ),
    Spec(
        "bplib.gradcheck.numerical_gradient",
        "numerical_gradient",
        lambda _, x, eps: gradcheck_module.numerical_gradient(
            lambda: _sum_of_squares(x), x, eps=eps
        ),
        [
            ArrayArg(
                "x",
                lambda: X(2, 3, seed=1),
                r"\bx\b",
                skip=frozenset({"read-only", "float32 dtype", "0-d", "1-d", "3-d", "empty"}),
            ),
            ScalarArg("eps", 1e-5, is_real(0.0, low_open=True)),
        ],
        rtol=1e-6,
    ),
    Spec(
        "bplib.gradcheck.relative_error",
        "relative_error",
        lambda _, a, b: gradcheck_module.relative_error(a, b),
        [
            ArrayArg(
                "a",
                lambda: X(2, 3, seed=1),
                r"\ba\b",
                valid=_X_OK | {"float32 dtype"},
                fixed_axes=(0, 1),
            ),
            ArrayArg(
                "b",
                lambda: X(2, 3, seed=2),
                r"\bb\b",
                valid=_X_OK | {"float32 dtype"},
                fixed_axes=(0, 1),
            ),
        ],
        rtol=1e-6,
    ),
    Spec(
        "bplib.utils.clip_grad_norm",
        "clip_grad_norm",
        lambda m, max_norm, norm_type: [
            bplib.utils.clip_grad_norm(m.parameters(), max_norm, norm_type),
            [p.grad for p in m.parameters()],
        ],
        [
            ScalarArg("max_norm", 1.0, is_real(0.0, low_open=True)),
            ScalarArg(
                "norm_type",
                2.0,
                lambda v: is_real(0.0, low_open=True)(v) or v == INF,
                skip=frozenset({"1e300"}),
            ),
        ],
        setup=_clip_setup,
        state=lambda m: [p.grad for p in m.parameters()],
    ),
    Spec(
        "bplib.utils.vector_to_parameters",
        "vector_to_parameters",
        lambda m, vector: [
            bplib.utils.vector_to_parameters(vector, m.parameters()),
            [p.data for p in m.parameters()],
        ][1],
        [ArrayArg("vector", _vector, r"vector", valid=_X_OK | {"float32 dtype"}, fixed_axes=(0,))],
        setup=net,
        state=_model_state,
    ),
]
