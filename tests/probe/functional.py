"""The probe's rows for bplib.functional.

``ROWS``: the hand-written cases, by public name; ``SPECS``: the known-good calls whose
arguments the generated battery mutates (``common.battery``). ``table.py`` gathers them.
"""

from __future__ import annotations

import numpy as np

from bplib import functional

from .common import (
    INF,
    SAME_VALUES,
    ArrayArg,
    Case,
    NaN,
    ScalarArg,
    Spec,
    X,
    _np_sigmoid,
    bad,
    matrix,
    ok,
    readonly,
    same,
    strided,
)

# ------------------------------------------------------------------------- functional
F = functional


ROWS: dict[str, list[Case]] = {
    "bplib.functional.logsumexp": [
        ok(
            "a row of -inf gives -inf",
            lambda: F.logsumexp(np.array([[-INF, -INF], [0.0, 0.0]])),
            same([[-INF], [np.log(2)]]),
        ),
        ok("+inf gives +inf", lambda: F.logsumexp(np.array([[1.0, INF]])), same([[INF]])),
        bad(
            "NaN",
            lambda: F.logsumexp(np.array([1.0, NaN])),
            ValueError,
            r"logsumexp: z must not contain NaN",
        ),
        bad(
            "a list",
            lambda: F.logsumexp([1.0, 2.0]),
            TypeError,
            r"logsumexp: z must be a numpy array, got list",
        ),
        bad(
            "np.matrix",
            lambda: F.logsumexp(matrix([[1.0, 2.0]])),
            TypeError,
            r"z must be a plain numpy array, got an np.matrix",
        ),
        bad(
            "axis=2 of a 1-D array",
            lambda: F.logsumexp(np.ones(3), axis=2),
            ValueError,
            r"logsumexp: axis must lie in -1..0 for a 1-D array, got 2",
        ),
        bad(
            "axis=0.5",
            lambda: F.logsumexp(np.ones(3), axis=0.5),
            TypeError,
            r"axis must be an int, got 0.5",
        ),
        bad(
            "empty",
            lambda: F.logsumexp(np.zeros((2, 0))),
            ValueError,
            r"z must not be empty, got shape \(2, 0\)",
        ),
        ok(
            "huge finite logits",
            lambda: F.logsumexp(np.array([1e308, 1e308])),
            same([1e308 + np.log(2)]),
        ),
    ],
    "bplib.functional.softmax": [
        ok(
            "+inf takes all the mass",
            lambda: F.softmax(np.array([[1000.0, INF], [INF, INF]])),
            same([[0.0, 1.0], [0.5, 0.5]]),
        ),
        bad(
            "a row of -inf",
            lambda: F.softmax(np.array([[-INF, -INF]])),
            ValueError,
            r"softmax: a slice whose entries are all -inf has no softmax",
        ),
        bad(
            "NaN",
            lambda: F.softmax(np.array([NaN, 1.0])),
            ValueError,
            r"softmax: z must not contain NaN",
        ),
        bad(
            "a list",
            lambda: F.softmax([1.0]),
            TypeError,
            r"softmax: z must be a numpy array, got list",
        ),
        ok("read-only", lambda: F.softmax(readonly(X())), same(F.softmax(X()))),
        ok("non-contiguous", lambda: F.softmax(strided(X())), same(F.softmax(X()))),
    ],
    "bplib.functional.log_softmax": [
        ok(
            "+inf entries",
            lambda: F.log_softmax(np.array([[1000.0, INF]])),
            same([[-INF, 0.0]]),
        ),
        bad(
            "a row of -inf",
            lambda: F.log_softmax(np.array([[-INF, -INF]])),
            ValueError,
            r"log_softmax: a slice whose entries are all -inf",
        ),
        bad(
            "a string",
            lambda: F.log_softmax("z"),
            TypeError,
            r"logsumexp: z must be a numpy array, got str 'z'",
        ),
    ],
    "bplib.functional.sigmoid": [
        ok("+-inf", lambda: F.sigmoid(np.array([-INF, INF])), same([0.0, 1.0])),
        ok(
            "+-1000 without overflow",
            lambda: F.sigmoid(np.array([-1000.0, 1000.0])),
            same([0.0, 1.0]),
        ),
        bad(
            "a list",
            lambda: F.sigmoid([0.0]),
            TypeError,
            r"sigmoid: z must be a numpy array, got list",
        ),
        bad("np.matrix", lambda: F.sigmoid(matrix([[0.0]])), TypeError, r"np.matrix"),
    ],
    "bplib.functional.softplus": [
        ok("+-inf", lambda: F.softplus(np.array([-INF, INF])), same([0.0, INF])),
        bad(
            "a list",
            lambda: F.softplus([0.0]),
            TypeError,
            r"softplus: z must be a numpy array, got list",
        ),
    ],
}

SPECS: list[Spec] = []

for _name in ("sigmoid", "softplus"):
    SPECS.append(
        Spec(
            f"bplib.functional.{_name}",
            _name,
            lambda _, z, name=_name: getattr(F, name)(z),
            [
                ArrayArg(
                    "z",
                    lambda: X(4, 3, seed=6),
                    r"\bz\b|" + _name,
                    valid=SAME_VALUES | {"float32 dtype", "int dtype"},
                    passes_nonfinite=True,
                    expect=_np_sigmoid
                    if _name == "sigmoid"
                    else lambda v: np.logaddexp(0.0, np.asarray(v, np.float64)),
                    any_shape=True,
                )
            ],
        )
    )

for _name in ("softmax", "log_softmax", "logsumexp"):
    SPECS.append(
        Spec(
            f"bplib.functional.{_name}",
            _name,
            lambda _, z, axis, name=_name: getattr(F, name)(z, axis=axis),
            [
                ArrayArg(
                    "z",
                    lambda: X(4, 3, seed=6),
                    r"\bz\b|" + _name,
                    valid=SAME_VALUES | {"float32 dtype", "int dtype"},
                    skip=frozenset({"0-d", "1-d", "3-d", "empty", "+inf", "-inf"}),
                ),
                ScalarArg(
                    "axis",
                    -1,
                    lambda v: (
                        v in (-2, -1, 0, 1)
                        and not isinstance(v, bool)
                        and isinstance(v, int | np.integer)
                    ),
                ),
            ],
        )
    )
