"""The probe's rows for bplib.init.

``ROWS``: the hand-written cases, by public name; ``SPECS``: the known-good calls whose
arguments the generated battery mutates (``common.battery``). ``table.py`` gathers them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import bplib
from bplib import init

from .common import (
    Case,
    NaN,
    ScalarArg,
    Spec,
    bad,
    is_int,
    is_real,
    ok,
    same,
)


def _init_cases(fn: Callable[..., np.ndarray], hyper: str | None) -> list[Case]:
    n = fn.__name__
    rows = [
        bad(
            "fan_in=0",
            lambda: fn(0, 3, rng=0),
            ValueError,
            rf"{n}: fan_in must be a positive integer, got 0",
        ),
        bad(
            "fan_in=-1",
            lambda: fn(-1, 3, rng=0),
            ValueError,
            rf"{n}: fan_in must be a positive integer, got -1",
        ),
        bad(
            "fan_in=2.5",
            lambda: fn(2.5, 3, rng=0),
            ValueError,
            rf"{n}: fan_in must be a positive integer, got 2.5",
        ),
        bad(
            "fan_out=True",
            lambda: fn(2, True, rng=0),
            ValueError,
            rf"{n}: fan_out must be a positive integer, got True",
        ),
        bad(
            "fan_in=None",
            lambda: fn(None, 3, rng=0),
            ValueError,
            rf"{n}: fan_in must be a positive integer, got None",
        ),
        bad(
            "dtype int64",
            lambda: fn(2, 3, rng=0, dtype=np.int64),
            TypeError,
            r"dtype must be float32 or float64, got int64",
        ),
        bad(
            "rng='seed'",
            lambda: fn(2, 3, rng="seed"),
            TypeError,
            r"rng must be an int seed.*got str",
        ),
        ok(
            "fan_in=np.int64(2), float32",
            lambda: fn(np.int64(2), 3, rng=0, dtype=np.float32),
            lambda w: w.shape == (2, 3) and w.dtype == np.float32,
        ),
    ]
    if hyper:
        rows += [
            bad(
                f"{hyper}=NaN",
                lambda: fn(2, 3, rng=0, **{hyper: NaN}),
                ValueError,
                rf"{hyper} must be a finite number >= 0, got nan",
            ),
            bad(
                f"{hyper}=-1",
                lambda: fn(2, 3, rng=0, **{hyper: -1.0}),
                ValueError,
                rf"{hyper} must be a finite number >= 0, got -1.0",
            ),
            bad(
                f"{hyper}='1'",
                lambda: fn(2, 3, rng=0, **{hyper: "1"}),
                TypeError,
                rf"{hyper} must be a real number, got str '1'",
            ),
        ]
    return rows


ROWS: dict[str, list[Case]] = {
    # ------------------------------------------------------------------------------- init
    "bplib.init.zeros": _init_cases(init.zeros, None),
    "bplib.init.normal": _init_cases(init.normal, "std"),
    "bplib.init.uniform": _init_cases(init.uniform, "bound"),
    "bplib.init.xavier_uniform": _init_cases(init.xavier_uniform, "gain"),
    "bplib.init.xavier_normal": _init_cases(init.xavier_normal, "gain"),
    "bplib.init.he_uniform": _init_cases(init.he_uniform, "negative_slope"),
    "bplib.init.he_normal": _init_cases(init.he_normal, "negative_slope"),
    "bplib.init.lecun_normal": _init_cases(init.lecun_normal, None),
    "bplib.init.as_rng": [
        bad(
            "a string",
            lambda: init.as_rng("seed"),
            TypeError,
            r"rng must be an int seed, a numpy.random.Generator or None, got str",
        ),
        bad("a float", lambda: init.as_rng(1.5), TypeError, r"got float"),
        ok(
            "np.int64(3)",
            lambda: init.as_rng(np.int64(3)).integers(100),
            same(np.random.default_rng(3).integers(100)),
        ),
    ],
    "bplib.init.get": [
        bad(
            "an unknown name",
            lambda: init.get("glorot"),
            ValueError,
            r"unknown init 'glorot'; expected one of",
        ),
        bad("a number", lambda: init.get(3), ValueError, r"unknown init 3"),  # type: ignore[arg-type]
    ],
    "bplib.manual_seed": [
        bad("a float", lambda: bplib.manual_seed(1.5), TypeError, r"got float"),
        bad("a string", lambda: bplib.manual_seed("a"), TypeError, r"got str"),
    ],
}

SPECS: list[Spec] = [
    *(
        Spec(
            f"bplib.init.{fn}",
            fn,
            lambda _, fn=fn, **kw: getattr(init, fn)(rng=0, **kw),
            [
                ScalarArg("fan_in", 3, is_int(1)),
                ScalarArg("fan_out", 2, is_int(1)),
                *[ScalarArg(n, v, dom) for n, (v, dom) in hyper.items()],
            ],
        )
        for fn, hyper in [
            ("zeros", {}),
            ("lecun_normal", {}),
            ("normal", {"std": (0.5, is_real(0.0))}),
            ("uniform", {"bound": (0.5, is_real(0.0, none=True))}),
            ("xavier_uniform", {"gain": (2.0, is_real(0.0))}),
            ("xavier_normal", {"gain": (2.0, is_real(0.0))}),
            ("he_uniform", {"negative_slope": (0.1, is_real(0.0))}),
            ("he_normal", {"negative_slope": (0.1, is_real(0.0))}),
        ]
    ),
]
