"""The probe's rows for bplib.losses.

``ROWS``: the hand-written cases, by public name; ``SPECS``: the known-good calls whose
arguments the generated battery mutates (``common.battery``). ``table.py`` gathers them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import bplib

from .common import (
    BPLIB_ERRORS,
    INF,
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
    strided,
)


def loss_then(loss: bplib.Loss, pred: object, target: object) -> Callable[[], object]:
    """A good call, then a refused one: backward() must not return the good call's gradient."""

    def run() -> object:
        loss(
            np.zeros((2, 1)),
            np.zeros((2, 1))
            if not isinstance(loss, bplib.CrossEntropyLoss)
            else np.zeros(2, np.int64),
        )
        try:
            loss(pred, target)  # type: ignore[arg-type]
        except BPLIB_ERRORS:
            return loss.backward()
        raise AssertionError("the bad call was accepted")

    return run


def _loss_cases(
    make: Callable[[], bplib.Loss], good_target: Callable[[np.ndarray], np.ndarray]
) -> list[Case]:
    pred = np.zeros((4, 2))
    t = good_target(pred)
    return [
        bad("pred list", lambda: make()(pred.tolist(), t), TypeError, r"predictions .* got list"),
        bad(
            "pred int",
            lambda: make()(pred.astype(int), t),
            TypeError,
            r"predictions .* got dtype int64",
        ),
        bad(
            "pred complex",
            lambda: make()(pred.astype(complex), t),
            TypeError,
            r"predictions .* got dtype complex128",
        ),
        bad(
            "pred NaN",
            lambda: make()(np.full((4, 2), NaN), t),
            FloatingPointError,
            r"predictions containing NaN or infinity",
        ),
        bad(
            "pred +inf",
            lambda: make()(np.full((4, 2), INF), t),
            FloatingPointError,
            r"predictions containing NaN or infinity",
        ),
        bad(
            "pred empty",
            lambda: make()(np.zeros((0, 2)), t[:0]),
            ValueError,
            r"empty batch: predictions of shape \(0, 2\)",
        ),
        bad(
            "pred np.matrix",
            lambda: make()(matrix(pred), t),
            TypeError,
            r"pred \(the predictions\) must be a plain numpy array, got an np.matrix",
        ),
        ok("pred read-only", lambda: make()(readonly(pred), t), same(make()(pred, t))),
        ok("pred non-contiguous", lambda: make()(strided(pred), t), same(make()(pred, t))),
        bad("target None", lambda: make()(pred, None), TypeError, r"got None"),
        bad(
            "backward before forward",
            lambda: make().backward(),
            RuntimeError,
            r"backward\(\) called before the loss was computed",
        ),
        bad(
            "backward after a refused call",
            loss_then(make(), np.full((2, 1), NaN), t),
            RuntimeError,
            r"after a call that raised",
        ),
    ]


def _ce_target(pred: np.ndarray) -> np.ndarray:
    return np.zeros(pred.shape[0], np.int64)


def _like_target(pred: np.ndarray) -> np.ndarray:
    return np.zeros_like(pred)


def _loss_spec(key: str, make: Callable[[], Any], target: Callable[[], np.ndarray]) -> Spec:
    name = type(make()).__name__
    t = target()
    return Spec(
        key,
        f"{name}.__call__",
        lambda loss, pred, target: loss(pred, target),
        [
            ArrayArg(
                "pred",
                lambda: X(4, 2, seed=3),
                rf"pred|{name}",
                valid=SAME_VALUES | {"float32 dtype"},
                fixed_axes=(0,) if t.ndim == 1 else (0, 1),
            ),
            ArrayArg(
                "target",
                target,
                rf"target|label|{name}",
                valid=SAME_VALUES
                | (
                    {"uint8 dtype"}
                    if t.dtype.kind == "i"
                    else {"int dtype", "bool dtype", "float32 dtype"}
                ),
                fixed_axes=(0,) if t.ndim == 1 else (0, 1),
            ),
        ],
        setup=make,
        answer=lambda loss, v: [v, loss.backward()],
    )


ROWS: dict[str, list[Case]] = {
    # ----------------------------------------------------------------------------- losses
    "bplib.MSELoss": [
        *_loss_cases(bplib.MSELoss, _like_target),
        bad(
            "1e200 overflows",
            lambda: bplib.MSELoss()(np.full((3, 1), 1e200), np.zeros((3, 1))),
            FloatingPointError,
            r"the loss overflows .*largest \|pred - target\| = 1e\+200",
        ),
        bad(
            "(N,) target against (N, 1)",
            lambda: bplib.MSELoss()(np.zeros((3, 1)), np.zeros(3)),
            ValueError,
            r"target of the same shape as the predictions \(3, 1\), got \(3,\)",
        ),
        bad(
            "target np.matrix",
            lambda: bplib.MSELoss()(np.zeros((1, 3)), matrix(np.zeros((1, 3)))),
            TypeError,
            r"target must be a plain numpy array, got an np.matrix",
        ),
        bad(
            "reduction='avg'",
            lambda: bplib.MSELoss("avg"),
            ValueError,
            r"reduction must be 'mean' or 'sum', got 'avg'",
        ),
    ],
    "bplib.CrossEntropyLoss": [
        *_loss_cases(bplib.CrossEntropyLoss, _ce_target),
        bad(
            "+-1e308 logits overflow",
            lambda: bplib.CrossEntropyLoss()(np.array([[1e308, -1e308]]), np.array([1])),
            FloatingPointError,
            r"the loss overflows .*largest \|logit\| = 1e\+308",
        ),
        bad(
            "float labels",
            lambda: bplib.CrossEntropyLoss()(np.zeros((2, 3)), np.zeros(2)),
            TypeError,
            r"integer class labels .* got dtype float64",
        ),
        bad(
            "label 3 of 3 classes",
            lambda: bplib.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0, 3])),
            ValueError,
            r"labels in 0..2 for 3 classes, got values from 0 to 3",
        ),
        bad(
            "labels (2, 1)",
            lambda: bplib.CrossEntropyLoss()(np.zeros((2, 3)), np.zeros((2, 1), int)),
            ValueError,
            r"labels of shape \(2,\).*got \(2, 1\)",
        ),
    ],
    "bplib.BCEWithLogitsLoss": [
        *_loss_cases(bplib.BCEWithLogitsLoss, _like_target),
        ok(
            "-1e308 logits with target 1: a finite mean of huge terms",
            lambda: bplib.BCEWithLogitsLoss()(np.full((3, 1), -1e308), np.ones((3, 1))),
            same(1e308),
        ),
        bad(
            "target 2",
            lambda: bplib.BCEWithLogitsLoss()(np.zeros((2, 1)), np.full((2, 1), 2.0)),
            ValueError,
            r"targets in \[0, 1\], got values from 2.0 to 2.0",
        ),
    ],
    "bplib.Loss": [
        bad(
            "the base class computes nothing",
            lambda: bplib.Loss()(np.zeros((1, 1)), np.zeros((1, 1))),
            NotImplementedError,
            r"Loss does not implement forward\(pred, target\)",
        ),
    ],
}

SPECS: list[Spec] = [
    _loss_spec("bplib.MSELoss", bplib.MSELoss, lambda: X(4, 2, seed=4)),
    _loss_spec(
        "bplib.BCEWithLogitsLoss",
        bplib.BCEWithLogitsLoss,
        lambda: (X(4, 2, seed=4) > 0).astype(np.float64),
    ),
    _loss_spec(
        "bplib.CrossEntropyLoss", bplib.CrossEntropyLoss, lambda: np.array([0, 1, 1, 0], np.int64)
    ),
]
