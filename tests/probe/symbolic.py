"""The probe's rows for bplib.symbolic.

``ROWS``: the hand-written cases, by public name; ``SPECS``: the known-good calls whose
arguments the generated battery mutates (``common.battery``). ``table.py`` gathers them.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

import bplib

from .common import (
    _LABELS,
    _X_OK,
    ArrayArg,
    Case,
    NaN,
    ScalarArg,
    Spec,
    _xy,
    bad,
    is_int,
    net_classifier,
    ok,
)


def _sym() -> Any:
    return importlib.import_module("bplib.symbolic")


_SYMBOLIC: dict[str, Any] = {}


def _symbolic_mlp() -> Any:
    """One SymbolicMLP for the whole probe: differentiating it is the slow part."""
    if not _SYMBOLIC:
        import bplib.symbolic as S

        _SYMBOLIC["net"] = S.SymbolicMLP([3, 2], "identity", "cross_entropy")
    return _SYMBOLIC["net"]


def _sym_gradient(net_: Any, X: Any, y: Any) -> Any:
    return net_.gradient_at(net_classifier(), X, y)


ROWS: dict[str, list[Case]] = {
    "bplib.symbolic.SymbolicMLP": [
        bad(
            "bias='no'",
            lambda: _sym().SymbolicMLP([2, 2, 1], "tanh", bias="no"),
            TypeError,
            r"SymbolicMLP: bias must be True or False \(or one per layer\), got str 'no'",
        ),
        bad(
            "bias=[True, 'no']",
            lambda: _sym().SymbolicMLP([2, 2, 1], "tanh", bias=[True, "no"]),
            TypeError,
            r"bias must be True or False",
        ),
        bad(
            "negative_slope=NaN",
            lambda: _sym().SymbolicMLP([2, 2, 1], "leaky_relu", negative_slope=NaN),
            ValueError,
            r"negative_slope must be a finite number >= 0, got nan",
        ),
        bad(
            "an unknown activation",
            lambda: _sym().SymbolicMLP([2, 2, 1], "swish"),
            ValueError,
            r"unknown activation 'swish'",
        ),
        bad(
            "bias for 3 layers of 2",
            lambda: _sym().SymbolicMLP([2, 2, 1], "tanh", bias=[True, True, True]),
            ValueError,
            r"expected one bias per layer \(2\), got 3",
        ),
        ok(
            "bias=np.bool_(False)",
            lambda: _sym().SymbolicMLP([2, 1], "tanh", bias=np.bool_(False)).has_bias,
            lambda h: h == [False],
        ),
    ],
    "bplib.symbolic.activation": [
        bad("an unknown name", lambda: _sym().activation("swish", 1), ValueError, r"swish"),
    ],
    "bplib.symbolic.layer_jacobians": [
        bad(
            "n_in=0",
            lambda: _sym().layer_jacobians(0, 2),
            ValueError,
            r"n_in must be a positive integer, got 0",
        ),
        bad(
            "an unknown activation",
            lambda: _sym().layer_jacobians(2, 2, "swish"),
            ValueError,
            r"swish",
        ),
    ],
    "bplib.symbolic.LayerJacobians": [
        ok(
            "built by layer_jacobians",
            lambda: type(_sym().layer_jacobians(1, 1)).__name__,
            lambda n: n == "LayerJacobians",
        ),
    ],
    "bplib.symbolic.relu_convention": [
        ok("a plain number is unchanged", lambda: _sym().relu_convention(3), lambda v: v == 3),
    ],
    "bplib.symbolic.check_model": [
        bad(
            "not a Sequential",
            lambda: _sym().check_model(
                bplib.Linear(2, 1, rng=0), np.ones((1, 2)), np.ones((1, 1)), bplib.MSELoss()
            ),
            TypeError,
            r"Sequential",
        ),
    ],
    "bplib.symbolic.compare_model": [
        bad(
            "loss_fn is a class",
            lambda: _sym().compare_model(
                bplib.Sequential(bplib.Linear(2, 1, rng=0)),
                np.ones((1, 2)),
                np.ones((1, 1)),
                bplib.MSELoss,
            ),
            TypeError,
            r"type",
        ),
    ],
}

SPECS: list[Spec] = [
    Spec(
        "bplib.symbolic.SymbolicMLP",
        "SymbolicMLP.gradient_at",
        _sym_gradient,
        [
            ArrayArg(
                "X",
                lambda: _xy()[0],
                r"\bX\b|labels of shape \(7,\), one per row",  # 7 rows of X, 6 labels
                valid=_X_OK | {"float32 dtype"},
                fixed_axes=(0, 1),
            ),
            ArrayArg("y", lambda: _xy()[1], r"\by\b|label", valid=_LABELS, fixed_axes=(0,)),
        ],
        setup=_symbolic_mlp,
        rtol=1e-10,
    ),
    Spec(
        "bplib.symbolic.layer_jacobians",
        "layer_jacobians",
        lambda _, **kw: [
            str(getattr(bplib.symbolic.layer_jacobians(activation_name="tanh", **kw), f))
            for f in ("Z", "dZ_dX")
        ],
        [
            ScalarArg("n_in", 2, is_int(1)),
            ScalarArg("n_out", 2, is_int(1)),
            ScalarArg("batch", 1, is_int(1)),
        ],
    ),
]
