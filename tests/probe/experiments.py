"""The probe's rows for bplib.experiments and bplib.landscape.

``ROWS``: the hand-written cases, by public name; ``SPECS``: the known-good calls whose
arguments the generated battery mutates (``common.battery``). ``table.py`` gathers them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import bplib
from bplib import experiments

from .common import (
    _LABELS,
    _X_OK,
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
)

# ----------------------------------------------------------- experiments and landscape
EX = experiments


def _line(m: Any, X: Any, y: Any, start: Any, end: Any) -> Any:
    return bplib.landscape.loss_along_line(
        m, bplib.CrossEntropyLoss(), X, y, start, end, [0.0, 0.5, 1.0]
    )


def _stats(m: Any, x: Any, grad_out: Any) -> Any:
    s = EX.layer_statistics(m, x, grad_out)
    return list(s.as_dict().values())


def _plane(m: Any, center: Any, d1: Any, d2: Any) -> Any:
    X_, y_ = _xy()
    return bplib.landscape.loss_on_plane(
        m, bplib.CrossEntropyLoss(), X_, y_, center, d1, d2, [-1.0, 0.0, 1.0], [0.0, 0.5]
    )


_THETA_OK = _X_OK | {"float32 dtype"}


ROWS: dict[str, list[Case]] = {
    "bplib.experiments.layer_statistics": [
        bad(
            "NaN input",
            lambda: EX.layer_statistics(net(), np.full((4, 3), NaN), np.ones((4, 2))),
            ValueError,
            r"layer_statistics: x must be finite, got 12 NaN and 0 infinite entries",
        ),
        bad(
            "both grad_output and loss_fn",
            lambda: EX.layer_statistics(net(), X(), np.ones((4, 2)), loss_fn=bplib.MSELoss()),
            ValueError,
            r"exactly one way to start the backward pass.*got both",
        ),
        bad(
            "grad_output of the wrong shape",
            lambda: EX.layer_statistics(net(), X(), np.ones(4)),
            ValueError,
            r"got \(4,\)",
        ),
    ],
    "bplib.experiments.ratio_tolerance": [
        bad(
            "z=-4",
            lambda: EX.ratio_tolerance(16, 4, 8, z=-4),
            ValueError,
            r"ratio_tolerance: z \(the number of standard errors\) must be a finite number > 0, got -4",
        ),
        bad("z=NaN", lambda: EX.ratio_tolerance(16, 4, 8, z=NaN), ValueError, r"got nan"),
        bad(
            "depth=1",
            lambda: EX.ratio_tolerance(16, 1, 8),
            ValueError,
            r"needs depth >= 2 layers, got depth=1",
        ),
        ok("a positive tolerance", lambda: EX.ratio_tolerance(16, 4, 8), lambda t: t > 0),
    ],
    "bplib.experiments.measure": [
        bad(
            "depth=1",
            lambda: EX.measure("tanh", "xavier_normal", depth=1, width=4, n_seeds=1, batch=4),
            ValueError,
            r"measure: depth .* must be an integer >= 2, got 1",
        ),
        bad(
            "an unknown activation",
            lambda: EX.measure("swish", "xavier_normal", depth=2, width=4),
            ValueError,
            r"swish",
        ),
        bad(
            "n_seeds=0",
            lambda: EX.measure("tanh", "xavier_normal", depth=2, width=4, n_seeds=0),
            ValueError,
            r"n_seeds must be a positive integer, got 0",
        ),
        ok(
            "its repr works",
            lambda: repr(EX.measure("tanh", "xavier_normal", depth=2, width=4, n_seeds=1, batch=4)),
            lambda r: r.startswith("Measurement("),
        ),
    ],
    "bplib.experiments.sweep": [
        bad(
            "an unknown init",
            lambda: EX.sweep(["tanh"], ["glorot"], [2], [4], n_seeds=1, batch=4),
            ValueError,
            r"glorot",
        ),
    ],
    "bplib.experiments.random_network": [
        bad(
            "width=0",
            lambda: EX.random_network(2, 0, "tanh", "xavier_normal"),
            ValueError,
            r"width must be a positive integer, got 0",
        ),
        bad(
            "input_std=-1",
            lambda: EX.random_network(2, 2, "tanh", "xavier_normal", input_std=-1.0),
            ValueError,
            r"random_network: input_std must be a finite number > 0, got -1.0",
        ),
    ],
    "bplib.experiments.predicted_ratio": [
        bad(
            "fan_in=0",
            lambda: EX.predicted_ratio("tanh", "xavier_normal", 0),
            ValueError,
            r"fan_in must be a positive integer, got 0",
        ),
        bad(
            "an unknown activation",
            lambda: EX.predicted_ratio("swish", "xavier_normal", 4),
            ValueError,
            r"swish",
        ),
    ],
    "bplib.experiments.weight_variance": [
        bad("an unknown init", lambda: EX.weight_variance("glorot", 4, 4), ValueError, r"glorot"),
        bad(
            "fan_out=-1",
            lambda: EX.weight_variance("xavier_normal", 4, -1),
            ValueError,
            r"fan_out must be a positive integer, got -1",
        ),
    ],
    "bplib.experiments.derivative_mean_square": [
        bad(
            "an unknown activation",
            lambda: EX.derivative_mean_square("swish"),
            ValueError,
            r"swish",
        ),
        bad("a number", lambda: EX.derivative_mean_square(3), ValueError, r"3"),
    ],
    "bplib.experiments.table": [
        bad(
            "no measurements",
            lambda: EX.table([]),
            ValueError,
            r"table needs at least one Measurement, got none",
        ),
    ],
    "bplib.experiments.format_table": [
        bad(
            "no measurements",
            lambda: EX.format_table([]),
            ValueError,
            r"needs at least one Measurement, got none",
        ),
    ],
    "bplib.experiments.LayerStats": [
        ok(
            "a dataclass of arrays",
            lambda: EX.LayerStats.__dataclass_fields__.keys(),
            lambda k: "delta_std" in k,
        ),
    ],
    "bplib.experiments.Measurement": [
        ok(
            "built by measure",
            lambda: type(EX.measure("relu", "he_normal", depth=2, width=4, n_seeds=1, batch=4)),
            lambda t: t is EX.Measurement,
        ),
    ],
    "bplib.landscape.loss_along_line": [
        bad(
            "start of the wrong length",
            lambda: bplib.landscape.loss_along_line(
                net(),
                bplib.MSELoss(),
                X(),
                np.zeros((4, 2)),
                np.zeros(3),
                np.zeros(26),
                [0.0, 1.0],
            ),
            ValueError,
            r"start must be a parameter vector of shape \(26,\)",
        ),
    ],
    "bplib.landscape.loss_on_plane": [
        bad(
            "empty alphas",
            lambda: bplib.landscape.loss_on_plane(
                net(),
                bplib.MSELoss(),
                X(),
                np.zeros((4, 2)),
                np.zeros(26),
                np.zeros(26),
                np.zeros(26),
                [],
                [0.0],
            ),
            ValueError,
            r"alphas must be a non-empty 1-D sequence",
        ),
    ],
}

SPECS: list[Spec] = [
    Spec(
        "bplib.landscape.loss_along_line",
        "loss_along_line",
        _line,
        [
            ArrayArg("X", lambda: _xy()[0], r"\bX\b|Linear", valid=_X_OK, fixed_axes=(0, 1)),
            ArrayArg("y", lambda: _xy()[1], r"\by\b|target|label", valid=_LABELS, fixed_axes=(0,)),
            ArrayArg(
                "start",
                lambda: np.linspace(-1, 1, 8),
                r"start",
                valid=_X_OK | {"float32 dtype"},
                fixed_axes=(0,),
            ),
            ArrayArg(
                "end",
                lambda: np.linspace(1, -1, 8),
                r"\bend\b",
                valid=_X_OK | {"float32 dtype"},
                fixed_axes=(0,),
            ),
        ],
        setup=net_classifier,
        state=_model_state,
    ),
    Spec(
        "bplib.experiments.layer_statistics",
        "layer_statistics",
        _stats,
        [
            ArrayArg("x", lambda: X(4, 3, seed=9), r"\bx\b", valid=_X_OK, fixed_axes=(1,)),
            ArrayArg("grad_out", lambda: X(4, 2, seed=10), r"grad_out", fixed_axes=(0, 1)),
        ],
        setup=net,
        state=_model_state,
    ),
    Spec(
        "bplib.experiments.ratio_tolerance",
        "ratio_tolerance",
        lambda _, width, depth, n_seeds, z: EX.ratio_tolerance(width, depth, n_seeds, z),
        [
            ScalarArg("width", 16, is_int(1)),
            ScalarArg("depth", 4, is_int(1)),
            ScalarArg("n_seeds", 8, is_int(1)),
            ScalarArg("z", 4.0, is_real(0.0, low_open=True)),
        ],
    ),
    Spec(
        "bplib.experiments.predicted_ratio",
        "predicted_ratio",
        lambda _, fan_in, fan_out: EX.predicted_ratio("tanh", "xavier_uniform", fan_in, fan_out),
        [ScalarArg("fan_in", 16, is_int(1)), ScalarArg("fan_out", 8, is_int(1, none=True))],
    ),
    Spec(
        "bplib.experiments.weight_variance",
        "weight_variance",
        lambda _, fan_in, fan_out: EX.weight_variance("he_normal", fan_in, fan_out),
        [ScalarArg("fan_in", 16, is_int(1)), ScalarArg("fan_out", 8, is_int(1))],
    ),
    Spec(
        "bplib.experiments.random_network",
        "random_network",
        lambda _, depth, width, batch, input_std: EX.random_network(
            depth, width, "tanh", "xavier_normal", rng=0, batch=batch, input_std=input_std
        )[1:],
        [
            ScalarArg("depth", 2, is_int(1)),
            ScalarArg("width", 4, is_int(1)),
            ScalarArg("batch", 3, is_int(2)),
            ScalarArg("input_std", 1.0, is_real(0.0, low_open=True)),
        ],
    ),
    Spec(
        "bplib.landscape.loss_on_plane",
        "loss_on_plane",
        _plane,
        [
            ArrayArg(n, lambda s=s: np.linspace(-1, 1, 8) * s, n, valid=_THETA_OK, fixed_axes=(0,))
            for n, s in (("center", 1.0), ("d1", 0.5), ("d2", -0.25))
        ],
        setup=net_classifier,
        state=_model_state,
    ),
    Spec(
        "bplib.experiments.measure",
        "measure",
        lambda _, **kw: EX.measure("tanh", "xavier_normal", **kw).per_seed.as_dict(),
        [
            ScalarArg("depth", 2, is_int(2)),
            ScalarArg("width", 3, is_int(1)),
            ScalarArg("n_seeds", 2, is_int(2)),
            ScalarArg("batch", 4, is_int(2)),
            # 1e300: statistics beyond the float range come out inf (left, see the report)
            ScalarArg("input_std", 1.0, is_real(0.0, low_open=True), skip=frozenset({"1e300"})),
        ],
    ),
]
