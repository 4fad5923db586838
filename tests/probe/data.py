"""The probe's rows for bplib.data.

``ROWS``: the hand-written cases, by public name; ``SPECS``: the known-good calls whose
arguments the generated battery mutates (``common.battery``). ``table.py`` gathers them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bplib import data

from .common import (
    _LABELS,
    _X_OK,
    ArrayArg,
    Case,
    NaN,
    ScalarArg,
    Spec,
    X,
    _xy,
    bad,
    is_int,
    is_real,
    matrix,
    ok,
)


def _std_huge() -> bool:
    s = D.Standardizer().fit(np.array([[1e308], [1e308], [-1e308]]))
    assert s.mean is not None and s.scale is not None
    assert np.isfinite(s.mean).all() and np.isfinite(s.scale).all()
    np.testing.assert_allclose(s.mean, [1e308 / 3], rtol=1e-12)
    assert np.isfinite(s.transform(np.array([[1e308], [-1e308]]))).all()
    return True


# --------------------------------------------------------------------------------- data
D = data


def _std_fit(s: Any, X: Any) -> Any:
    s.fit(X)
    return [s.mean, s.scale]


def _fitted_std() -> Any:
    return D.Standardizer().fit(X(5, 3, seed=2))


ROWS: dict[str, list[Case]] = {
    "bplib.data.Standardizer": [
        ok("values near 1e308 give a finite mean and scale", lambda: _std_huge(), lambda v: v),
        bad(
            "transform before fit",
            lambda: D.Standardizer().transform(X()),
            RuntimeError,
            r"called before fit\(\)",
        ),
        bad(
            "np.matrix",
            lambda: D.Standardizer().fit(matrix(X())),
            TypeError,
            r"X must be a plain numpy array, got an np.matrix",
        ),
        bad(
            "NaN",
            lambda: D.Standardizer().fit(np.full((2, 2), NaN)),
            ValueError,
            r"X must be finite, got 4 NaN and 0 infinite entries",
        ),
        bad("a list", lambda: D.Standardizer().fit([[1.0]]), TypeError, r"got list"),
    ],
    "bplib.data.standardize": [
        bad("1-D", lambda: D.standardize(np.ones(3)), ValueError, r"shape \(3,\)"),
    ],
    "bplib.data.one_hot": [
        bad(
            "a label >= n_classes",
            lambda: D.one_hot(np.array([0, 3]), 3),
            ValueError,
            r"labels must lie in 0 .. 2 for n_classes=3, got label 3",
        ),
        bad(
            "n_classes=0",
            lambda: D.one_hot(np.array([0, 1]), 0),
            ValueError,
            r"n_classes must be a positive integer, got 0",
        ),
        bad("float labels", lambda: D.one_hot(np.array([0.5])), TypeError, r"float64"),
    ],
    "bplib.data.batches": [
        bad(
            "batch_size=0",
            lambda: list(D.batches(X(), np.zeros(4), 0)),
            ValueError,
            r"batch_size must be a positive integer, got 0",
        ),
        bad(
            "X a list",
            lambda: list(D.batches(X().tolist(), np.zeros(4), 2)),
            TypeError,
            r"X must be a numpy array, got list",
        ),
    ],
    "bplib.data.train_test_split": [
        bad(
            "test_size=1.5",
            lambda: D.train_test_split(X(10), np.arange(10) % 2, 1.5),
            ValueError,
            r"test_size must be a fraction strictly between 0 and 1",
        ),
    ],
    "bplib.data.xor": [
        bad(
            "n_per_corner=0",
            lambda: D.xor(0),
            ValueError,
            r"n_per_corner must be a positive integer, got 0",
        )
    ],
    "bplib.data.spirals": [
        bad(
            "n_classes=1",
            lambda: D.spirals(n_classes=1),
            ValueError,
            r"n_classes must be at least 2, got 1",
        )
    ],
    "bplib.data.moons": [
        bad(
            "noise=-0.1",
            lambda: D.moons(noise=-0.1),
            ValueError,
            r"noise must be a finite number >= 0",
        )
    ],
    "bplib.data.circles": [
        bad(
            "factor=1.0",
            lambda: D.circles(factor=1.0),
            ValueError,
            r"factor .* must lie in \(0, 1\), got 1.0",
        )
    ],
    "bplib.data.regression_1d": [
        bad(
            "n=0",
            lambda: D.regression_1d(n=0),
            ValueError,
            r"n must be a positive integer, got 0",
        )
    ],
    "bplib.data.load_text": [
        ok("the shipped text", lambda: len(D.load_text()), lambda n: n == 196867),
    ],
    "bplib.data.CharVocab": [
        bad(
            "an empty text",
            lambda: D.CharVocab(""),
            ValueError,
            r"CharVocab: text must be a non-empty str, got str ''",
        ),
        bad(
            "a list",
            lambda: D.CharVocab(["a"]),
            ValueError,  # type: ignore[arg-type]
            r"CharVocab: text must be a non-empty str, got list",
        ),
        bad(
            "encode an unknown character",
            lambda: D.CharVocab("ab").encode("abc"),
            ValueError,
            r"CharVocab\.encode: text must use the vocabulary's 2 characters, got 1 others",
        ),
        bad(
            "decode out of range",
            lambda: D.CharVocab("ab").decode([0, 2]),
            ValueError,
            r"CharVocab\.decode: tokens must lie in 0\.\.1, got values from 0 to 2",
        ),
        bad(
            "decode floats",
            lambda: D.CharVocab("ab").decode([0.0]),
            TypeError,
            r"CharVocab\.decode: tokens must be a 1-D sequence of integers, got dtype float64",
        ),
    ],
    "bplib.data.text_windows": [
        bad(
            "batch_size=0",
            lambda: D.text_windows(np.arange(9), 0, 4),
            ValueError,
            r"text_windows: batch_size must be a positive integer, got 0",
        ),
        bad(
            "too short",
            lambda: D.text_windows(np.arange(4), 2, 4),
            ValueError,
            r"text_windows: tokens must be longer than block_size=4 .*, got 4 tokens",
        ),
        bad(
            "float tokens",
            lambda: D.text_windows(np.zeros(9), 2, 4),
            TypeError,
            r"text_windows: tokens must be a 1-D integer array, got dtype float64",
        ),
        bad(
            "a list",
            lambda: D.text_windows([1, 2, 3], 1, 1),
            TypeError,  # type: ignore[arg-type]
            r"text_windows: tokens must be a numpy array, got list",
        ),
        ok(
            "targets are the next tokens",
            lambda: D.text_windows(np.arange(20), 3, 5, rng=0),
            lambda xy: bool((xy[1] == xy[0] + 1).all()) and xy[0].shape == (3, 5),
        ),
    ],
    "bplib.data.load_digits": [
        ok("the shipped digits", lambda: D.load_digits()[0].shape, lambda s: s == (1797, 64))
    ],
}

SPECS: list[Spec] = [
    Spec(
        "bplib.data.Standardizer",
        "Standardizer.fit",
        _std_fit,
        [ArrayArg("X", lambda: X(5, 3, seed=2), r"\bX\b", valid=_X_OK | {"float32 dtype"})],
        setup=D.Standardizer,
        rtol=1e-12,
    ),
    Spec(
        "bplib.data.Standardizer",
        "Standardizer.transform",
        lambda s, X: s.transform(X),
        [
            ArrayArg(
                "X",
                lambda: X(4, 3, seed=3),
                r"\bX\b",
                valid=_X_OK | {"float32 dtype"},
                fixed_axes=(1,),
            )
        ],
        setup=_fitted_std,
    ),
    Spec(
        "bplib.data.Standardizer",
        "Standardizer.inverse_transform",
        lambda s, Z: s.inverse_transform(Z),
        [
            ArrayArg(
                "Z",
                lambda: X(4, 3, seed=3),
                r"\bZ\b",
                valid=_X_OK | {"float32 dtype"},
                fixed_axes=(1,),
            )
        ],
        setup=_fitted_std,
    ),
    Spec(
        "bplib.data.standardize",
        "standardize",
        lambda _, X_train, X_test: D.standardize(X_train, X_test),
        [
            ArrayArg(
                "X_train",
                lambda: X(5, 3, seed=2),
                r"X_train|\bX\b",
                valid=_X_OK | {"float32 dtype"},
            ),
            ArrayArg(
                "X_test",
                lambda: X(4, 3, seed=3),
                r"\bX\b|other|1",
                valid=_X_OK | {"float32 dtype"},
                fixed_axes=(1,),
            ),
        ],
    ),
    Spec(
        "bplib.data.batches",
        "batches",
        lambda _, X, y, batch_size: [list(b) for b in D.batches(X, y, batch_size, rng=0)],
        [
            ArrayArg(
                "X",
                lambda: _xy()[0],
                r"\bX\b",
                valid=_X_OK | {"float32 dtype"},
                fixed_axes=(0,),
                passes_nonfinite=True,
            ),
            ArrayArg(
                "y",
                lambda: _xy()[1],
                r"\by\b",
                valid=_LABELS | {"bool dtype", "float dtype"},
                fixed_axes=(0,),
            ),
            ScalarArg("batch_size", 4, is_int(1)),
        ],
    ),
    Spec(
        "bplib.data.one_hot",
        "one_hot",
        lambda _, y, n_classes: D.one_hot(y, n_classes),
        [
            ArrayArg(
                "y",
                lambda: np.array([0, 2, 1, 2]),
                r"\by\b|label",
                valid=_LABELS,
                skip=frozenset({"empty"}),
            ),  # no labels, no rows: valid
            ScalarArg("n_classes", 3, is_int(3, none=True)),
        ],
    ),
    Spec(
        "bplib.data.train_test_split",
        "train_test_split",
        lambda _, X, y, test_size: D.train_test_split(X, y, test_size, rng=0),
        [
            ArrayArg(
                "X",
                lambda: X(10, 2, seed=2),
                r"\bX\b",
                valid=_X_OK | {"float32 dtype"},
                fixed_axes=(0,),
                passes_nonfinite=True,
            ),
            ArrayArg("y", lambda: np.arange(10) % 2, r"\by\b", valid=_LABELS, fixed_axes=(0,)),
            ScalarArg("test_size", 0.4, is_real(0.0, 1.0, low_open=True, high_open=True)),
        ],
    ),
    *(
        Spec(
            f"bplib.data.{fn}",
            fn,
            lambda _, fn=fn, **kw: getattr(D, fn)(rng=0, **kw),
            [ScalarArg(n, v, dom) for n, (v, dom) in hyper.items()],
        )
        for fn, hyper in [
            ("moons", {"n": (10, is_int(2)), "noise": (0.1, is_real(0.0))}),
            (
                "circles",
                {
                    "n": (10, is_int(2)),
                    "noise": (0.05, is_real(0.0)),
                    "factor": (0.5, is_real(0.0, 1.0, low_open=True, high_open=True)),
                },
            ),
            (
                "spirals",
                {
                    "n_per_class": (5, is_int(1)),
                    "n_classes": (3, is_int(2)),
                    "noise": (0.2, is_real(0.0)),
                },
            ),
            ("xor", {"n_per_corner": (2, is_int(1)), "noise": (0.1, is_real(0.0))}),
            ("regression_1d", {"n": (10, is_int(1)), "noise": (0.1, is_real(0.0))}),
        ]
    ),
]
