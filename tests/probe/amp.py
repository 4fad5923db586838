"""The probe's rows (see tests/test_probe.py) for bplib.amp and bplib.checkpoint."""

from __future__ import annotations

import warnings

import numpy as np

import bplib
from bplib.amp import GradScaler, MasterWeights
from bplib.checkpoint import Checkpoint, checkpoint_sequential

from .common import Case, bad, ok


def _sgd() -> bplib.optim.SGD:
    return bplib.optim.SGD([bplib.Parameter(np.ones(2, np.float32), "p")], lr=0.1)


def _half() -> bplib.Sequential:
    return bplib.Sequential(bplib.Linear(3, 2, rng=0, dtype=np.float16))


def _step_twice() -> None:
    scaler, opt = GradScaler(), _sgd()
    scaler.step(opt)
    scaler.step(opt)


def _update_first() -> None:
    GradScaler().update()


def _scale_of_a_list() -> object:
    return GradScaler().scale([1.0, 2.0])  # type: ignore[arg-type]


def _master_forward_float32() -> object:
    return MasterWeights(_half())(np.ones((2, 3), np.float32))


def _master_state() -> object:
    return MasterWeights(_half()).state_dict()


def _checkpoint_matrix() -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        m = np.asmatrix(np.ones((2, 3)))
    return Checkpoint(bplib.Sequential(bplib.Linear(3, 2, rng=0)))(m)


def _checkpoint_nan() -> object:
    ck = Checkpoint(bplib.Sequential(bplib.Linear(3, 2, rng=0), bplib.Tanh()))
    return ck(np.array([[np.nan, 0.0, 0.0]]))


AMP_ROWS: dict[str, list[Case]] = {
    "bplib.amp.GradScaler": [
        ok("the default scale is 2^16", lambda: GradScaler().get_scale(), lambda v: v == 65536.0),
        bad("init_scale 0", lambda: GradScaler(init_scale=0), ValueError, r"init_scale must be a finite number > 0, got 0"),
        bad("init_scale NaN", lambda: GradScaler(init_scale=float("nan")), ValueError, r"init_scale must be a finite number > 0, got nan"),
        bad("init_scale a string", lambda: GradScaler(init_scale="big"), TypeError, r"init_scale must be a real number, got str 'big'"),  # type: ignore[arg-type]
        bad("growth_factor 1", lambda: GradScaler(growth_factor=1.0), ValueError, r"growth_factor must be a finite number > 1, got 1.0"),
        bad("backoff_factor 0", lambda: GradScaler(backoff_factor=0.0), ValueError, r"backoff_factor must lie in \(0, 1\), got 0.0"),
        bad("growth_interval 2.0", lambda: GradScaler(growth_interval=2.0), ValueError, r"growth_interval must be a positive integer, got 2.0"),  # type: ignore[arg-type]
        bad("scale of a list", _scale_of_a_list, TypeError, r"expected a numpy array, got list"),
        bad("scale of integers", lambda: GradScaler().scale(np.arange(3)), TypeError, r"GradScaler.scale expected a floating array, got dtype int64"),
        bad("step on a model", lambda: GradScaler().step(_half()), TypeError, r"optimizer must be a bplib.optim optimiser, got Sequential"),  # type: ignore[arg-type]
        bad("step twice", _step_twice, RuntimeError, r"step\(\) has already been called since the last update\(\)"),
        bad("update before any step", _update_first, RuntimeError, r"no inf checks were recorded prior to update\(\)"),
        bad("float16 gradients", lambda: GradScaler().unscale_(bplib.optim.SGD(_half().parameters())), ValueError, r"attempting to unscale float16 gradients \(parameter 0, weight\)"),
        bad("load a list", lambda: GradScaler().load_state_dict([1]), TypeError, r"GradScaler.load_state_dict expected a dict, got list"),  # type: ignore[arg-type]
        bad("load wrong keys", lambda: GradScaler().load_state_dict({"scale": 1.0}), ValueError, r"expected the keys \[.*\], got \['scale'\]"),
        bad("update to scale -1", lambda: GradScaler().update(new_scale=-1.0), ValueError, r"new_scale must be a finite number > 0, got -1.0"),
    ],
    "bplib.amp.MasterWeights": [
        ok("float32 masters under the model's names", _master_state, lambda v: list(v) == ["0.weight", "0.bias"] and v["0.weight"].dtype == np.float32),
        bad("not a module", lambda: MasterWeights(np.ones(3)), TypeError, r"MasterWeights: model must be a bplib Module, got dtype float64, shape \(3,\)"),  # type: ignore[arg-type]
        bad("float32 input to a float16 model", _master_forward_float32, TypeError, r"has dtype float16 but the input has dtype float32"),
        bad("a list input", lambda: MasterWeights(_half())([[1.0, 2.0, 3.0]]), TypeError, r"expected a numpy array, got list"),  # type: ignore[arg-type]
        bad("backward before forward", lambda: MasterWeights(_half()).backward(np.ones((2, 2), np.float16)), RuntimeError, r"MasterWeights.backward\(\) called before forward\(\)"),
    ],
    "bplib.checkpoint.Checkpoint": [
        ok("a Linear, whole", lambda: Checkpoint(bplib.Linear(3, 2, rng=0))(np.ones((1, 3))).shape, lambda v: v == (1, 2)),
        bad("not a module", lambda: Checkpoint("net"), TypeError, r"Checkpoint: module must be a bplib Module, got str 'net'"),  # type: ignore[arg-type]
        bad("segments 0", lambda: Checkpoint(bplib.Tanh(), segments=0), ValueError, r"segments must be a positive integer, got 0"),
        bad("more segments than modules", lambda: Checkpoint(bplib.Sequential(bplib.Tanh()), segments=2), ValueError, r"segments must lie in 1..1 for a Sequential of 1 modules, got 2"),
        bad("segments of a layer", lambda: Checkpoint(bplib.Tanh(), segments=2), ValueError, r"segments=2 needs a Sequential to split, got Tanh"),
        bad("an np.matrix input", _checkpoint_matrix, TypeError, r"got an np.matrix"),
        bad("a list input", lambda: Checkpoint(bplib.Tanh())([1.0]), TypeError, r"expected a numpy array, got list"),  # type: ignore[arg-type]
        bad("backward before forward", lambda: Checkpoint(bplib.Tanh()).backward(np.ones((2, 2))), RuntimeError, r"Checkpoint.backward\(\) called before forward\(\)"),
        bad("a gradient of the wrong shape", lambda: (lambda c: (c(np.ones((2, 3))), c.backward(np.ones((3, 2)))))(Checkpoint(bplib.Linear(3, 2, rng=0))), ValueError, r"expected a gradient of shape \(2, 2\)"),
        ok("NaN passes through, as in the plain layers", _checkpoint_nan, lambda v: np.isnan(v).all()),
    ],
    "bplib.checkpoint.checkpoint_sequential": [
        ok("two segments", lambda: repr(checkpoint_sequential(bplib.Sequential(bplib.Tanh(), bplib.ReLU()), 2)).endswith("segments=2)"), lambda v: v is True),
        bad("not a Sequential", lambda: checkpoint_sequential(bplib.Tanh(), 1), TypeError, r"checkpoint_sequential: seq must be a bplib Sequential, got Tanh"),  # type: ignore[arg-type]
        bad("segments 1.5", lambda: checkpoint_sequential(bplib.Sequential(bplib.Tanh()), 1.5), ValueError, r"segments must be a positive integer, got 1.5"),  # type: ignore[arg-type]
    ],
}  # fmt: skip


ROWS = AMP_ROWS
SPECS: tuple = ()
