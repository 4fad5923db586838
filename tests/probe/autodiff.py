"""The probe's rows for bplib.autodiff (Tensor and its operations).

``ROWS``: the hand-written cases, by public name; ``SPECS``: the known-good calls whose
arguments the generated battery mutates (``common.battery``). ``table.py`` gathers them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from bplib import autodiff
from bplib.autodiff import Tensor

from .common import (
    _X_OK,
    SAME_VALUES,
    ArrayArg,
    Case,
    NaN,
    Spec,
    X,
    bad,
    matrix,
    ok,
    readonly,
    same,
)


def _tensor_cases() -> list[Case]:
    t = Tensor([1e200, 2.0])
    return [
        bad("NaN data", lambda: Tensor([1.0, NaN]), ValueError, r"Tensor got NaN or infinity"),
        bad(
            "string data",
            lambda: Tensor("abc"),
            TypeError,
            r"Tensor expected real numbers, got str",
        ),
        bad(
            "ragged list",
            lambda: Tensor([[1.0, 2.0], [3.0]]),
            ValueError,
            r"Tensor expected a rectangular array, got a ragged nested list",
        ),
        bad("a Tensor of a Tensor", lambda: Tensor(Tensor(1.0)), TypeError, r"got a Tensor"),
        bad("* overflows", lambda: t * t, FloatingPointError, r"'\*' overflowed"),
        bad("/ overflows", lambda: t / 1e-200, FloatingPointError, r"'/' overflowed"),
        bad(
            "+ overflows", lambda: Tensor(1.5e308) + 1.5e308, FloatingPointError, r"'\+' overflowed"
        ),
        bad("** overflows", lambda: t**2, FloatingPointError, r"'\*\* 2' overflowed"),
        bad("/ by zero", lambda: t / 0.0, ZeroDivisionError, r"'/' by a tensor that contains 0"),
        ok("** np.int64(2)", lambda: (Tensor([3.0]) ** np.int64(2)).data, same([9.0])),
        ok("** np.float32(0.5)", lambda: (Tensor([4.0]) ** np.float32(0.5)).data, same([2.0])),
        bad(
            "** 'a'",
            lambda: Tensor([3.0]) ** "a",
            TypeError,
            r"'\*\*' needs a constant number as exponent, got str 'a'",
        ),
        bad(
            "** nan",
            lambda: Tensor([3.0]) ** NaN,
            ValueError,
            r"'\*\*' needs a finite exponent, got nan",
        ),
        bad("** True", lambda: Tensor([3.0]) ** True, TypeError, r"exponent, got True"),
        bad(
            "shapes that do not broadcast",
            lambda: Tensor(np.ones(3)) + np.ones(4),
            ValueError,
            r"'\+' cannot broadcast shapes \(3,\) and \(4,\)",
        ),
        bad(
            "sum(axis=1.5)",
            lambda: Tensor(np.ones(3)).sum(axis=1.5),
            TypeError,
            r"axis must be an int, a tuple of ints or None, got 1.5",
        ),
        bad(
            "sum(axis='0')",
            lambda: Tensor(np.ones(3)).sum(axis="0"),
            TypeError,
            r"axis must be an int.*got str '0'",
        ),
        bad(
            "sum(axis=(0, 0))",
            lambda: Tensor(np.ones((2, 2))).sum(axis=(0, 0)),
            ValueError,
            r"axis \(0, 0\) names an axis twice",
        ),
        bad(
            "mean(axis=5)",
            lambda: Tensor(np.ones(3)).mean(axis=5),
            ValueError,
            r"axis 5 is out of range for a tensor of shape \(3,\)",
        ),
        bad(
            "reshape to the wrong size",
            lambda: Tensor(np.ones(6)).reshape(4, 2),
            ValueError,
            r"cannot reshape a tensor of shape \(6,\) \(6 elements\) into shape \(4, 2\)",
        ),
        bad(
            "transpose(0, 0)",
            lambda: Tensor(np.ones((2, 2))).transpose(0, 0),
            ValueError,
            r"transpose needs a permutation of \[0, 1\], got \(0, 0\)",
        ),
        bad(
            "@ mismatched",
            lambda: Tensor(np.ones((2, 3))) @ np.ones((2, 3)),
            ValueError,
            r"'@' needs matching inner dimensions: \(2, 3\) @ \(2, 3\)",
        ),
        bad(
            "backward of a vector without a seed",
            lambda: Tensor(np.ones(3)).backward(),
            RuntimeError,
            r"needs a tensor with one element.*got shape \(3,\)",
        ),
        bad(
            "backward seed of the wrong shape",
            lambda: Tensor(np.ones(3)).backward(np.ones(2)),
            ValueError,
            r"backward\(grad_out\) needs a gradient of the tensor's shape \(3,\), got \(2,\)",
        ),
        bad("exp overflows", lambda: Tensor([1000.0]).exp(), FloatingPointError, r"exp overflowed"),
        bad(
            "log of 0",
            lambda: Tensor([0.0]).log(),
            ValueError,
            r"log needs positive values, got a minimum of 0",
        ),
        ok(
            "np.matrix data becomes an array",
            lambda: type(Tensor(matrix([[1.0, 2.0]])).data),
            lambda k: k is np.ndarray,
        ),
        ok("read-only data", lambda: (Tensor(readonly(np.ones(2))) * 2.0).data, same([2.0, 2.0])),
    ]


def _tensor_op(op: Callable[[Tensor, Any], Tensor]) -> Callable[..., Any]:
    def call(_: Any, other: Any) -> Any:
        return op(Tensor(np.linspace(0.5, 2.0, 6).reshape(2, 3)), other).data

    return call


def _matmul(_: Any, other: Any) -> Any:
    return (Tensor(np.linspace(0.5, 2.0, 6).reshape(2, 3)) @ other).data


_OPERAND_OK = SAME_VALUES | {"list", "int dtype", "bool dtype", "np.matrix", "float32 dtype"}


def _tensor_backward(_: Any, grad_out: Any) -> Any:
    w = Tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3))
    out = w * 2.0
    out.backward(grad_out)
    return w.grad


ROWS: dict[str, list[Case]] = {
    # ---------------------------------------------------------------------------- autodiff
    "bplib.autodiff.Tensor": _tensor_cases(),
    "bplib.autodiff.unbroadcast": [
        bad(
            "(5,) is not reachable from (3, 4)",
            lambda: autodiff.unbroadcast(np.ones((3, 4)), (5,)),
            ValueError,
            r"unbroadcast: shape must broadcast to the gradient's shape \(3, 4\), got \(5,\)",
        ),
        bad(
            "(2, 4) is not reachable from (3, 4)",
            lambda: autodiff.unbroadcast(np.ones((3, 4)), (2, 4)),
            ValueError,
            r"got \(2, 4\)",
        ),
        bad(
            "a list gradient",
            lambda: autodiff.unbroadcast([1.0, 2.0], (2,)),
            TypeError,
            r"grad must be a numpy array, got list",
        ),
        ok(
            "(1, 4) from (3, 4)",
            lambda: autodiff.unbroadcast(np.ones((3, 4)), (1, 4)),
            same(np.full((1, 4), 3.0)),
        ),
        ok(
            "(4,) from (3, 4)",
            lambda: autodiff.unbroadcast(np.ones((3, 4)), (4,)),
            same(np.full(4, 3.0)),
        ),
    ],
    "bplib.autodiff.topological_order": [
        ok("a leaf", lambda: len(autodiff.topological_order(Tensor(1.0))), lambda n: n == 1),
    ],
}

SPECS: list[Spec] = [
    Spec(
        "bplib.autodiff.Tensor",
        "Tensor",
        lambda _, data: Tensor(data).data,
        [
            ArrayArg(
                "data",
                lambda: X(2, 3, seed=1),
                r"Tensor|data",
                valid=_OPERAND_OK,
                expect=lambda v: np.asarray(v, np.float64),
                any_shape=True,
            )
        ],
    ),
    *(
        Spec(
            "bplib.autodiff.Tensor",
            f"Tensor {sym}",
            _tensor_op(op),
            [
                ArrayArg(
                    "other",
                    lambda: np.abs(X(2, 3, seed=2)) + 2.0,
                    rf"{re.escape(sym)}|Tensor",
                    valid=_OPERAND_OK,
                    fixed_axes=(1,),
                    skip=frozenset({"0-d", "3-d"}),
                )
            ],
        )  # a scalar and (1, 2, 3) broadcast
        for sym, op in [
            ("+", lambda t, o: t + o),
            ("-", lambda t, o: t - o),
            ("*", lambda t, o: t * o),
            ("/", lambda t, o: t / o),
        ]
    ),
    Spec(
        "bplib.autodiff.Tensor",
        "Tensor @",
        _matmul,
        [
            ArrayArg(
                "other", lambda: X(3, 2, seed=2), r"@|Tensor", valid=_OPERAND_OK, fixed_axes=(0,)
            )
        ],
    ),
    Spec(
        "bplib.autodiff.Tensor",
        "Tensor.backward",
        _tensor_backward,
        [
            ArrayArg(
                "grad_out",
                lambda: X(2, 3, seed=5),
                r"grad_out|backward",
                valid=_X_OK | {"float32 dtype", "list", "np.matrix"},
                fixed_axes=(0, 1),
            )
        ],
    ),
    Spec(
        "bplib.autodiff.unbroadcast",
        "unbroadcast",
        lambda _, grad: autodiff.unbroadcast(grad, (1, 3)),
        [
            ArrayArg(
                "grad",
                lambda: X(4, 3, seed=5),
                r"grad|unbroadcast",
                valid=_X_OK | {"float32 dtype"},
                fixed_axes=(1,),
                passes_nonfinite=True,
                skip=frozenset({"3-d", "empty"}),
            )
        ],
    ),  # (1, 4, 3) and (0, 3) reach (1, 3),
]
