"""The probe's rows for bplib.plot.

``ROWS``: the hand-written cases, by public name; ``SPECS``: the known-good calls whose
arguments the generated battery mutates (``common.battery``). ``table.py`` gathers them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import bplib
from bplib import train

from .common import (
    _LABELS,
    _X_OK,
    ArrayArg,
    Case,
    NaN,
    Spec,
    X,
    _model_state,
    bad,
    net,
    ok,
)


def draw() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from bplib import plot

    return plot.draw_graph


# ----------------------------------------------------------------------- plot, symbolic
def _hist() -> Any:
    return train.History(loss=[1.0, 0.5])


def _plot(fn_name: str, *args: Any, **kwargs: Any) -> Callable[[], object]:
    def run() -> object:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from bplib import plot

        try:
            return getattr(plot, fn_name)(*args, **kwargs)
        finally:
            plt.close("all")

    return run


def _bowl(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return x**2 + y**2


def _diagram_net() -> bplib.Sequential:
    return bplib.Sequential(bplib.Linear(2, 2, rng=0), bplib.Sigmoid())


def _axes_data(ax: Any) -> Any:
    import matplotlib.pyplot as plt

    data = [np.asarray(c.get_offsets()) for c in ax.collections if len(c.get_offsets())]
    data += [np.asarray(im.get_array()) for im in ax.images]
    plt.close(ax.figure)
    return data


def _plot_call(fn_name: str, *fixed: Any) -> Callable[..., Any]:
    def call(model: Any, **kw: Any) -> Any:
        import matplotlib

        matplotlib.use("Agg")
        fn = getattr(bplib.plot, fn_name)
        args = (model, *fixed) if model is not None else fixed
        try:
            return _axes_data(fn(*args, **kw))
        finally:
            import matplotlib.pyplot as plt

            plt.close("all")

    return call


def _paths(_: Any, path: Any) -> Any:
    return _plot_call("optimizer_paths", _bowl)(
        None, paths={"sgd": path}, xlim=(-2.0, 2.0), ylim=(-2.0, 2.0)
    )


ROWS: dict[str, list[Case]] = {
    "bplib.plot.draw_graph": [
        bad(
            "not a Tensor",
            lambda: draw()(np.ones(2)),
            TypeError,
            r"draw_graph expected a Tensor, got ndarray",
        ),
    ],
    "bplib.plot.optimizer_paths": [
        bad(
            "xlim=(1.0,)",
            _plot(
                "optimizer_paths",
                _bowl,
                {"gd": np.zeros((2, 2))},
                xlim=(1.0,),
                ylim=(-1.0, 1.0),
            ),
            ValueError,
            r"optimizer_paths: xlim must be a pair \(lo, hi\), got \(1.0,\)",
        ),
        bad(
            "ylim reversed",
            _plot(
                "optimizer_paths",
                _bowl,
                {"gd": np.zeros((2, 2))},
                xlim=(-1.0, 1.0),
                ylim=(1.0, -1.0),
            ),
            ValueError,
            r"ylim must have lo < hi, got \(1.0, -1.0\)",
        ),
        bad(
            "xlim with NaN",
            _plot(
                "optimizer_paths",
                _bowl,
                {"gd": np.zeros((2, 2))},
                xlim=(NaN, 1.0),
                ylim=(-1.0, 1.0),
            ),
            ValueError,
            r"xlim\[0\] must be a finite number, got nan",
        ),
        bad(
            "a path of the wrong shape",
            _plot(
                "optimizer_paths",
                _bowl,
                {"gd": np.zeros((2, 3))},
                xlim=(-1.0, 1.0),
                ylim=(-1.0, 1.0),
            ),
            ValueError,
            r"path 'gd' must have shape \(steps \+ 1, 2\), got \(2, 3\)",
        ),
    ],
    "bplib.plot.decision_boundary": [
        bad(
            "3-D inputs",
            _plot("decision_boundary", net(), X(), np.zeros(4, int)),
            ValueError,
            r"decision_boundary: X must have shape \(batch >= 1, 2\), got \(4, 3\)",
        ),
    ],
    "bplib.plot.loss_curves": [
        bad(
            "not a History",
            _plot("loss_curves", [1.0, 2.0]),
            TypeError,
            r"histories must be a History .* got list",
        ),
        ok("one History", _plot("loss_curves", _hist()), lambda ax: ax is not None),
    ],
    "bplib.plot.confusion_matrix": [
        bad(
            "float labels",
            _plot("confusion_matrix", np.array([0.5, 1.0]), np.array([0, 1])),
            TypeError,
            r"y_true must be a 1-D array of integer labels",
        ),
    ],
    "bplib.plot.Table": [
        bad(
            "a short row",
            lambda: bplib.plot.Table(["a", "b"], [["1"]]),
            ValueError,
            r"row 0 of the table has 1 cells, expected 2",
        ),
    ],
    "bplib.plot.network_diagram": [
        bad(
            "not a Sequential",
            lambda: bplib.plot.network_diagram(3, np.zeros((1, 2)), np.zeros((1, 2))),
            TypeError,
            r"network_diagram: model must be a bplib.Sequential, got 3",
        ),
        bad(
            "two examples",
            lambda: bplib.plot.network_diagram(_diagram_net(), np.zeros((2, 2)), np.zeros((2, 2))),
            ValueError,
            r"one example.*got shape \(2, 2\)",
        ),
    ],
}

SPECS: list[Spec] = [
    Spec(
        "bplib.plot.decision_boundary",
        "decision_boundary",
        _plot_call("decision_boundary"),
        [
            ArrayArg(
                "X",
                lambda: X(6, 2, seed=3),
                r"\bX\b|\by\b",
                valid=_X_OK | {"float32 dtype"},
                fixed_axes=(0, 1),
            ),
            ArrayArg(
                "y", lambda: np.array([0, 1, 1, 0, 1, 0]), r"\by\b", valid=_LABELS, fixed_axes=(0,)
            ),
        ],
        setup=lambda: bplib.Sequential(bplib.Linear(2, 2, rng=0)),
        state=_model_state,
    ),
    Spec(
        "bplib.plot.confusion_matrix",
        "plot.confusion_matrix",
        _plot_call("confusion_matrix"),
        [
            ArrayArg(
                "y_true",
                lambda: np.array([0, 1, 2, 2, 1]),
                r"y_true",
                valid=_LABELS,
                fixed_axes=(0,),
            ),
            ArrayArg(
                "y_pred",
                lambda: np.array([0, 2, 2, 1, 1]),
                r"y_pred",
                valid=_LABELS,
                fixed_axes=(0,),
            ),
        ],
    ),
    Spec(
        "bplib.plot.network_diagram",
        "network_diagram",
        _plot_call("network_diagram"),
        [
            ArrayArg(
                "x",
                lambda: X(1, 2, seed=3),
                r"\bx\b|Linear",
                valid=_X_OK | {"float32 dtype", "list", "np.matrix"},
                fixed_axes=(1,),
            ),
            ArrayArg(
                "grad_out",
                lambda: X(1, 2, seed=4),
                r"grad_out|Sigmoid",
                valid=_X_OK | {"float32 dtype", "list", "np.matrix"},
                fixed_axes=(0, 1),
            ),
        ],
        setup=_diagram_net,
        state=_model_state,
    ),
    Spec(
        "bplib.plot.optimizer_paths",
        "optimizer_paths",
        _paths,
        [
            ArrayArg(
                "path",
                lambda: np.linspace(-1.5, 0.0, 10).reshape(5, 2),
                r"path|sgd",
                valid=_X_OK | {"float32 dtype", "list", "np.matrix"},
                fixed_axes=(1,),
            )
        ],
    ),
]
