"""The probe's rows for bplib.train, bplib.callbacks and bplib.serialization.

``ROWS``: the hand-written cases, by public name; ``SPECS``: the known-good calls whose
arguments the generated battery mutates (``common.battery``). ``table.py`` gathers them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import bplib
from bplib import optim, train

from .common import (
    _LABELS,
    _X_OK,
    LEADING,
    SAME_VALUES,
    ArrayArg,
    Case,
    NaN,
    ScalarArg,
    Spec,
    X,
    _model_state,
    _xy,
    bad,
    is_int,
    is_real,
    net,
    net_classifier,
    ok,
    readonly,
    same,
)


def _fit_float32_val() -> Callable[[], object]:
    def run() -> object:
        model = bplib.Sequential(bplib.Linear(3, 3, rng=0, dtype=np.float32))
        Xs = X(12).astype(np.float32)
        before = model.parameters()[0].data.copy()
        try:
            return train.fit(
                model,
                bplib.CrossEntropyLoss(),
                optim.SGD(model.parameters(), lr=0.1),
                Xs,
                np.arange(12) % 3,
                epochs=1,
                progress=False,
                validation=(X(4), np.array([0, 1, 2, 0])),
            )
        finally:
            np.testing.assert_array_equal(model.parameters()[0].data, before)

    return run


# ------------------------------------------------------------------ metrics and train
def _classifier() -> tuple[bplib.Sequential, np.ndarray, np.ndarray]:
    model = bplib.Sequential(bplib.Linear(3, 4, rng=0), bplib.Tanh(), bplib.Linear(4, 3, rng=1))
    return model, X(12), np.arange(12) % 3


def _fit(**kwargs: Any) -> Callable[[], object]:
    def run() -> object:
        model, Xs, ys = _classifier()
        args = {
            "model": model,
            "loss_fn": bplib.CrossEntropyLoss(),
            "optimizer": optim.SGD(model.parameters(), lr=0.1),
            "X": Xs,
            "y": ys,
            "epochs": 2,
            "progress": False,
        }
        args.update(
            {k: (v(model) if callable(v) and k == "optimizer" else v) for k, v in kwargs.items()}
        )
        before = [p.data.copy() for p in model.parameters()]
        try:
            return train.fit(**args)
        except (TypeError, ValueError):
            for p, b in zip(model.parameters(), before, strict=True):
                np.testing.assert_array_equal(p.data, b)  # refused before the first step
            raise

    return run


def _fit_diverges() -> object:
    model = bplib.Sequential(bplib.Linear(1, 1, rng=0))
    Xs = np.linspace(-1, 1, 8).reshape(-1, 1) * 100
    try:
        train.fit(
            model,
            bplib.MSELoss(),
            optim.SGD(model.parameters(), lr=10.0),
            Xs,
            Xs * 3,
            epochs=50,
            progress=False,
        )
    except FloatingPointError as err:
        history = err.history  # type: ignore[attr-defined]
        assert isinstance(history, train.History)
        assert len(history.loss) == history.epochs  # the completed epochs, each recorded
        raise
    raise AssertionError("did not diverge")


# ------------------------------------------------------- the layers of chapter 10, saving,
# the exercises' helpers, early stopping and the practitioner's helpers
def _tmp_npz(name: str = "state.npz") -> str:
    import os
    import tempfile

    return os.path.join(tempfile.mkdtemp(), name)


def _fit_1d() -> object:
    model = bplib.Sequential(bplib.Linear(1, 1, rng=0))
    opt = bplib.optim.SGD(model.parameters())
    return bplib.fit(
        model, bplib.MSELoss(), opt, np.zeros(5), np.zeros((5, 1)), epochs=1, progress=False
    )


def _save_load_round_trip() -> bool:
    path = _tmp_npz()
    state = net().state_dict()
    bplib.save(state, path)
    back = bplib.load(path)
    return all(np.array_equal(back[k], v) for k, v in state.items())


def _fit_call(m: Any, X: Any, y: Any, epochs: Any, batch_size: Any) -> Any:
    opt = optim.SGD(m.parameters(), lr=0.1)
    h = bplib.fit(
        m,
        bplib.CrossEntropyLoss(),
        opt,
        X,
        y,
        epochs=epochs,
        batch_size=batch_size,
        rng=0,
        progress=False,
    )
    return [h.loss, [p.data for p in m.parameters()]]


def _saved_and_loaded(_: Any, value: Any) -> Any:
    path = _tmp_npz()
    bplib.save({"w": value}, path)
    return bplib.load(path)["w"]


ROWS: dict[str, list[Case]] = {
    "bplib.fit": [
        bad("a 1-D X", lambda: _fit_1d(), ValueError, r"fit: X must be 2-D.*X.reshape\(-1, 1\)"),
        bad(
            "a label out of range: refused before training",
            _fit(y=np.arange(12) % 4),
            ValueError,
            r"y do not suit this model and loss.*labels in 0..2 for 3 classes",
        ),
        bad(
            "float64 X_val for a float32 model: refused before training",
            _fit_float32_val(),
            TypeError,
            r"X_val and y_val do not suit this model.*float32 but the input has dtype float64",
        ),
        bad(
            "a validation label out of range",
            _fit(validation=(X(4), np.array([0, 1, 2, 5]))),
            ValueError,
            r"X_val and y_val do not suit.*got values from 0 to 5",
        ),
        bad(
            "labels as an (n, 1) column",
            _fit(y=(np.arange(12) % 3).reshape(-1, 1)),
            ValueError,
            r"expected integer labels of shape \(12,\).*got \(12, 1\)",
        ),
        bad(
            "divergence keeps the History of completed epochs",
            _fit_diverges,
            FloatingPointError,
            r"training diverged in epoch",
        ),
        bad("epochs=0", _fit(epochs=0), ValueError, r"epochs must be a positive integer, got 0"),
        bad(
            "model is a function",
            _fit(model=np.tanh),
            TypeError,
            r"model must be a bplib Module, got ufunc",
        ),
        bad(
            "X with NaN",
            _fit(X=np.full((12, 3), NaN)),
            ValueError,
            r"X contains 36 NaN or infinite",
        ),
        bad(
            "validation not a pair",
            _fit(validation=X(4)),
            TypeError,
            r"validation must be a pair \(X_val, y_val\)",
        ),
    ],
    "bplib.predict": [
        bad(
            "model is a function",
            lambda: train.predict(np.tanh, X()),
            TypeError,
            r"predict: model must be a bplib Module, got ufunc",
        ),
        bad(
            "X a list",
            lambda: train.predict(net(), X().tolist()),
            TypeError,
            r"X must be a numpy array, got list",
        ),
        ok("read-only X", lambda: train.predict(net(), readonly(X())), same(net()(X()))),
    ],
    "bplib.predict_classes": [
        bad(
            "model is a string",
            lambda: train.predict_classes("net", X()),
            TypeError,
            r"predict: model must be a bplib Module, got str 'net'",
        ),
        ok("labels", lambda: train.predict_classes(net(), X()).dtype, lambda d: d == np.int64),
    ],
    "bplib.train.evaluate": [
        bad(
            "model is None",
            lambda: train.evaluate(None, bplib.MSELoss(), X(), np.zeros((4, 2))),
            TypeError,
            r"evaluate: model must be a bplib Module, got None",
        ),
        bad(
            "loss_fn is a class",
            lambda: train.evaluate(net(), bplib.MSELoss, X(), np.zeros((4, 2))),
            TypeError,
            r"evaluate: loss_fn must be a bplib loss, got type",
        ),
        bad(
            "X and y of different lengths",
            lambda: train.evaluate(net(), bplib.MSELoss(), X(), np.zeros((3, 2))),
            ValueError,
            r"X and y must have the same number of examples",
        ),
    ],
    "bplib.callbacks.History": [
        bad(
            "best of an empty History",
            lambda: train.History().best(),
            ValueError,
            r"History is empty",
        ),
        bad(
            "an unknown series",
            lambda: train.History()["acc"],
            KeyError,
            r"History has no series 'acc'",
        ),
    ],
    "bplib.save": [
        bad("not a dict", lambda: bplib.save(3, _tmp_npz()), TypeError, r"got int"),
        bad(
            "an object array",
            lambda: bplib.save({"a": np.array([object()])}, _tmp_npz()),
            TypeError,
            r"'a' has dtype object",
        ),
        bad("a string value", lambda: bplib.save({"a": "x"}, _tmp_npz()), TypeError, r"'a' is str"),
        bad(
            "a path that is not a path",
            lambda: bplib.save({}, 3),
            TypeError,
            r"save expected a file path .*got int",
        ),
        ok("save then load gives the same arrays", _save_load_round_trip, lambda v: v),
    ],
    "bplib.load": [
        bad(
            "a path that is not a path",
            lambda: bplib.load(3),
            TypeError,
            r"load expected a file path .*got int",
        ),
    ],
    "bplib.callbacks.Callback": [
        ok(
            "the base class stops nothing",
            lambda: train.Callback().on_epoch_end(1, train.History(), net()),
            lambda v: not v,
        ),
    ],
    "bplib.callbacks.ModelCheckpoint": [
        bad(
            "a filepath that is not a path",
            lambda: bplib.train.ModelCheckpoint(3),
            TypeError,
            r"ModelCheckpoint: filepath must be a path \(str\), got 3",
        ),
        bad(
            "save_freq 0",
            lambda: bplib.train.ModelCheckpoint(_tmp_npz(), save_freq=0),
            ValueError,
            r"save_freq must be a positive integer, got 0",
        ),
        bad(
            "an unknown mode",
            lambda: bplib.train.ModelCheckpoint(_tmp_npz(), mode="up"),
            ValueError,
            r"mode must be 'auto', 'min' or 'max', got 'up'",
        ),
    ],
    "bplib.callbacks.CSVLogger": [
        bad(
            "a filename that is not a path",
            lambda: train.CSVLogger(3),
            TypeError,
            r"CSVLogger: filename must be a path \(str\), got 3",
        ),
        bad(
            "a two-character separator",
            lambda: train.CSVLogger(_tmp_npz(), separator=";;"),
            ValueError,
            r"separator must be one character .*got str ';;'",
        ),
        bad(
            "append 'yes'",
            lambda: train.CSVLogger(_tmp_npz(), append="yes"),
            TypeError,
            r"append must be True or False, got str 'yes'",
        ),
    ],
    "bplib.callbacks.EarlyStopping": [
        bad(
            "mode 'up'",
            lambda: train.EarlyStopping(mode="up"),
            ValueError,
            r"mode must be 'auto', 'min' or 'max', got 'up'",
        ),
        bad(
            "patience -1",
            lambda: train.EarlyStopping(patience=-1),
            ValueError,
            r"patience must be a non-negative integer, got -1",
        ),
        bad(
            "min_delta NaN",
            lambda: train.EarlyStopping(min_delta=NaN),
            ValueError,
            r"min_delta must be a finite number, got nan",
        ),
        bad(
            "monitor 3",
            lambda: train.EarlyStopping(monitor=3),
            TypeError,
            r"monitor must be a series name .*got 3",
        ),
    ],
}

SPECS: list[Spec] = [
    Spec(
        "bplib.fit",
        "fit",
        _fit_call,
        [
            ArrayArg("X", lambda: _xy()[0], r"\bX\b", valid=_X_OK, fixed_axes=(0, 1)),
            ArrayArg("y", lambda: _xy()[1], r"\by\b|label", valid=_LABELS, fixed_axes=(0,)),
            ScalarArg("epochs", 2, is_int(1)),
            ScalarArg("batch_size", 3, is_int(1, none=True)),
        ],
        setup=net_classifier,
        state=_model_state,
    ),
    Spec(
        "bplib.train.evaluate",
        "evaluate",
        lambda m, X, y: train.evaluate(m, bplib.CrossEntropyLoss(), X, y, metrics=["accuracy"]),
        [
            ArrayArg("X", lambda: _xy()[0], r"\bX\b|Linear", valid=_X_OK, fixed_axes=(0, 1)),
            ArrayArg("y", lambda: _xy()[1], r"\by\b|target|label", valid=_LABELS, fixed_axes=(0,)),
        ],
        setup=net_classifier,
        state=_model_state,
    ),
    Spec(
        "bplib.predict",
        "predict",
        lambda m, X: train.predict(m, X),
        [
            ArrayArg(
                "X", lambda: _xy()[0], r"\bX\b|Linear", valid=_X_OK, fixed_axes=(1,), skip=LEADING
            )
        ],
        setup=net_classifier,
        state=_model_state,
    ),
    Spec(
        "bplib.predict_classes",
        "predict_classes",
        lambda m, X: train.predict_classes(m, X),
        [
            ArrayArg(
                "X", lambda: _xy()[0], r"\bX\b|Linear", valid=_X_OK, fixed_axes=(1,), skip=LEADING
            )
        ],
        setup=net_classifier,
        state=_model_state,
    ),
    Spec(
        "bplib.save",
        "save then load",
        _saved_and_loaded,
        [
            ArrayArg(
                "value",
                lambda: X(2, 3, seed=1),
                r"'w'",
                valid=SAME_VALUES | {"int dtype", "bool dtype", "float32 dtype", "np.matrix"},
                passes_nonfinite=True,
                expect=lambda v: v,
                any_shape=True,
            )
        ],
    ),
    Spec(
        "bplib.callbacks.EarlyStopping",
        "EarlyStopping",
        lambda _, **kw: train.EarlyStopping(**kw).patience,
        [ScalarArg("patience", 2, is_int(0)), ScalarArg("min_delta", 0.1, is_real())],
    ),
]
